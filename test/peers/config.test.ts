import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadInputError } from '../../core/model/errors.js';
import { nameProblem, normalizeFingerprint, parsePeers, peersFile, readPeers, readPeersWithTokens, readTokens, tokensFile, updatePeers, writePeers, writeTokens } from '../../core/peers/config.js';

const FP = 'ab'.repeat(32);
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-peers-'));
  env = { XDG_CONFIG_HOME: dir, HOME: '/nonexistent' };
  mkdirSync(join(dir, 'outpost'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (text: string) => writeFileSync(peersFile(env), text);

describe('peers config', () => {
  it('lives in $XDG_CONFIG_HOME/outpost, else ~/.config/outpost', () => {
    expect(peersFile(env)).toBe(join(dir, 'outpost', 'peers.json'));
    expect(peersFile({ HOME: '/home/u' })).toBe('/home/u/.config/outpost/peers.json');
    expect(tokensFile(env)).toBe(join(dir, 'outpost', 'peer-tokens.json'));
  });

  it('no file: no peers', () => {
    expect(readPeers(env)).toEqual([]);
    expect(readTokens(env)).toEqual({});
  });

  it('round-trips agent and engine peers; the fingerprint is normalised', () => {
    writePeers([{ name: 'gw-1', kind: 'agent', url: 'https://gw-1:7443', fingerprint: FP }, { name: 'edge', kind: 'engine', url: 'ssh://me@edge' }], env);
    expect(readPeers(env)).toEqual([
      { name: 'gw-1', kind: 'agent', url: 'https://gw-1:7443', fingerprint: FP },
      { name: 'edge', kind: 'engine', url: 'ssh://me@edge' },
    ]);
    expect(normalizeFingerprint(FP.toUpperCase().match(/../g)!.join(':'))).toBe(FP);
  });

  it('tokens: a separate file of mode 0600, never in peers.json', () => {
    writePeers([{ name: 'gw-1', kind: 'agent', url: 'https://gw-1:7443', fingerprint: FP }], env);
    writeTokens({ 'gw-1': 'secret' }, env);
    expect(statSync(tokensFile(env)).mode & 0o777).toBe(0o600);
    expect(readFileSync(peersFile(env), 'utf8')).not.toContain('secret');
    expect(readPeersWithTokens(env)).toEqual([{ name: 'gw-1', kind: 'agent', url: 'https://gw-1:7443', fingerprint: FP, token: 'secret' }]);
    write(JSON.stringify({ peers: [{ name: 'gw-1', kind: 'agent', url: 'https://gw-1', fingerprint: FP, token: 'x' }] }));
    expect(() => readPeers(env)).toThrow(/peers\[0\] \(gw-1\)\.token: tokens belong in peer-tokens\.json/);
  });

  it('names: 1–63 of [a-z0-9-], starting with a letter or digit, not local', () => {
    expect(nameProblem('gw-2')).toBeNull();
    expect(nameProblem('a'.repeat(63))).toBeNull();
    for (const bad of ['', '-x', 'Gw', 'a_b', 'a'.repeat(64), 'local', 'a b']) expect(nameProblem(bad)).not.toBeNull();
  });

  it.each([
    ['garbage', '{not json', /peers\.json is not valid JSON/],
    ['no peers array', '{"peers": 3}', /the field `peers` must be an array/],
    ['a bad name', JSON.stringify({ peers: [{ name: 'Bad', kind: 'engine', url: 'ssh://h' }] }), /peers\[0\]\.name `Bad` is not a valid name/],
    ['a duplicate name', JSON.stringify({ peers: [{ name: 'a', kind: 'engine', url: 'ssh://h' }, { name: 'a', kind: 'engine', url: 'ssh://g' }] }), /peers\[1\]\.name `a` is used twice/],
    ['a bad kind', JSON.stringify({ peers: [{ name: 'a', kind: 'x', url: 'ssh://h' }] }), /peers\[0\] \(a\)\.kind must be "agent" or "engine"/],
    ['an http agent', JSON.stringify({ peers: [{ name: 'a', kind: 'agent', url: 'http://h', fingerprint: FP }] }), /peers\[0\] \(a\)\.url .*https/],
    ['a missing fingerprint', JSON.stringify({ peers: [{ name: 'a', kind: 'agent', url: 'https://h' }] }), /peers\[0\] \(a\)\.fingerprint must be the SHA-256/],
    ['an engine URL of a bad scheme', JSON.stringify({ peers: [{ name: 'a', kind: 'engine', url: 'ftp://h' }] }), /\.url .*ssh:\/\/, tcp:\/\/ or unix:\/\//],
    ['a relative socket', JSON.stringify({ peers: [{ name: 'a', kind: 'engine', url: 'unix://x.sock' }] }), /absolute socket path/],
    ['an unknown field', JSON.stringify({ peers: [{ name: 'a', kind: 'engine', url: 'ssh://h', colour: 1 }] }), /\(a\)\.colour is not a peer field/],
  ])('refuses %s, naming the file and the field', (_what, text, message) => {
    write(text);
    const f = peersFile(env);
    expect(() => readPeers(env)).toThrow(BadInputError);
    expect(() => readPeers(env)).toThrow(message);
    expect(() => readPeers(env)).toThrow(f);
  });

  it('refuses a FIFO (without blocking), a directory and a huge file', () => {
    execFileSync('mkfifo', [peersFile(env)]);
    expect(() => readPeers(env)).toThrow(/is not a regular file \(a FIFO\)/);
    rmSync(peersFile(env));
    mkdirSync(peersFile(env));
    expect(() => readPeers(env)).toThrow(/a directory/);
    rmSync(peersFile(env), { recursive: true });
    write(`{"peers":[],"pad":"${'x'.repeat(300 * 1024)}"}`);
    expect(() => readPeers(env)).toThrow(/at most 256\.0 KiB is read/);
  });

  it('never writes a bad list, and a failed write keeps the old file', () => {
    writePeers([{ name: 'a', kind: 'engine', url: 'ssh://h' }], env);
    const before = readFileSync(peersFile(env), 'utf8');
    expect(() => writePeers([{ name: 'local', kind: 'engine', url: 'ssh://h' }], env)).toThrow(/`local` is this machine's node/);
    expect(readFileSync(peersFile(env), 'utf8')).toBe(before);
    // The temp file cannot be made (a directory is in its place): the write fails, the old file stays whole.
    mkdirSync(`${peersFile(env)}.${process.pid}.tmp`);
    expect(() => updatePeers(env, (p) => [...p, { name: 'b', kind: 'engine', url: 'ssh://g' }])).toThrow();
    expect(readFileSync(peersFile(env), 'utf8')).toBe(before);
    expect(readPeers(env)).toEqual([{ name: 'a', kind: 'engine', url: 'ssh://h' }]);
  });

  it('parsePeers accepts an empty list', () => {
    expect(parsePeers('{"peers":[]}', 'f')).toEqual([]);
  });
});
