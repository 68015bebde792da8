/**
 * An ssh:// engine is trusted only with the host key known_hosts lists. A
 * real SSH server (ssh2's, on loopback) carries `docker system dial-stdio`
 * to the private engine: with the key listed, LocalNode lists the engine's
 * containers over ssh://; with the host unknown, or its key changed, the
 * connection is refused before any request, and the error says why.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostKeyPair, startSshServer, type SshServer } from '../harness/ssh-server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNode } from '../../core/docker/local-node.js';
import { EngineHostKeyError } from '../../core/model/errors.js';
import { checkHostKey } from '../../core/docker/known-hosts.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'sshk-';
const hostKey = hostKeyPair();
const otherKey = hostKeyPair();
let server: SshServer;
let port = 0;
let home = '';
const savedHome = process.env.HOME;

function knownHosts(line: string): void {
  mkdirSync(join(home, '.ssh'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'known_hosts'), `${line}\n`);
}

function node(): LocalNode {
  return new LocalNode({ name: 'ssh-peer', endpoint: { kind: 'ssh', host: '127.0.0.1', port, username: 'tech', source: '--host' }, requestTimeoutMs: 5000 });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'op-sshk-'));
  process.env.HOME = home;
  server = await startSshServer(dockerHost().replace(/^unix:\/\//, ''), hostKey);
  port = server.port;
  await makeContainer(docker(), { name: `${P}seen-over-ssh`, cmd: 'sleep 3600' });
});

afterAll(async () => {
  await server?.close();
  process.env.HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

describe('ssh:// engines and known_hosts', () => {
  it('with the host key listed, the engine answers over ssh://', async () => {
    knownHosts(`[127.0.0.1]:${port} ${hostKey.public}`);
    const n = node();
    try {
      const names = (await n.list()).map((c) => c.name);
      expect(names).toContain(`${P}seen-over-ssh`);
    } finally {
      await n.close();
    }
  });

  it('one SSH connection carries a node\'s requests (docker-modem opened one per request); only a burst past its 8 channels adds one', async () => {
    knownHosts(`[127.0.0.1]:${port} ${hostKey.public}`);
    const n = node();
    const before = server.connections;
    const channelsBefore = server.channels;
    try {
      await n.connect();
      expect(n.containers().some((c) => c.name === `${P}seen-over-ssh`)).toBe(true);
      for (let i = 0; i < 10; i++) {
        await n.list({ all: true });
        await n.inspect(`${P}seen-over-ssh`);
      }
      const stats = await n.statsOnce();
      expect(stats.some((s) => s.name === `${P}seen-over-ssh`)).toBe(true);
      // The model's event stream, the first list and its inspects, 20 requests and a stats round: one connection,
      // and far fewer channels than requests (HTTP keep-alive over each dial-stdio channel).
      console.log(`ssh: ${server.connections - before} connection(s), ${server.channels - channelsBefore} channel(s) for the session and 21 requests`);
      expect(server.connections - before).toBe(1);
      expect(server.channels - channelsBefore).toBeLessThan(12);
      // Twenty at once: past one connection's 8 channels (OpenSSH's MaxSessions is 10), a second and a third carry them, never more than 4.
      const many = await Promise.all(Array.from({ length: 20 }, () => n.inspect(`${P}seen-over-ssh`)));
      expect(many.every((d) => d.name === `${P}seen-over-ssh`)).toBe(true);
      expect(server.connections - before).toBeLessThanOrEqual(4);
    } finally {
      await n.close();
    }
  });

  it('an unknown host is refused, with what to do', async () => {
    knownHosts('# nothing about this host');
    const n = node();
    try {
      const err = await n.list().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(EngineHostKeyError);
      expect((err as Error).message).toMatch(new RegExp(`\\[127\\.0\\.0\\.1\\]:${port} is not in known_hosts.*ssh -p ${port} 127\\.0\\.0\\.1`));
    } finally {
      await n.close();
    }
  });

  it('a changed host key is refused loudly', async () => {
    knownHosts(`[127.0.0.1]:${port} ${otherKey.public}`);
    const n = node();
    try {
      const err = await n.list().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(EngineHostKeyError);
      expect((err as Error).message).toMatch(/is not the one known_hosts lists for it: it changed, or someone is in between/);
    } finally {
      await n.close();
    }
  });
});

describe('known_hosts entries', () => {
  const key = Buffer.from(hostKey.public.split(' ')[1] ?? '', 'base64');
  const line = (hosts: string, k = hostKey.public) => ({ path: 'kh', text: `${hosts} ${k.split(' ').slice(0, 2).join(' ')}\n` });
  it('matches plain, bracketed, wildcard and hashed names; refuses negated, revoked and garbage', async () => {
    const { createHmac, randomBytes } = await import('node:crypto');
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('gw.site').digest('base64')}`;
    expect(checkHostKey('gw.site', 22, key, [line('gw.site')]).ok).toBe(true);
    expect(checkHostKey('gw.site', 2222, key, [line('[gw.site]:2222')]).ok).toBe(true);
    expect(checkHostKey('gw.site', 2222, key, [line('gw.site')]).ok).toBe(false);
    expect(checkHostKey('gw.site', 22, key, [line('*.site')]).ok).toBe(true);
    expect(checkHostKey('gw.site', 22, key, [line(hashed)]).ok).toBe(true);
    expect(checkHostKey('gw.site', 22, key, [line('*.site,!gw.site')]).ok).toBe(false);
    expect(checkHostKey('gw.site', 22, key, [{ path: 'kh', text: `@revoked gw.site ${hostKey.public}\ngw.site ${hostKey.public}\n` }])).toMatchObject({ ok: false, reason: expect.stringContaining('@revoked') });
    expect(checkHostKey('gw.site', 22, key, [{ path: 'kh', text: '\u0000garbage\n|1|x\n gw.site\n' }]).ok).toBe(false);
    // A hostile line of stars is answered at once (one star, not a backtracking run of them).
    const t0 = Date.now();
    expect(checkHostKey('a'.repeat(60), 22, key, [line(`${'*'.repeat(40)}b`)]).ok).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
