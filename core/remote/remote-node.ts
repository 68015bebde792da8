/**
 * RemoteNode: a peer's node through its Outpost agent's HTTPS API
 * (core/api/), pinned to the agent's certificate (client.ts). The live
 * model is the agent's model stream (a reset, then changes) kept in a
 * ContainerStore; the events stream feeds watchEvents. Both are opened by
 * each session of the shared connection state machine, so a peer that goes
 * away turns offline, is retried with back-off, and resyncs (a new reset)
 * when it comes back. Stats and host figures are sampled with the shared
 * poller. Every container, event and figure is named after this node.
 */
import { ContainerStore } from '../model/container-store.js';
import { hostDecoder, statsDecoder, type DeltaDecoder } from './sample-delta.js';
import { BadInputError, ForbiddenError, PeerTimeoutError, ProtocolError, UnauthorisedError } from '../model/errors.js';
import type { ContainerDetails, ContainerEvent, ContainerStats, ContainerSummary, Disposer, EngineInfo, HostMetrics, LogLine, ModelChange, NodeStatus, RunSpec } from '../model/types.js';
import type { ExecOptions, ExecSession, ListOptions, LogOptions, LogStream, Node, RemoveOptions, RestartOptions, StartOptions, StatsOptions, StopOptions, WatchEventsOptions } from '../node.js';
import { Connection } from '../shared/connection.js';
import { poll } from '../shared/poll.js';
import { isLoopbackHost } from '../shared/loopback.js';
import { ApiClient, peerError, type PeerOptions, type StreamOptions } from './client.js';
import { remoteExec } from './remote-exec.js';
import { RemoteRules } from './remote-rules.js';

export interface RemoteNodeOptions extends PeerOptions {
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  now?: () => number;
  onError?: (message: string) => void;
  /**
   * Asks for logs gzip-compressed (5–10 times fewer bytes on a thin link). Default: unless the
   * agent is on this machine's loopback, where compressing only costs CPU.
   */
  compressLogs?: boolean;
}

/** A sample stream that broke while the node stays online is opened again after this long. */
const SAMPLE_STREAM_RETRY_MS = 1000;
/** How long a node whose token the peer refused waits before it tries again. */
const TOKEN_REFUSED_RETRY_MS = 60_000;
/** A stream that asks the agent for no heartbeat (see #tied). */
const NO_BEAT = { heartbeatMs: 0 } as const;

/** Whether an agent's URL is on this machine's loopback (127.0.0.0/8, ::1, localhost). */
function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** How a stream of this peer is opened and tied to the link's watch (RemoteNode #link). */
export interface StreamLink {
  options: StreamOptions;
  /** Closes the stream with the session; returns the untie. */
  tie: (close: () => void) => () => void;
}

export class RemoteNode implements Node {
  readonly name: string;
  readonly kind = 'agent' as const;
  readonly isThisMachine = false;
  /** The agent samples its own host. */
  readonly reportsHost = true;
  readonly rules: RemoteRules;
  readonly url: string;
  readonly #compressLogs: boolean;

  readonly #client: ApiClient;
  readonly #store: ContainerStore;
  readonly #conn: Connection;
  readonly #eventListeners = new Set<(e: ContainerEvent) => void>();
  readonly #pollers = new Set<Disposer>();
  /** The streams of the session now (model, events); closed on loss and on close(). */
  #session: { close: () => void }[] = [];
  /**
   * Streams that carry no heartbeat of their own (logs, the journal): the session's status stream
   * beats for the whole link, and when it finds the link lost these are closed with it, so their
   * owners open them again once the peer is back. One beat for the link instead of one a stream.
   */
  readonly #tied = new Set<() => void>();

