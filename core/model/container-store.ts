import type { ContainerSummary, Disposer, ModelChange } from './types.js';

/**
 * The in-memory replica of one node's containers. Adapters feed it (a full
 * list after connect or resync, single upserts and removals from events);
 * faces read it and subscribe to its changes. No I/O here.
 */
export class ContainerStore {
  #byId = new Map<string, ContainerSummary>();
  #listeners = new Set<(change: ModelChange) => void>();
  #ready = false;
  readonly #onError: (message: string) => void;

  /** `onError` hears about subscribers that throw (a UI shows it where it does not break the screen). */
  constructor(onError: (message: string) => void = (m) => process.emitWarning(m)) {
    this.#onError = onError;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Every container, newest first (as `docker ps` orders them). */
  all(): ContainerSummary[] {
    return [...this.#byId.values()].sort((a, b) => b.created - a.created || a.name.localeCompare(b.name));
  }

  get(id: string): ContainerSummary | undefined {
    return this.#byId.get(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Replaces everything (after connect and after every resync). */
  reset(containers: ContainerSummary[]): void {
    this.#byId = new Map(containers.map((c) => [c.id, c]));
    this.#ready = true;
    this.#emit({ kind: 'reset', containers: this.all() });
  }

  upsert(container: ContainerSummary, event?: string): void {
    const before = this.#byId.get(container.id);
    this.#byId.set(container.id, container);
    // Health probes raise an event every interval; only a visible change is worth a redraw.
    if (before && sameRow(before, container)) return;
    this.#emit(event === undefined ? { kind: 'upsert', container } : { kind: 'upsert', container, event });
  }

  remove(id: string): void {
    const before = this.#byId.get(id);
    if (!before) return;
    this.#byId.delete(id);
    this.#emit({ kind: 'remove', id, name: before.name });
  }

  /** The listener gets a `reset` at once when the store already holds a list. */
  subscribe(listener: (change: ModelChange) => void): Disposer {
    this.#listeners.add(listener);
    if (this.#ready) listener({ kind: 'reset', containers: this.all() });
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #emit(change: ModelChange): void {
    for (const l of [...this.#listeners]) {
      try {
        l(change);
      } catch (err) {
        // A faulty subscriber must not stop the others or the event pump.
        this.#onError(`a container-model subscriber threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

function sameRow(a: ContainerSummary, b: ContainerSummary): boolean {
  return (
    a.state === b.state &&
    a.health === b.health &&
    a.restartCount === b.restartCount &&
    a.startedAt === b.startedAt &&
    a.exitCode === b.exitCode &&
    a.name === b.name &&
    a.oomKilled === b.oomKilled &&
    a.finishedAt === b.finishedAt
  );
}
