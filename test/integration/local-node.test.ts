/**
 * What only LocalNode does (its endpoint, the engine missing, scale of one
 * listing). The Node behaviour every kind shares is in test/contract/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNode } from '../../core/docker/local-node.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { EngineUnreachableError } from '../../core/model/errors.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'ln-';
let node: LocalNode;
const d = () => docker();

beforeAll(() => {
  node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
});

afterAll(async () => {
  await node.close();
  await removeByPrefix(d(), P);
});

describe('LocalNode against a real engine', () => {
  it('says the engine is not running when the socket is missing', async () => {
    const dead = new LocalNode({ endpoint: { kind: 'unix', socketPath: '/tmp/op-no-such.sock', source: 'DOCKER_HOST' } });
    await expect(dead.list()).rejects.toBeInstanceOf(EngineUnreachableError);
    await expect(dead.list()).rejects.toThrow(/unix:\/\/\/tmp\/op-no-such\.sock.*Is it running/);
    await dead.close();
  });
});

describe('scale', () => {
  it('lists 200 containers', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `${P}many-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(names.slice(i, i + 10).map((name) => makeContainer(d(), { name, cmd: 'true', start: false })));
    }
    const all = await node.list({ all: true });
    const ours = all.filter((c) => c.name.startsWith(`${P}many-`));
    expect(ours).toHaveLength(200);
    expect(ours.every((c) => c.state === 'created')).toBe(true);
    await Promise.all(ours.map((c) => d().getContainer(c.id).remove({ force: true })));
  });
});

describe('a node never reached that comes back (issue: its rows said "last seen 4s ago" for a moment)', () => {
  it('is online when its first list is published, never offline with containers', async () => {
    const { createServer, connect } = await import('node:net');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    await makeContainer(d(), { name: `${P}back`, cmd: 'sleep 3600' });
    const dir = mkdtempSync(join(tmpdir(), 'op-back-'));
    const socketPath = join(dir, 'engine.sock');
    const late = new LocalNode({ endpoint: { kind: 'unix', socketPath, source: 'DOCKER_HOST' }, reconnectMinMs: 100, reconnectMaxMs: 200 });
    const atList: string[] = [];
    const off = late.watch(() => {
      if (late.containers().length > 0) atList.push(late.status().state);
    });
    // The engine appears (a proxy to the test engine) after the first attempt failed.
    const engine = parseHostUrl(dockerHost(), 'DOCKER_HOST');
    const server = createServer((c) => {
      const u = connect((engine as { socketPath: string }).socketPath);
      c.pipe(u).pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    try {
      await expect(late.connect()).rejects.toThrow();
      expect(late.status()).toMatchObject({ state: 'offline', neverReached: true });
      await new Promise<void>((r) => server.listen(socketPath, r));
      const deadline = Date.now() + 15_000;
      while (late.status().state !== 'online' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(late.status().state).toBe('online');
      expect(atList.length).toBeGreaterThan(0);
      expect(atList.every((s) => s === 'online')).toBe(true);
    } finally {
      off();
      await late.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