  /**
   * How to open a stream watched by the session's beat: while the session is live, with no beat
   * of its own and tied to the session (closed when the link is lost, or at once when the session
   * changed while it opened); otherwise (a CLI's node that never connected) with the agent's beat.
   */
  #link(): StreamLink {
    const gen = this.#generation;
    if (this.#conn.status().state !== 'online' || this.#session.length === 0) return { options: {}, tie: () => () => undefined };
    return {
      options: NO_BEAT,
      tie: (close) => {
        if (gen !== this.#generation) {
          close();
          return () => undefined;
        }
        this.#tied.add(close);
        return () => this.#tied.delete(close);
      },
    };
  }
  #generation = 0;
  readonly #statusListeners = new Set<(status: NodeStatus) => void>();
  /** The agent's own connection to its engine (its status stream); null until told. */
  #engineStatus: NodeStatus | null = null;
  /** The newest event seen (ns): a new session asks for those after it. */
  #lastEventNano = 0;
  /** When the session now began, by the agent's clock (ns, a second early): the replay's start when no event came. */
  #sessionStartNano = 0;
  /** The latest events given (a replay overlaps what was seen): each is given once. */
  #recentEvents = new Set<string>();

  #seenEvent(e: ContainerEvent): boolean {
    const key = `${e.id}\0${e.action}\0${e.timeNano}`;
    if (this.#recentEvents.has(key)) return true;
    this.#recentEvents.add(key);
    if (this.#recentEvents.size > 2000) for (const k of [...this.#recentEvents].slice(0, 1000)) this.#recentEvents.delete(k);
    return false;
  }

  constructor(o: RemoteNodeOptions) {
    this.name = o.name;
    this.url = o.url;
    this.#compressLogs = o.compressLogs ?? !isLoopbackUrl(o.url);
    this.#client = new ApiClient(o);
    this.#store = new ContainerStore(o.onError);
    this.rules = new RemoteRules(this.#client, o.name, () => this.#link());
    this.#conn = new Connection(
      {
        open: () => this.#open(),
        abandon: () => this.#dropSession(),
        describe: (err) => peerError(err, this.#client.label).message,
        // A refused token is not fixed by trying again in a few seconds: those tries would only lock this address out.
        retryAfterMs: (err) => (err instanceof UnauthorisedError || err instanceof ForbiddenError ? TOKEN_REFUSED_RETRY_MS : undefined),
      },
      {
        ...(o.reconnectMinMs !== undefined ? { minDelayMs: o.reconnectMinMs } : {}),
        ...(o.reconnectMaxMs !== undefined ? { maxDelayMs: o.reconnectMaxMs } : {}),
        ...(o.now ? { now: o.now } : {}),
      },
    );
    this.#conn.onStatus(() => this.#emitStatus());
  }

  // ---- the session: model and events --------------------------------------

  async connect(): Promise<void> {
    try {
      await this.#conn.connect();
    } catch (err) {
      throw peerError(err, this.#client.label);
    }
  }

  #dropSession(): void {
    this.#generation++;
    this.#engineStatus = null;
    for (const s of this.#session.splice(0)) s.close();
    for (const close of [...this.#tied]) close();
    this.#tied.clear();
    this.rules.forgetAgent();
  }

  async #open(): Promise<void> {
    this.#dropSession();
    const gen = this.#generation;
    const lost = (reason: string) => {
      if (gen !== this.#generation || this.#conn.closed) return;
      this.#dropSession();
      this.#conn.lost(reason);
    };
    // After a loss, the events since the last one seen (or since the last session began, by the agent's
    // clock) come first: a restarted agent leaves no gap. What was seen already is given once only.
    const since = Math.max(this.#lastEventNano, this.#sessionStartNano);
    // Events and the model beat not: the status stream below beats for the link, and its loss drops them too.
    const events = await this.#client.stream<ContainerEvent>('events', since > 0 ? { query: { sinceNano: String(Math.floor(since)) } } : {}, NO_BEAT);
    // The Date header has whole seconds: a second earlier is surely before anything this session sees.
    if (events.serverTime !== null) this.#sessionStartNano = (events.serverTime - 1000) * 1e6;
    this.#session.push(events);
    const model = await this.#client.stream<ModelChange>('model', {}, NO_BEAT);
    this.#session.push(model);
    const it = model.items[Symbol.asyncIterator]();
    // The first change is the agent's full list; it must come within the deadline.
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PeerTimeoutError(this.#client.label, 'GET /v1/model (its first list)', this.#client.timeoutMs)), this.#client.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (first.done || first.value.kind !== 'reset') throw new ProtocolError(`the model stream of ${this.#client.label} did not start with a reset`);
    this.#conn.answered();
    this.#apply(first.value);
    // The agent's engine: a peer whose agent answers while its engine is down is not shown as fine.
    const engineStatus = await this.#client.stream<NodeStatus>('statusWatch');
    this.#session.push(engineStatus);
    void (async () => {
      try {
        for await (const st of engineStatus.items) {
          if (gen !== this.#generation) return;
          const before = JSON.stringify(this.#engineStatus);
          this.#engineStatus = st;
          if (JSON.stringify(st) !== before) this.#emitStatus();
        }
        lost('the agent ended the status stream');
      } catch (err) {
        lost(peerError(err, this.#client.label).message);
      }
    })();
    void (async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          if (gen !== this.#generation) return;
          this.#apply(r.value);
        }
        lost('the agent ended the model stream');
      } catch (err) {
        lost(peerError(err, this.#client.label).message);
      }
    })();
    void (async () => {
      try {
        for await (const e of events.items) {
          if (gen !== this.#generation) return;
          if (typeof e.timeNano === 'number' && e.timeNano > this.#lastEventNano) this.#lastEventNano = e.timeNano;
          if (this.#seenEvent(e)) continue;
          const ev = { ...e, node: this.name };
          for (const l of [...this.#eventListeners]) l(ev);
        }
        lost('the agent ended the event stream');
      } catch (err) {
        lost(peerError(err, this.#client.label).message);
      }
    })();
  }

  #own<T extends { node: string }>(x: T): T {
    return { ...x, node: this.name };
  }

  #apply(change: ModelChange): void {
    if (change.kind === 'reset' && Array.isArray(change.containers)) this.#store.reset(change.containers.map((c) => this.#own(c)));
    else if (change.kind === 'upsert' && change.container && typeof change.container.id === 'string') this.#store.upsert(this.#own(change.container), change.event);
    else if (change.kind === 'remove' && typeof change.id === 'string') this.#store.remove(change.id);
    else throw new ProtocolError(`a model change of unknown shape from ${this.#client.label}`);
  }

  async close(): Promise<void> {
    this.#conn.close();
    this.#dropSession();
    for (const d of [...this.#pollers]) d();
    this.rules.close();
    this.#client.destroy();
  }

  /**
   * The peer as the fleet sees it: unreachable when its agent does not
   * answer; when the agent answers but its own engine does not, offline too,
   * with that reason (its containers' figures are the agent's last ones).
   */
  status(): NodeStatus {
    const conn = this.#conn.status();
    const engine = this.#engineStatus;
    if (conn.state !== 'online' || !engine || engine.state !== 'offline') return conn;
    return { state: 'offline', since: engine.since, reason: `its agent answers, but not its engine: ${engine.reason}`, retryInMs: engine.retryInMs, ...(engine.neverReached ? { neverReached: true } : {}) };
  }

  onStatus(listener: (status: NodeStatus) => void): Disposer {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  #emitStatus(): void {
    const s = this.status();
    for (const l of [...this.#statusListeners]) l(s);
  }

  containers(): ContainerSummary[] {
    return this.#store.all();
  }

  watch(listener: (change: ModelChange) => void): Disposer {
    return this.#store.subscribe(listener);
  }

  watchEvents(listener: (event: ContainerEvent) => void, options: WatchEventsOptions = {}): Disposer {
    if (options.sinceNano === undefined || !(options.sinceNano > 0)) {
      this.#eventListeners.add(listener);
      return () => this.#eventListeners.delete(listener);
    }
    // A replay is the agent's to do from its engine: a stream of its own, for this listener.
    let stopped = false;
    let close: (() => void) | null = null;
    void (async () => {
      try {
        const s = await this.#client.stream<ContainerEvent>('events', { query: { sinceNano: String(Math.floor(options.sinceNano as number)) } });
        close = s.close;
        if (stopped) return s.close();
        for await (const e of s.items) if (!stopped) listener({ ...e, node: this.name });
      } catch {
        // The peer is away: this listener's replay ends (the node's status says why).
      }
    })();
    return () => {
      stopped = true;
      close?.();
    };
  }

  // ---- queries and actions --------------------------------------------------

  async info(): Promise<EngineInfo> {
    return this.#own(await this.#client.call<EngineInfo>('info'));
  }

  async list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    return (await this.#client.call<ContainerSummary[]>('list', { query: { all: options.all === true } })).map((c) => this.#own(c));
  }

  async inspect(ref: string): Promise<ContainerDetails> {
    return this.#own(await this.#client.call<ContainerDetails>('inspect', { params: { ref } }));
  }

  resolve(ref: string): Promise<string> {
    return this.#client.call('resolve', { params: { ref } });
  }

  async start(ref: string, options: StartOptions = {}): Promise<void> {
    // The override only when given: an agent of an older build takes no body on start.
    await this.#client.call('start', { params: { ref }, ...(options.overrideFence === true ? { body: { overrideFence: true } } : {}) });
  }

  async stop(ref: string, options: StopOptions = {}): Promise<void> {
    await this.#client.call('stop', { params: { ref }, body: { ...options } });
  }

  async restart(ref: string, options: RestartOptions = {}): Promise<void> {
    const { overrideFence, ...stop } = options;
    await this.#client.call('restart', { params: { ref }, body: { ...stop, ...(overrideFence === true ? { overrideFence: true } : {}) } });
  }

  async kill(ref: string, signal?: string): Promise<void> {
    await this.#client.call('kill', { params: { ref }, body: signal === undefined ? {} : { signal } });
  }

  async remove(ref: string, options: RemoveOptions = {}): Promise<void> {
    await this.#client.call('remove', { params: { ref }, query: { force: options.force === true, volumes: options.volumes === true } });
  }

  async pause(ref: string): Promise<void> {
    await this.#client.call('pause', { params: { ref } });
  }

  async unpause(ref: string): Promise<void> {
    await this.#client.call('unpause', { params: { ref } });
  }

  async logs(ref: string, options: LogOptions = {}): Promise<LogStream> {
    // A quiet container's log says nothing for hours: while the session is live its beat watches the link.
    const link = this.#link();
    const how = { ...link.options, gzip: this.#compressLogs };
    // Lines come in runs (`batch`); an agent from before batching refuses the key, and is asked without it.
    const s = await this.#client.streamBatches<LogLine>('logs', { params: { ref }, query: { ...options, batch: true } }, how).catch((err: unknown) => {
      if (err instanceof BadInputError && /\bbatch\b/.test(err.message)) return this.#client.streamBatches<LogLine>('logs', { params: { ref }, query: { ...options } }, how);
      throw err;
    });
    let closed = false;
    const untie = link.tie(() => s.close());
    const it = s.items[Symbol.asyncIterator]();
    let run: LogLine[] = [];
    let at = 0;
    return {
      [Symbol.asyncIterator]: () => ({
        async next(): Promise<IteratorResult<LogLine>> {
          try {
            while (at >= run.length) {
              const r = await it.next();
              if (r.done) {
                untie();
                return { value: undefined, done: true };
              }
              run = r.value;
              at = 0;
            }
            return { value: run[at++] as LogLine, done: false };
          } catch (err) {
            untie();
            if (closed) return { value: undefined, done: true };
            throw err;
          }
        },
        async return() {
          untie();
          s.close();
          await it.return?.();
          return { value: undefined, done: true };
        },
      }),
      close: () => {
        closed = true;
        untie();
        s.close();
      },
    };
  }

  exec(ref: string, options: ExecOptions): Promise<ExecSession> {
    return remoteExec(this.#client, ref, options);
  }

  // ---- resources ------------------------------------------------------------

  async statsOnce(): Promise<ContainerStats[]> {
    return this.#client.call('stats');
  }

  watchStats(listener: (stats: ContainerStats[]) => void, options: StatsOptions = {}): Disposer {
    const intervalMs = options.intervalMs ?? 2000;
    // One stream of changes (a few hundred bytes a sample on a quiet node, where polling whole
    // samples cost 8 KB/s and a new monitor at the agent each time); an agent from before
    // compact streams is polled.
    return this.#followSamples(
      'statsWatch',
      intervalMs,
      statsDecoder,
      listener,
      () => poll(intervalMs, () => this.statsOnce(), listener, this.#pollers),
    );
  }

  // ---- placement ------------------------------------------------------------

  images(): Promise<string[]> {
    return this.#client.call('images');
  }

  devices(paths: string[]): Promise<Record<string, boolean> | null> {
    return this.#client.call('devices', { query: { paths: JSON.stringify(paths) } });
  }

  run(spec: RunSpec): Promise<string> {
    return this.#client.call('run', { body: spec });
  }

  async host(): Promise<HostMetrics | null> {
    const h = await this.#client.call<HostMetrics | null>('host');
    return h ? this.#own(h) : null;
  }

  watchHost(listener: (metrics: HostMetrics) => void, options: StatsOptions = {}): Disposer {
    const intervalMs = options.intervalMs ?? 2000;
    return this.#followSamples(
      'hostWatch',
      intervalMs,
      hostDecoder,
      (rows) => {
        const row = rows[0];
        if (!row) return;
        const { id: _id, ...h } = row;
        listener(this.#own(h));
      },
      () =>
        poll(
          intervalMs,
          async () => {
            const h = await this.host();
            if (!h) throw new Error('no host metrics');
            return h;
          },
          listener,
          this.#pollers,
        ),
    );
  }

  /**
   * A compact sample stream for as long as the listener wants it: opened while the node is
   * online, again after every loss (a fresh decoder each time: the agent starts each stream
   * with whole rows), closed when the node goes offline or close() is called.
   */
  #followSamples<T extends object>(route: 'statsWatch' | 'hostWatch', intervalMs: number, decoder: () => DeltaDecoder<T>, give: (rows: T[]) => void, fallback: () => Disposer): Disposer {
    let stopped = false;
    let current: { close: () => void } | null = null;
    let opening = false;
    let retry: NodeJS.Timeout | undefined;
    let polling: Disposer | null = null;
    const again = () => {
      clearTimeout(retry);
      if (!stopped) retry = setTimeout(start, SAMPLE_STREAM_RETRY_MS);
    };
    const start = () => {
      if (stopped || polling || current || opening || this.#conn.status().state !== 'online') return;
      opening = true;
      // No beat of its own: it is closed when the node goes offline (below).
      this.#client.stream<unknown>(route, { query: { intervalMs: String(intervalMs), compact: true } }, NO_BEAT).then(
        (s) => {
          opening = false;
          if (stopped || this.#conn.status().state !== 'online') return s.close();
          current = s;
          const dec = decoder();
          void (async () => {
            try {
              for await (const frame of s.items) {
                if (stopped) break;
                give(dec.apply(frame));
              }
            } catch {
              // A broken stream: the node's status says why; the samples resume with it.
            } finally {
              s.close();
              if (current === s) current = null;
              again();
            }
          })();
        },
        (err: unknown) => {
          opening = false;
          if (err instanceof BadInputError && /\bcompact\b/.test(err.message) && !stopped) {
            polling = fallback();
            return;
          }
          again();
        },
      );
    };
    const offStatus = this.#conn.onStatus((st) => {
      if (st.state === 'online') start();
      else current?.close();
    });
    start();
    const dispose = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(retry);
      offStatus();
      current?.close();
      polling?.();
      this.#pollers.delete(dispose);
    };
    this.#pollers.add(dispose);
    return dispose;
  }
}
