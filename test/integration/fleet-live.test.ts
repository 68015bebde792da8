/**
 * A live Fleet of two real LocalNodes on the private engine: a node added
 * after the subscriptions were made is followed (from its reset), and
 * FleetView shows it; a removed node has no listener left.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { Fleet } from '../../core/fleet.js';
import type { ModelChange } from '../../core/model/types.js';
import type { Disposer } from '../../core/model/types.js';
import { FleetView } from '../../tui/app/fleet-view.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'fleetlive-';
afterAll(async () => {
  await removeByPrefix(docker(), P);
});

/** Wraps a node's subscriptions to count the ones still open. */
function counted(node: LocalNode): { node: LocalNode; open: () => number } {
  let open = 0;
  for (const m of ['watch', 'onStatus', 'watchEvents', 'watchStats', 'watchHost'] as const) {
    const original = (node[m] as (...a: unknown[]) => Disposer).bind(node);
    (node as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => {
      open++;
      const d = original(...args);
      let done = false;
      return () => {
        if (!done) open--;
        done = true;
        d();
      };
    };
  }
  return { node, open: () => open };
}

describe('a live Fleet on the private engine', () => {
  it('follows a node added later and lets go of a removed one; FleetView shows the added node', async () => {
    const endpoint = parseHostUrl(dockerHost(), 'DOCKER_HOST');
    const first = new LocalNode({ name: 'first', endpoint });
    const fleet = new Fleet([first]);
    await first.connect();
    await makeContainer(docker(), { name: `${P}one`, cmd: 'sleep 3600' });
    const changes: { node: string; change: ModelChange }[] = [];
    const stop = fleet.watch((node, change) => changes.push({ node, change }));
    const stopStatus = fleet.watchStatus(() => undefined);
    const view = new FleetView(fleet, { statsIntervalMs: 500, hostIntervalMs: 1000 });
    view.start();
    try {
      const second = counted(new LocalNode({ name: 'second', endpoint }));
      await second.node.connect();
      fleet.add(second.node);
      // Its watch listener got its reset first, with the engine's containers.
      const firstOfSecond = changes.find((c) => c.node === 'second');
      expect(firstOfSecond?.change.kind).toBe('reset');
      await eventually(() => view.getSnapshot().nodes.find((n) => n.name === 'second')?.containers.some((c) => c.name === `${P}one`), 5000, 'the added node in the view');
      // Live changes of the added node arrive.
      await makeContainer(docker(), { name: `${P}two`, cmd: 'sleep 3600' });
      await eventually(() => changes.some((c) => c.node === 'second' && c.change.kind !== 'reset' && JSON.stringify(c.change).includes(`${P}two`)), 5000, 'a change on the added node');
      await eventually(() => second.open() >= 5, 5000, 'the view\'s samplers on the added node');

      await fleet.remove('second');
      expect(second.open()).toBe(0);
      expect(view.getSnapshot().nodes.map((n) => n.name)).toEqual(['first']);
      const before = changes.filter((c) => c.node === 'second').length;
      await makeContainer(docker(), { name: `${P}three`, cmd: 'sleep 3600' });
      await eventually(() => view.getSnapshot().nodes[0]?.containers.some((c) => c.name === `${P}three`), 5000, 'the first node still followed');
      expect(changes.filter((c) => c.node === 'second').length).toBe(before);
    } finally {
      view.close();
      stop();
      stopStatus();
      await fleet.close();
    }
  });
});
