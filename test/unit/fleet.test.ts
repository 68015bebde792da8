/**
 * The Fleet's live subscriptions, on small fake nodes (the Fleet is the thing
 * under test): nodes added later are subscribed, removed ones are let go,
 * and nothing is left listening after the disposer or close().
 */
import { describe, expect, it } from 'vitest';
import { Fleet } from '../../core/fleet.js';
import type { ContainerEvent, ContainerStats, ModelChange, NodeStatus } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';

type Listeners = { watch: Set<(c: ModelChange) => void>; status: Set<(s: NodeStatus) => void>; events: Set<(e: ContainerEvent) => void>; stats: Set<(s: ContainerStats[]) => void> };

function fakeNode(name: string, isThisMachine = false): Node & { l: Listeners; emit: (c: ModelChange) => void; closed: boolean } {
  const l: Listeners = { watch: new Set(), status: new Set(), events: new Set(), stats: new Set() };
  const sub = <T>(set: Set<T>, fn: T) => {
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  };
  const node = {
    name,
    kind: 'engine' as const,
    isThisMachine,
    rules: null,
    l,
    closed: false,
    emit: (c: ModelChange) => l.watch.forEach((f) => f(c)),
    status: (): NodeStatus => ({ state: 'online' }) as NodeStatus,
    containers: () => [],
    watch: (f: (c: ModelChange) => void) => {
      const d = sub(l.watch, f);
      f({ kind: 'reset', containers: [] });
      return d;
    },
    onStatus: (f: (s: NodeStatus) => void) => sub(l.status, f),
    watchEvents: (f: (e: ContainerEvent) => void) => sub(l.events, f),
    watchStats: (f: (s: ContainerStats[]) => void) => sub(l.stats, f),
    close: async () => {
      node.closed = true;
    },
  };
  return node as unknown as Node & { l: Listeners; emit: (c: ModelChange) => void; closed: boolean };
}

const count = (n: { l: Listeners }) => n.l.watch.size + n.l.status.size + n.l.events.size + n.l.stats.size;

describe('Fleet', () => {
  it('subscriptions follow nodes added and removed at run time; a new node is watched from its reset', async () => {
    const a = fakeNode('a', true);
    const fleet = new Fleet([a]);
    const seen: string[] = [];
    const stop = fleet.watch((node, c) => seen.push(`${node}:${c.kind}`));
    const stopStatus = fleet.watchStatus(() => undefined);
    const stopEvents = fleet.watchEvents(() => undefined);
    const stopStats = fleet.watchStats(() => undefined, { intervalMs: 1000 });
    expect(seen).toEqual(['a:reset']);
    expect(count(a)).toBe(4);

    const b = fakeNode('b');
    fleet.add(b);
    expect(seen).toEqual(['a:reset', 'b:reset']);
    expect(count(b)).toBe(4);
    b.emit({ kind: 'remove', id: 'x' } as ModelChange);
    expect(seen.at(-1)).toBe('b:remove');

    await fleet.remove('b');
    expect(count(b)).toBe(0);
    expect(b.closed).toBe(true);
    b.emit({ kind: 'remove', id: 'y' } as ModelChange);
    expect(seen.at(-1)).toBe('b:remove'); // nothing more from a removed node
    expect(seen.filter((s) => s.startsWith('b:'))).toHaveLength(2);

    stop();
    stopStatus();
    stopEvents();
    stopStats();
    expect(count(a)).toBe(0);
    stop(); // twice is harmless
    // A node added after every subscription ended is not subscribed by them.
    const c = fakeNode('c');
    fleet.add(c);
    expect(count(c)).toBe(0);
    expect(fleet.thisMachine()?.name).toBe('a');
  });

  it('close() ends every subscription and closes every node; names stay unique', async () => {
    const a = fakeNode('a');
    const fleet = new Fleet([a]);
    fleet.watch(() => undefined);
    expect(() => fleet.add(fakeNode('a'))).toThrow(/already in the fleet/);
    const changes: string[][] = [];
    fleet.onNodesChanged((nodes) => changes.push(nodes.map((n) => n.name)));
    const b = fakeNode('b');
    fleet.add(b);
    await fleet.close();
    expect(count(a) + count(b)).toBe(0);
    expect(a.closed && b.closed).toBe(true);
    expect(changes).toEqual([['a', 'b']]);
    expect(fleet.thisMachine()).toBeNull();
  });
});
