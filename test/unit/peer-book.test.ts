import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeJoinCode } from '../../core/api/join-code.js';
import { BadInputError } from '../../core/model/errors.js';
import { cliLabel, defaultName, formLabel, planPeer, removePeer, renamePeer, savePeer } from '../../core/peers/book.js';
import { peersFile, readPeers, readTokens, tokensFile } from '../../core/peers/config.js';

const FP = `${'AB:'.repeat(31)}AB`;
const TOKEN = `op_${'x'.repeat(43)}`;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-book-'));
  env = { XDG_CONFIG_HOME: dir, HOME: '/nonexistent' };
  mkdirSync(join(dir, 'outpost'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function refused(p: Promise<unknown>): Promise<BadInputError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return err as BadInputError;
  }
  throw new Error('accepted');
}

describe('peer book', () => {
  it('makes a name from the host, and a whole address from an address', () => {
    expect(defaultName('https://gw-2.site.example:7443')).toBe('gw-2');
    expect(defaultName('https://127.0.0.2:7443')).toBe('127-0-0-2');
    expect(defaultName('https://[fd00::7]:7443')).toBe('fd00-7');
    expect(defaultName('ssh://pi@Cabinet_4.local')).toBe('cabinet-4');
    expect(defaultName('unix:///run/user/1000/docker.sock')).toBe('docker');
    expect(defaultName('https://local:7443')).toBeNull();
  });

  it('plans from a join code; the form names its fields, the CLI its flags', async () => {
    const code = encodeJoinCode({ url: 'https://10.0.0.7:7443', fingerprint: FP, token: TOKEN });
    expect(await planPeer(env, { target: code }, formLabel)).toEqual({ name: '10-0-0-7', kind: 'agent', url: 'https://10.0.0.7:7443', fingerprint: 'ab'.repeat(32), token: TOKEN });
    expect((await refused(planPeer(env, { target: code, fingerprint: 'cd'.repeat(32) }, formLabel))).message).toMatch(/^fingerprint differs from the join code's/);
    expect((await refused(planPeer(env, { target: code, fingerprint: 'cd'.repeat(32) }, cliLabel))).message).toMatch(/^--fingerprint differs/);
    expect((await refused(planPeer(env, { target: 'https://gw:7443' }, formLabel))).details).toEqual({ field: 'token' });
  });

  it('refuses hostile input by field and writes nothing', async () => {
    const cases: [Parameters<typeof planPeer>[1], string, RegExp][] = [
      [{ target: '   ' }, 'url', /give an engine URL/],
      [{ target: 'x'.repeat(9000) }, 'url', /at most 8192/],
      [{ target: 'outpost1:%%%' }, 'url', /^join code: /],
      [{ target: 'http://10.0.0.7:7443', token: TOKEN }, 'url', /https:\/\/ \(http:\/\/ only on loopback\)/],
      [{ target: 'https://gw:7443\u001b]0;pwned\u0007', token: TOKEN }, 'url', /spaces or control characters/],
      [{ target: 'https://gw:7443', token: 'a b' }, 'token', /needs its token/],
      [{ target: 'https://gw:7443', token: TOKEN, name: '__proto__' }, 'name', /not a valid name/],
      [{ target: 'https://gw:7443', token: TOKEN, name: 'local' }, 'name', /this machine's node/],
      [{ target: 'ssh://me@box', token: TOKEN }, 'token', /engine peer has no token/],
      [{ target: 'https://gw:7443', kind: 'cluster' }, 'kind', /agent or engine/],
    ];
    for (const [input, field, message] of cases) {
      const err = await refused(planPeer(env, input, formLabel));
      expect(err.details).toEqual({ field });
      expect(err.message).toMatch(message);
    }
    expect(readPeers(env)).toEqual([]);
  });

  it('saves, renames (the token moves) and removes; a name or address in use is refused', async () => {
    const plan = await planPeer(env, { target: encodeJoinCode({ url: 'https://10.0.0.7:7443', fingerprint: FP, token: TOKEN }), name: 'gw-7' }, formLabel);
    savePeer(env, plan);
    expect(readTokens(env)).toEqual({ 'gw-7': TOKEN });
    expect((await refused(planPeer(env, { target: 'https://10.0.0.7:7443', token: TOKEN, name: 'other' }, formLabel))).message).toMatch(/already the peer `gw-7`/);
    expect((await refused(planPeer(env, { target: 'ssh://me@box', name: 'gw-7' }, formLabel))).message).toMatch(/already exists/);
    renamePeer(env, 'gw-7', 'line-2');
    expect(readPeers(env).map((p) => p.name)).toEqual(['line-2']);
    expect(readTokens(env)).toEqual({ 'line-2': TOKEN });
    expect(() => renamePeer(env, 'nope', 'x')).toThrow(/no peer named `nope`/);
    removePeer(env, 'line-2');
    expect(readPeers(env)).toEqual([]);
    expect(readTokens(env)).toEqual({});
  });

  it('a damaged peers file stops a save and is kept as it was', async () => {
    writeFileSync(peersFile(env), '{"peers": [{"name": 7}]}');
    await refused(planPeer(env, { target: 'ssh://me@box' }, formLabel));
    expect(() => savePeer(env, { name: 'box', kind: 'engine', url: 'ssh://me@box', fingerprint: null })).toThrow(BadInputError);
    expect(tokensFile(env)).toMatch(/peer-tokens\.json$/);
  });
});

describe('a running fleet follows the peers file', () => {
  it('adds, rebuilds on a changed entry or token, removes; never touches this machine; a bad file leaves the fleet as it was', async () => {
    const { Fleet } = await import('../../core/fleet.js');
    const { UnreachableNode } = await import('../../core/peers/unreachable-node.js');
    const { followPeersFile, syncFleet } = await import('../../core/peers/fleet-from-config.js');
    const { writePeers, writeTokens } = await import('../../core/peers/config.js');
    const built: string[] = [];
    const factory = (p: { name: string; url: string }) => {
      built.push(`${p.name} ${p.url}`);
      return new UnreachableNode(p.name, 'agent', 'test');
    };
    const local = Object.assign(new UnreachableNode('local', 'engine', 'this machine'), { isThisMachine: true });
    const fleet = new Fleet([local]);
    const changes: string[] = [];
    const errors: string[] = [];
    const stop = followPeersFile(fleet, env, { factory, intervalMs: 20, onChange: (r) => changes.push(JSON.stringify(r)), onError: (m) => errors.push(m) });
    try {
      writeTokens({ a: TOKEN }, env);
      writePeers([{ name: 'a', kind: 'agent', url: 'https://a:7443', fingerprint: 'ab'.repeat(32) }], env);
      await expect.poll(() => fleet.nodes().map((n) => n.name)).toEqual(['local', 'a']);
      expect(changes).toEqual(['{"added":["a"],"removed":[]}']);
      // The same file again: nothing rebuilt.
      expect(await syncFleet(fleet, env, { factory })).toEqual({ added: [], removed: [] });
      expect(built).toEqual(['a https://a:7443']);
      // A new token: the node is rebuilt with it.
      writeTokens({ a: `op_${'y'.repeat(43)}` }, env);
      await expect.poll(() => built.length).toBe(2);
      writeFileSync(peersFile(env), '{"peers": 3}');
      await expect.poll(() => errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatch(/^peers: .*peers\.json/);
      expect(fleet.nodes().map((n) => n.name)).toEqual(['local', 'a']);
      writePeers([], env);
      await expect.poll(() => fleet.nodes().map((n) => n.name)).toEqual(['local']);
      expect(fleet.get('local')).toBe(local);
    } finally {
      stop();
      await fleet.close();
    }
  });
});
