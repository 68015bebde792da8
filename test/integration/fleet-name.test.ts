/**
 * This machine's fleet name from every face of the CLI: with placement.yaml
 * naming it `site-a`, the fast `ps`, the full `ps`, `ps --all-nodes` and a
 * placement constraint on `node` all mean this machine by that name, and
 * `local` stays an alias on input. Before, the CLI said `local` where peers
 * and journals said `a`, and `node in (a, b)` was refused on a itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outpost } from '../harness/cli.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';

const P = 'fleetname-';
const home = mkdtempSync(join(tmpdir(), 'op-fleet-name-'));
const env = { XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') };

beforeAll(async () => {
  mkdirSync(join(home, 'config', 'outpost'), { recursive: true });
  writeFileSync(join(home, 'config', 'outpost', 'placement.yaml'), 'node: site-a\n');
  await makeContainer(docker(), { name: `${P}web`, cmd: 'sleep 3600' });
});

afterAll(async () => {
  rmSync(home, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

const nodesOf = (json: string) => new Set((JSON.parse(json) as { name: string; node: string }[]).filter((c) => c.name.startsWith(P)).map((c) => c.node));

describe("this machine's fleet name", () => {
  it('is what ps says on the fast path, the full path (by name and by the local alias) and across all nodes', async () => {
    for (const args of [['ps', '--json'], ['ps', '--json', '--node', 'local'], ['ps', '--json', '--node', 'site-a'], ['ps', '--json', '--all-nodes']]) {
      const r = await outpost(args, env);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
      expect([...nodesOf(r.stdout)], args.join(' ')).toEqual(['site-a']);
    }
  });

  it('is what a placement constraint on node matches here', async () => {
    const file = join(home, 'web.yaml');
    writeFileSync(file, `name: ${P}placed\nimage: ${TEST_IMAGE}\ncommand: ["sleep", "3600"]\nconstraints: ["node in (site-a, site-b)"]\n`);
    const r = await outpost(['place', file, '--dry-run', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"site-a"');
    const other = join(home, 'elsewhere.yaml');
    writeFileSync(other, `name: ${P}elsewhere\nimage: ${TEST_IMAGE}\nconstraints: ["node == site-b"]\n`);
    const no = await outpost(['place', other, '--dry-run'], env);
    expect(no.code).toBe(3);
    expect(no.stdout + no.stderr).toContain('node is site-a');
  });

  it('refuses a peer under this machine\'s own name', async () => {
    const r = await outpost(['peers', 'add', 'tcp://127.0.0.1:9', '--name', 'site-a'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("`site-a` is this machine's own name");
  });

  it('host --node on an engine-only peer says it reports no host figures instead of showing this machine\'s', async () => {
    const add = await outpost(['peers', 'add', dockerHost(), '--name', 'box-2'], env);
    expect(add.stderr).toBe('');
    const r = await outpost(['host', '--node', 'box-2', '--json'], env);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('box-2 reports no host figures: it is an engine-only peer');
    const here = await outpost(['host', '--json'], env);
    expect(here.code).toBe(0);
    expect(JSON.parse(here.stdout).node).toBe('site-a');
    await outpost(['peers', 'remove', 'box-2'], env);
  });

  it('names this machine among the known nodes when --node names none', async () => {
    const r = await outpost(['ps', '--node', 'nope'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Known nodes: site-a');
  });
});
