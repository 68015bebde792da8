import { BadInputError } from './model/errors.js';
import type { Disposer, ModelChange, NodeStatus } from './model/types.js';
import type { Node } from './node.js';

/**
 * The set of nodes a person looks at. The TUI and the tray only talk to a
 * Fleet; which nodes are local or remote is the composition root's business.
 */
export class Fleet {
  #nodes = new Map<string, Node>();
  #listeners = new Set<(nodes: Node[]) => void>();

  constructor(nodes: Node[] = []) {
    for (const n of nodes) this.add(n);
  }

  add(node: Node): void {
    if (this.#nodes.has(node.name)) throw new BadInputError(`A node named \`${node.name}\` is already in the fleet.`);
    this.#nodes.set(node.name, node);
    this.#notify();
  }

  async remove(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node) return;
    this.#nodes.delete(name);
    await node.close();
    this.#notify();
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

  /** Follows every node's live model; the listener learns which node changed. */
  watch(listener: (node: string, change: ModelChange) => void): Disposer {
    const disposers = this.nodes().map((n) => n.watch((c) => listener(n.name, c)));
    return () => disposers.forEach((d) => d());
  }

  watchStatus(listener: (node: string, status: NodeStatus) => void): Disposer {
    const disposers = this.nodes().map((n) => n.onStatus((s) => listener(n.name, s)));
    return () => disposers.forEach((d) => d());
  }

  onNodesChanged(listener: (nodes: Node[]) => void): Disposer {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes().map((n) => n.close()));
  }

  #notify(): void {
    const nodes = this.nodes();
    for (const l of [...this.#listeners]) l(nodes);
  }
}
