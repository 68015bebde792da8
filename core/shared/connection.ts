/**
 * A node's connection as a state machine, whatever carries it (a Docker
 * engine's socket for LocalNode, a peer's HTTPS API for a RemoteNode):
 * connecting → online → offline (retrying with exponential back-off) →
 * online …, until closed. The node supplies how to open a session (connect,
 * start its streams, resync its model) and how to drop a half-open one; the
 * state machine owns the status, its listeners, the retry timer and the
 * back-off.
 */
import type { Disposer, NodeStatus } from '../model/types.js';

export interface ConnectionSteps {
  /**
   * Opens a whole session: connect, start the streams, resync the model. Throws when it cannot.
   * Calls `Connection.answered()` once the other end has answered with its model, before it is
   * published: what it brought is shown with the node online, not as a last-seen state.
   */
  open(attempt: 'first' | 'retry'): Promise<void>;
  /** Drops what a failed attempt left half open (streams). */
  abandon(): void;
  /** The failure in words, for the offline status. */
  describe(err: unknown): string;
  /** A longer wait before the next try for this failure (a refused token: retrying every few seconds only locks the address out), or undefined. */
  retryAfterMs?(err: unknown): number | undefined;
}

export interface ConnectionOptions {
  /** Reconnect back-off bounds in ms (default 250 → 5000). */
  minDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

export class Connection {
  #status: NodeStatus = { state: 'connecting' };
  #listeners = new Set<(s: NodeStatus) => void>();
  #timer: NodeJS.Timeout | null = null;
  #delay: number;
  #live = false;
  #closed = false;
  readonly #steps: ConnectionSteps;
  readonly #o: ConnectionOptions;

  constructor(steps: ConnectionSteps, options: ConnectionOptions = {}) {
    this.#steps = steps;
    this.#o = options;
    this.#delay = options.minDelayMs ?? 250;
  }

  /** Whether connect() was called and close() not since: the node keeps itself connected. */
  get live(): boolean {
    return this.#live;
  }

  get closed(): boolean {
    return this.#closed;
  }

  status(): NodeStatus {
    return this.#status;
  }

  onStatus(listener: (status: NodeStatus) => void): Disposer {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The first attempt: resolves online, or throws (and keeps retrying in the background). */
  async connect(): Promise<void> {
    if (this.#live) return;
    this.#live = true;
    this.#closed = false;
    this.#firstAttemptAt = this.#now();
    try {
      await this.#attempt('first');
      this.#online();
    } catch (err) {
      this.lost(this.#steps.describe(err), this.#steps.retryAfterMs?.(err));
      throw err;
    }
  }

  /** Whether an attempt to open a session is under way (`answered()` counts only then). */
  #opening = false;

  async #attempt(kind: 'first' | 'retry'): Promise<void> {
    this.#opening = true;
    try {
      await this.#steps.open(kind);
    } finally {
      this.#opening = false;
    }
  }

  /**
   * The session being opened has answered (the node's model is in hand):
   * online now, before the model is published. Otherwise a node coming back
   * showed its fresh rows as an offline node's last-seen state ("last seen
   * 4s ago") until the rest of the session was up. Outside an attempt, nothing.
   */
  answered(): void {
    if (!this.#opening || this.#closed || this.#status.state === 'online') return;
    this.#online();
  }

  /** Whether the node has answered once: before, an outage has no "last seen". */
  #everOnline = false;
  /** When connect() first tried: a node never reached has been tried for since then (a hung engine holds the first try for its whole deadline). */
  #firstAttemptAt: number | null = null;

  /** The session broke (a stream ended, a request failed for good): offline, and retry after the back-off. */
  lost(reason: string, delayMs?: number): void {
    if (this.#closed || this.#timer) return;
    const delay = delayMs ?? this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#o.maxDelayMs ?? 5000);
    // Offline since the first loss, not since the last retry: "last seen 40s ago" must count from the last contact.
    const since = this.#status.state === 'offline' ? this.#status.since : this.#everOnline ? this.#now() : (this.#firstAttemptAt ?? this.#now());
    this.#set({ state: 'offline', since, reason, retryInMs: delay, ...(this.#everOnline ? {} : { neverReached: true }) });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#retry();
    }, delay);
  }

  close(): void {
    this.#closed = true;
    this.#live = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #retry(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#attempt('retry');
      if (this.#closed) return;
      this.#delay = this.#o.minDelayMs ?? 250;
      this.#online();
    } catch (err) {
      this.#steps.abandon();
      this.lost(this.#steps.describe(err), this.#steps.retryAfterMs?.(err));
    }
  }

  #online(): void {
    this.#everOnline = true;
    // Said once per session (answered() may have said it already).
    if (this.#status.state === 'online') return;
    this.#set({ state: 'online', since: this.#now() });
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #set(s: NodeStatus): void {
    this.#status = s;
    for (const l of [...this.#listeners]) l(s);
  }
}
