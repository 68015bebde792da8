import { EngineUnreachableError } from '../model/errors.js';
import type { ContainerStats, ContainerSummary, Disposer, EngineInfo, HostMetrics, NodeStatus } from '../model/types.js';
import type { ExecSession, LogStream, Node } from '../node.js';

/**
 * A peer that cannot be built (its agent client is not in this build, its
 * token is missing): it stays in the fleet, shown offline with the reason,
 * and every request fails with that reason instead of the fleet failing.
 */
export class UnreachableNode implements Node {
  readonly isThisMachine = false;
  readonly rules = null;
  readonly reportsHost: boolean;
  readonly #status: NodeStatus;

  constructor(
    readonly name: string,
    readonly kind: 'engine' | 'agent',
    readonly reason: string,
  ) {
    this.reportsHost = kind === 'agent';
    this.#status = { state: 'offline', since: Date.now(), reason, retryInMs: 0, neverReached: true };
  }

  #fail(): Promise<never> {
    return Promise.reject(new EngineUnreachableError(`peer ${this.name}`, this.reason));
  }

  connect(): Promise<void> {
    return this.#fail();
  }
  async close(): Promise<void> {}
  status(): NodeStatus {
    return this.#status;
  }
  onStatus(listener: (status: NodeStatus) => void): Disposer {
    listener(this.#status);
    return () => {};
  }
  info(): Promise<EngineInfo> {
    return this.#fail();
  }
  images(): Promise<string[]> {
    return this.#fail();
  }
  devices(): Promise<Record<string, boolean> | null> {
    return this.#fail();
  }
  run(): Promise<string> {
    return this.#fail();
  }
  list(): Promise<ContainerSummary[]> {
    return this.#fail();
  }
  inspect(): Promise<never> {
    return this.#fail();
  }
  resolve(): Promise<string> {
    return this.#fail();
  }
  start(): Promise<void> {
    return this.#fail();
  }
  stop(): Promise<void> {
    return this.#fail();
  }
  restart(): Promise<void> {
    return this.#fail();
  }
  kill(): Promise<void> {
    return this.#fail();
  }
  remove(): Promise<void> {
    return this.#fail();
  }
  pause(): Promise<void> {
    return this.#fail();
  }
  unpause(): Promise<void> {
    return this.#fail();
  }
  logs(): Promise<LogStream> {
    return this.#fail();
  }
  exec(): Promise<ExecSession> {
    return this.#fail();
  }
  containers(): ContainerSummary[] {
    return [];
  }
  watch(): Disposer {
    return () => {};
  }
  watchEvents(): Disposer {
    return () => {};
  }
  statsOnce(): Promise<ContainerStats[]> {
    return this.#fail();
  }
  watchStats(): Disposer {
    return () => {};
  }
  host(): Promise<HostMetrics | null> {
    return Promise.resolve(null);
  }
  watchHost(): Disposer {
    return () => {};
  }
}
