/**
 * Turns a node's event stream into inspects that keep the model current.
 *
 * Events come in bursts (kill, die, stop, start, restart within milliseconds), and an inspect
 * answers with the container as it was when the engine read it. So:
 * - a burst for one container becomes one inspect (queued ids are coalesced until the next turn);
 * - at most one inspect per container is in flight: an event arriving meanwhile queues another
 *   one after it, so an older answer can never land after a newer one and leave a stale state;
 * - `drop` (the container was destroyed) forgets it and discards an answer still on its way;
 * - while `hold` is on (the node is listing everything again), answers are not applied and their
 *   ids wait for the release, since the listing may be newer than they are.
 */
export interface RefreshQueueOptions<R> {
  /** Most inspects in flight at once, over all containers. */
  concurrency: number;
  inspect(id: string): Promise<R>;
  apply(id: string, result: R, action: string | undefined): void;
  /** An inspect failed; the queue has already forgotten the id. */
  failed(id: string, err: unknown): void;
  /** How a burst is coalesced before inspects start (default: setImmediate). */
  defer?: (run: () => void) => void;
}

export class RefreshQueue<R> {
  readonly #options: RefreshQueueOptions<R>;
  /** Containers to inspect, with the last event that asked for it. */
  #pending = new Map<string, string | undefined>();
  /** Containers with an inspect in flight; the token tells a dropped one's answer apart. */
  #inflight = new Map<string, object>();
  #scheduled = false;
  #held = false;
  #closed = false;
  /** Who waits for nothing to be waiting or in flight. */
  #idleWaiters: (() => void)[] = [];

  constructor(options: RefreshQueueOptions<R>) {
    this.#options = options;
  }

  /** Inspect `id` soon (after the current burst of events). */
  queue(id: string, action?: string): void {
    if (this.#closed) return;
    this.#pending.set(id, action);
    this.#schedule();
  }

  /** The container is gone: forget it and discard any answer still coming. */
  drop(id: string): void {
    this.#pending.delete(id);
    this.#inflight.delete(id);
    this.#checkIdle();
  }

  /**
   * Resolves when no container is waiting or in flight and answers are not held back: every
   * event queued so far is then in the model. A closed queue counts as idle.
   */
  whenIdle(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #idle(): boolean {
    return this.#closed || (!this.#held && this.#pending.size === 0 && this.#inflight.size === 0);
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#idle()) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Holds answers back while the node lists everything again; releasing starts what waited. */
  hold(on: boolean): void {
    this.#held = on;
    if (!on) {
      this.#schedule();
      this.#checkIdle();
    }
  }

  /** Containers waiting or in flight (for tests and diagnostics). */
  get size(): number {
    return new Set([...this.#pending.keys(), ...this.#inflight.keys()]).size;
  }

  close(): void {
    this.#closed = true;
    this.#pending.clear();
    this.#inflight.clear();
    this.#checkIdle();
  }

  #schedule(): void {
    if (this.#scheduled || this.#held || this.#closed || this.#pending.size === 0) return;
    this.#scheduled = true;
    (this.#options.defer ?? setImmediate)(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#held || this.#closed) return;
    for (const [id, action] of this.#pending) {
      if (this.#inflight.size >= this.#options.concurrency) return;
      if (this.#inflight.has(id)) continue; // its turn comes when the one in flight answers
      this.#pending.delete(id);
      const token = {};
      this.#inflight.set(id, token);
      this.#options.inspect(id).then(
        (result) => this.#settle(id, token, action, () => this.#options.apply(id, result, action)),
        (err: unknown) => this.#settle(id, token, action, () => this.#options.failed(id, err)),
      );
    }
  }

  #settle(id: string, token: object, action: string | undefined, deliver: () => void): void {
    if (this.#inflight.get(id) !== token) {
      // Dropped (destroyed) or closed while in flight: the answer is about a container that is gone.
      this.#pump();
      this.#checkIdle();
      return;
    }
    this.#inflight.delete(id);
    if (this.#held) {
      // A listing is being taken; this answer may be older than it. Ask again afterwards.
      if (!this.#pending.has(id)) this.#pending.set(id, action);
      return;
    }
    try {
      deliver();
    } finally {
      this.#pump();
      this.#checkIdle();
    }
  }
}
