import { BadInputError } from './model/errors.js';
import type { ContainerEvent, ContainerStats, Disposer, ModelChange, NodeStatus } from './model/types.js';
import type { Node, StatsOptions } from './node.js';

/**
 * The set of nodes a person looks at. The TUI and the tray only talk to a
 * Fleet; which nodes are local or remote is the composition root's business.
 *
 * Subscriptions through the Fleet are live: they follow the nodes added and
 * removed after they were made (an added node is subscribed to, a removed
 * node's subscription is disposed), and their disposer ends every one.
 */
export class Fleet {
  #nodes = new Map<string, Node>();
  #listeners = new Set<(nodes: Node[]) => void>();
  /** The live subscriptions: each subscribes one node, and keeps the disposer per node. */
  #subs = new Set<{ subscribe: (node: Node) => Disposer; perNode: Map<string, Disposer> }>();

  constructor(nodes: Node[] = []) {
    for (const n of nodes) this.add(n);
  }

  add(node: Node): void {
    if (this.#nodes.has(node.name)) throw new BadInputError(`A node named \`${node.name}\` is already in the fleet.`);
    this.#nodes.set(node.name, node);
    for (const sub of [...this.#subs]) sub.perNode.set(node.name, sub.subscribe(node));
    this.#notify();
  }

  /** Takes a node out: every subscription to it through the Fleet is disposed, then it is closed. */
  async remove(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node) return;
    this.#nodes.delete(name);
    for (const sub of [...this.#subs]) {
      const d = sub.perNode.get(name);
      sub.perNode.delete(name);
      d?.();
    }
    this.#notify();
    await node.close();
  }

  nodes(): Node[] {
    return [...this.#nodes.values()];
  }

  get(name: string): Node {
    const node = this.#nodes.get(name);
    if (!node) {
      throw new BadInputError(`No node named \`${name}\`. Known nodes: ${[...this.#nodes.keys()].join(', ') || 'none'}.`);
    }
    return node;
  }

  /** This machine's node, if the fleet has one (faces never guess it from a position). */
  thisMachine(): Node | null {
    return this.nodes().find((n) => n.isThisMachine) ?? null;
  }

  /**
   * Subscribes `subscribe` to every node, now and as nodes come and go. The
   * disposer ends the subscription to every node.
   */
  each(subscribe: (node: Node) => Disposer): Disposer {
    const sub = { subscribe, perNode: new Map<string, Disposer>() };
    this.#subs.add(sub);
    for (const n of this.nodes()) sub.perNode.set(n.name, subscribe(n));
    return () => {
      if (!this.#subs.delete(sub)) return;
      for (const d of sub.perNode.values()) d();
      sub.perNode.clear();
    };
  }

  /** Follows every node's live model; the listener learns which node changed (each node's first change is its `reset`). */
  watch(listener: (node: string, change: ModelChange) => void): Disposer {
    return this.each((n) => n.watch((c) => listener(n.name, c)));
  }

  watchStatus(listener: (node: string, status: NodeStatus) => void): Disposer {
    return this.each((n) => n.onStatus((s) => listener(n.name, s)));
  }

  /** Every node's container events as they arrive. */
  watchEvents(listener: (node: string, event: ContainerEvent) => void): Disposer {
    return this.each((n) => n.watchEvents((e) => listener(n.name, e)));
  }

  /** Every node's stats samples, at the interval given. */
  watchStats(listener: (node: string, stats: ContainerStats[]) => void, options?: StatsOptions): Disposer {
    return this.each((n) => n.watchStats((s) => listener(n.name, s), options));
  }

  onNodesChanged(listener: (nodes: Node[]) => void): Disposer {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const sub of [...this.#subs]) {
      for (const d of sub.perNode.values()) d();
      sub.perNode.clear();
    }
    this.#subs.clear();
    await Promise.all(this.nodes().map((n) => n.close()));
  }

  #notify(): void {
    const nodes = this.nodes();
    for (const l of [...this.#listeners]) l(nodes);
  }
}
