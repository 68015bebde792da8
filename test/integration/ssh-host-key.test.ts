/**
 * An ssh:// engine is trusted only with the host key known_hosts lists. A
 * real SSH server (ssh2's, on loopback) carries `docker system dial-stdio`
 * to the private engine: with the key listed, LocalNode lists the engine's
 * containers over ssh://; with the host unknown, or its key changed, the
 * connection is refused before any request, and the error says why.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNode } from '../../core/docker/local-node.js';
import { EngineHostKeyError } from '../../core/model/errors.js';
import { checkHostKey } from '../../core/docker/known-hosts.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'sshk-';
const hostKey = utils.generateKeyPairSync('ed25519');
const otherKey = utils.generateKeyPairSync('ed25519');
let server: Server;
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
  const engineSocket = dockerHost().replace(/^unix:\/\//, '');
  server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', () => undefined);
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          if (info.command !== 'docker system dial-stdio') {
            stream.exit(127);
            stream.end();
            return;
          }
          const engine = connect(engineSocket);
          stream.pipe(engine).pipe(stream);
          engine.on('error', () => stream.end());
          stream.on('close', () => engine.destroy());
        });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  await makeContainer(docker(), { name: `${P}seen-over-ssh`, cmd: 'sleep 3600' });
});

afterAll(async () => {
  server?.close();
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
