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
