/**
 * This machine's fleet name, as the faces read it from placement.yaml with a
 * line scan (core/peers/node-name.ts), and as the agent reads it with the
 * full checker: the two never disagree, because the checker refuses a file
 * whose `node:` the scan would read differently.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlacementConfig } from '../../core/placement/controller.js';
import { LOCAL_ALIAS, meansThisMachine, scanNodeName, thisNodeName } from '../../core/peers/node-name.js';

const dir = mkdtempSync(join(tmpdir(), 'op-node-name-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES: [string, string | null][] = [
  ['node: a\n', 'a'],
  ['node: "edge-2"\n', 'edge-2'],
  ["node: 'n3' # the third\n", 'n3'],
  ['\ufeffnode: a\r\nfailover:\r\n  lost_after: 30s\r\n', 'a'],
  ['failover:\n  node: x\nnode: b\n', 'b'],
  ['node: local\n', null],
  ['node: A\n', null],
  ['node: a b\n', null],
  ['node: a\nnode: b\n', null],
  ['{node: a}\n', null],
  ['"node": a\n', null],
  ['node: |\n  a\n', null],
  ['node: &x a\n', null],
  ['', null],
  [`node: ${'a'.repeat(64)}\n`, null],
  ['node: "a\x1b]0;x\x07"\n', null],
];

describe('scanNodeName', () => {
  it.each(CASES)('reads %j as %j', (text, want) => {
    expect(scanNodeName(text)).toBe(want);
  });

  it.each(CASES)('agrees with the placement.yaml checker on %j (the checker refuses what the scan reads otherwise)', (text) => {
    const { config } = parsePlacementConfig(text, 'placement.yaml');
    if (config) expect(scanNodeName(text)).toBe(config.node);
  });

  it('says how to write a name the scan cannot read', () => {
    const { config, issues } = parsePlacementConfig('{node: a}\n', 'placement.yaml');
    expect(config).toBeNull();
    expect(issues.map((i) => i.message).join('\n')).toContain('`node: a`');
  });
});

describe('thisNodeName', () => {
  const env = (name: string) => ({ XDG_CONFIG_HOME: join(dir, name) });
  const write = (name: string, text: string) => {
    mkdirSync(join(dir, name, 'outpost'), { recursive: true });
    writeFileSync(join(dir, name, 'outpost', 'placement.yaml'), text);
  };

  it('is placement.yaml\'s node, and `local` without one, with a broken one, or a FIFO in its place', () => {
    write('named', 'node: a\nfailover:\n  lost_after: 40s\n');
    expect(thisNodeName(env('named'))).toBe('a');
    expect(thisNodeName(env('none'))).toBe(LOCAL_ALIAS);
    write('broken', 'node: [a\n');
    expect(thisNodeName(env('broken'))).toBe(LOCAL_ALIAS);
    mkdirSync(join(dir, 'dir', 'outpost', 'placement.yaml'), { recursive: true });
    expect(thisNodeName(env('dir'))).toBe(LOCAL_ALIAS);
  });

  it('takes `local` and the own name as this machine on input, nothing else', () => {
    expect(meansThisMachine('local', 'a')).toBe(true);
    expect(meansThisMachine('a', 'a')).toBe(true);
    expect(meansThisMachine('b', 'a')).toBe(false);
  });
});
