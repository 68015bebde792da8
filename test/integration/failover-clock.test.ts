/**
 * The failover loop paces its rounds on the monotonic clock: an NTP step of
 * the wall clock backwards (during a cut, when a node must fence itself)
 * stalled the loop for the step's length, and the cut-off node never
 * fenced (its singleton ran twice). Here the wall clock steps back an hour,
 * then forward a day, while the controller runs on this machine's engine:
 * its rounds go on at their pace. Rounds are counted at the lists of its
 * own copies the controller asks this node for each round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import type { Node } from '../../core/node.js';
import { FailoverController, parsePlacementConfig } from '../../core/placement/controller.js';
import { dockerHost } from '../harness/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'op-failover-clock-'));
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('failover pacing', () => {
  it('goes on at its pace when the wall clock steps back an hour or forward a day', async () => {
    const engine = new LocalNode({ name: 'a', endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
    await engine.connect();
    let lists = 0;
    // A step lands inside a round (here, while it lists): the round began by one clock and ends by the other.
    let stepInRound: (() => void) | null = null;
    const local = new Proxy(engine, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        // The live model, not a request: a list that asks the engine checks its events against the
        // wall clock, which only this process's stepped here (on a box, the engine's steps with it).
        if (prop === 'list') {
          return () => {
            lists++;
            stepInRound?.();
            stepInRound = null;
            return Promise.resolve(target.containers());
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Node;
    const { config } = parsePlacementConfig('node: a\n', 'placement.yaml');
    if (!config) throw new Error('placement config');
    const c = new FailoverController({ config, stateDir: join(dir, 'state'), local, env: { XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir }, roundMs: 600, log: () => undefined });
    try {
      c.start();
      await vi.waitFor(() => expect(lists).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 50 });
      const real = Date.now.bind(Date);
      const spy = vi.spyOn(Date, 'now');
      stepInRound = () => spy.mockImplementation(() => real() - 3_600_000);
      const before = lists;
      // A round each 600 ms (each lists: its own list is kept 500 ms): five in 3 s; stalled, none.
      await new Promise((r) => setTimeout(r, 3000));
      expect(lists - before).toBeGreaterThanOrEqual(4);
      stepInRound = () => spy.mockImplementation(() => real() + 86_400_000);
      const later = lists;
      await new Promise((r) => setTimeout(r, 3000));
      expect(lists - later).toBeGreaterThanOrEqual(4);
      spy.mockRestore();
    } finally {
      await c.stop();
      await engine.close();
    }
  });
});
