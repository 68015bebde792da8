import { describe, expect, it } from 'vitest';
import { RefreshQueue } from '../../core/docker/refresh-queue.js';

/**
 * The queue under test is real; what stands in for the engine is a list of inspects whose
 * answers the test hands out in whatever order it wants, as a loaded engine might.
 */
function harness(concurrency = 16) {
  const calls: { id: string; answer: (state: string) => void; reject: (err: Error) => void }[] = [];
  const applied: [string, string, string | undefined][] = [];
  const failed: string[] = [];
  let deferred: (() => void)[] = [];
  const q = new RefreshQueue<string>({
    concurrency,
    inspect: (id) => new Promise<string>((answer, reject) => calls.push({ id, answer, reject })),
    apply: (id, state, action) => applied.push([id, state, action]),
    failed: (id) => failed.push(id),
    defer: (run) => deferred.push(run),
  });
  const turn = async () => {
    const runs = deferred;
    deferred = [];
    for (const run of runs) run();
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { q, calls, applied, failed, turn, settle };
}

describe('RefreshQueue', () => {
  it('coalesces a burst of events for one container into one inspect, keeping the last action', async () => {
    const h = harness();
    h.q.queue('a', 'kill');
    h.q.queue('a', 'die');
    h.q.queue('a', 'stop');
    h.q.queue('b', 'start');
    expect(h.calls).toHaveLength(0); // nothing until the burst is over
    await h.turn();
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'b']);
    h.calls[0]!.answer('exited');
    h.calls[1]!.answer('running');
    await h.settle();
    expect(h.applied).toEqual([
      ['a', 'exited', 'stop'],
      ['b', 'running', 'start'],
    ]);
  });

  it('never lets an older answer land after a newer one (restart: die then start, answered out of order)', async () => {
    const h = harness();
    h.q.queue('a', 'die');
    await h.turn();
    expect(h.calls).toHaveLength(1);
    // The start event arrives while the die's inspect is still on its way: no second inspect yet.
    h.q.queue('a', 'start');
    await h.turn();
    expect(h.calls).toHaveLength(1);
    expect(h.q.size).toBe(1);
    // The first answer (read before the start) comes back; only then is the container asked again.
    h.calls[0]!.answer('exited');
    await h.settle();
    expect(h.calls).toHaveLength(2);
    h.calls[1]!.answer('running');
    await h.settle();
    expect(h.applied.map(([, state]) => state)).toEqual(['exited', 'running']);
    expect(h.applied.at(-1)).toEqual(['a', 'running', 'start']);
    expect(h.q.size).toBe(0);
  });

  it('discards the answer about a container destroyed while it was being inspected', async () => {
    const h = harness();
    h.q.queue('a', 'die');
    await h.turn();
    h.q.drop('a');
    h.calls[0]!.answer('exited');
    await h.settle();
    expect(h.applied).toEqual([]);
    expect(h.q.size).toBe(0);
  });

  it('holds answers while the node lists everything, and asks again after', async () => {
    const h = harness();
    h.q.queue('a', 'start');
    await h.turn();
    h.q.hold(true);
    h.q.queue('b', 'create'); // waits for the release
    h.calls[0]!.answer('running');
    await h.turn();
    expect(h.applied).toEqual([]);
    expect(h.calls).toHaveLength(1);
    h.q.hold(false);
    await h.turn();
    expect(h.calls.map((c) => c.id).sort()).toEqual(['a', 'a', 'b']);
    h.calls[1]!.answer('running');
    h.calls[2]!.answer('created');
    await h.settle();
    expect(h.applied.map(([id]) => id).sort()).toEqual(['a', 'b']);
  });

  it('keeps at most `concurrency` inspects in flight and reports failures', async () => {
    const h = harness(2);
    for (const id of ['a', 'b', 'c', 'd']) h.q.queue(id, 'start');
    await h.turn();
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'b']);
    h.calls[0]!.reject(new Error('no such container'));
    await h.settle();
    expect(h.failed).toEqual(['a']);
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    h.calls[1]!.answer('running');
    h.calls[2]!.answer('running');
    await h.settle();
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'b', 'c', 'd']);
    h.calls[3]!.answer('running');
    await h.settle();
    expect(h.applied.map(([id]) => id)).toEqual(['b', 'c', 'd']);
  });

  it('does nothing after close, even for answers already on their way', async () => {
    const h = harness();
    h.q.queue('a', 'start');
    await h.turn();
    h.q.close();
    h.q.queue('b', 'start');
    h.calls[0]!.answer('running');
    await h.turn();
    expect(h.applied).toEqual([]);
    expect(h.calls).toHaveLength(1);
  });

  it('whenIdle() resolves only once nothing waits, nothing is in flight and answers are not held', async () => {
    const h = harness();
    let idle = false;
    await h.q.whenIdle(); // an empty queue is idle at once
    h.q.queue('a', 'die');
    void h.q.whenIdle().then(() => (idle = true));
    await h.settle();
    expect(idle).toBe(false); // waiting for the burst to end
    await h.turn();
    expect(h.calls.map((c) => c.id)).toEqual(['a']);
    await h.settle();
    expect(idle).toBe(false); // in flight
    h.q.hold(true);
    h.calls[0]?.answer('exited');
    await h.settle();
    expect(idle).toBe(false); // held back during a listing: asked again afterwards
    h.q.hold(false);
    await h.turn();
    expect(h.calls).toHaveLength(2);
    h.calls[1]?.answer('exited');
    await h.settle();
    expect(idle).toBe(true);
    expect(h.applied).toEqual([['a', 'exited', 'die']]);
  });

  it('whenIdle() resolves when the only container in flight is dropped, or the queue closes', async () => {
    const h = harness();
    h.q.queue('a');
    await h.turn();
    let idle = false;
    void h.q.whenIdle().then(() => (idle = true));
    h.q.drop('a');
    await h.settle();
    expect(idle).toBe(true);
    h.q.queue('b');
    let closed = false;
    void h.q.whenIdle().then(() => (closed = true));
    h.q.close();
    await h.settle();
    expect(closed).toBe(true);
  });
});
