import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNode } from '../../core/docker/local-node.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import type { ContainerEvent, ModelChange, NodeStatus } from '../../core/model/types.js';
import { startPrivateEngine, type PrivateEngine } from '../harness/engine.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { importTestImage } from '../harness/image.js';

const P = 'lm-';

describe('live model from the events stream', () => {
  let node: LocalNode;
  beforeAll(async () => {
    node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
    await node.connect();
  });
  afterAll(async () => {
    await node.close();
    await removeByPrefix(docker(), P);
  });

  it('follows create, start, die, health and destroy without polling', async () => {
    const changes: ModelChange[] = [];
    const events: ContainerEvent[] = [];
    const stop = node.watch((c) => changes.push(c));
    const stopEvents = node.watchEvents((e) => events.push(e));
    expect(changes[0]?.kind).toBe('reset');

    const c = await makeContainer(docker(), { name: `${P}a`, cmd: 'sleep 0.3; exit 4' });
    await eventually(() => node.containers().find((x) => x.name === `${P}a` && x.state === 'running'), 5000, 'running in model');
    const exited = await eventually(() => node.containers().find((x) => x.name === `${P}a` && x.state === 'exited'), 5000, 'exited in model');
    expect(exited.exitCode).toBe(4);
    const die = events.find((e) => e.name === `${P}a` && e.action === 'die');
    expect(die?.exitCode).toBe(4);

    await c.remove();
    await eventually(() => !node.containers().some((x) => x.name === `${P}a`), 5000, 'removed from model');
    expect(changes.some((ch) => ch.kind === 'remove' && ch.name === `${P}a`)).toBe(true);
    stop();
    stopEvents();
  });

  it('marks health changes', async () => {
    await makeContainer(docker(), { name: `${P}h`, cmd: 'sleep 3600', health: { cmd: 'test -f /tmp/ok', intervalMs: 200 } });
    await eventually(() => node.containers().find((x) => x.name === `${P}h` && x.health === 'unhealthy'), 10_000, 'unhealthy');
    const s = await node.exec(`${P}h`, { cmd: ['touch', '/tmp/ok'] });
    await s.wait();
    s.close();
    await eventually(() => node.containers().find((x) => x.name === `${P}h` && x.health === 'healthy'), 10_000, 'healthy again');
  });

  it('ends where the engine ends after back-to-back restarts and stop/start (answers never land out of order)', async () => {
    await makeContainer(docker(), { name: `${P}r`, cmd: 'trap "exit 0" TERM; sleep 3600 & wait' });
    for (let i = 0; i < 4; i++) {
      await Promise.all([node.restart(`${P}r`), node.restart(`${P}r`)]);
      await node.stop(`${P}r`);
      await node.start(`${P}r`);
    }
    const truth = await node.inspect(`${P}r`);
    expect(truth.state).toBe('running');
    await eventually(
      () => node.containers().find((x) => x.name === `${P}r` && x.state === 'running' && x.startedAt === truth.startedAt),
      10_000,
      'model shows the last start',
    );
    // And stays there: no late answer from an earlier inspect overwrites it.
    await new Promise((r) => setTimeout(r, 500));
    expect(node.containers().find((x) => x.name === `${P}r`)?.startedAt).toBe(truth.startedAt);
  });

  it('stops listeners from receiving after dispose', async () => {
    let calls = 0;
    const dispose = node.watch(() => calls++);
    dispose();
    const before = calls;
    await makeContainer(docker(), { name: `${P}quiet`, cmd: 'true' });
    await eventually(() => node.containers().find((x) => x.name === `${P}quiet`), 5000, 'in model');
    expect(calls).toBe(before);
  });
});

describe('engine restart', () => {
  let engine: PrivateEngine;
  let node: LocalNode;

  beforeAll(async () => {
    // Its own engine: killing it must not disturb the other test files.
    engine = await startPrivateEngine('restart');
    await importTestImage(engine.dockerHost);
    node = new LocalNode({ endpoint: parseHostUrl(engine.dockerHost, 'DOCKER_HOST'), reconnectMinMs: 100, reconnectMaxMs: 400 });
  });

  afterAll(async () => {
    await node?.close();
    await engine?.dispose();
  });

  it('says it is offline, reconnects, and resynchronises what changed while it was away', async () => {
    const d = docker(engine.dockerHost);
    await makeContainer(d, { name: 'survivor', cmd: 'sleep 3600' });
    await makeContainer(d, { name: 'victim', cmd: 'sleep 3600' });
    await node.connect();
    expect(node.containers().map((c) => c.name).sort()).toEqual(['survivor', 'victim']);

    const statuses: NodeStatus['state'][] = [];
    node.onStatus((s) => statuses.push(s.state));

    await engine.crash();
    await eventually(() => node.status().state === 'offline', 10_000, 'offline status');
    const offline = node.status();
    expect(offline.state === 'offline' && offline.reason).toBeTruthy();

    // The crash took the containers with it; no event about that ever reaches the stream,
    // so only the resynchronisation after reconnecting can tell the model.
    await engine.restart();
    await eventually(() => node.status().state === 'online', 20_000, 'online again');
    const victimNow = await eventually(() => node.containers().find((c) => c.name === 'victim' && c.state === 'exited'), 20_000, 'victim exited in model');
    expect(victimNow.exitCode).not.toBe(0);
    expect(node.containers().find((c) => c.name === 'survivor')?.state).toBe('exited');
    expect(statuses).toContain('offline');
    expect(statuses.at(-1)).toBe('online');

    // And the events stream is live again.
    await makeContainer(d, { name: 'newcomer', cmd: 'sleep 3600' });
    await eventually(() => node.containers().find((c) => c.name === 'newcomer' && c.state === 'running'), 10_000, 'newcomer in model');
  });
});
