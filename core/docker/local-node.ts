/**
 * LocalNode: the Node interface over a Docker engine's API (dockerode).
 *
 * Why this file is ~580 lines: it is the one implementation of the whole
 * Node interface for an engine, each method short and next to the others
 * that share its engine handle and live model. What a RemoteNode will share
 * lives elsewhere: the connection state machine and the poller
 * (core/shared/), the live model (core/model/container-store.ts), log
 * decoding and streams (log-decoder.ts, log-stream.ts), mapping (mapping.ts),
 * resource monitors (core/monitor/).
 */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { ContainerStore } from '../model/container-store.js';
import { Connection } from '../shared/connection.js';
import { poll } from '../shared/poll.js';
import { BadInputError, FencedError, OutpostError, NotAllowedError } from '../model/errors.js';
import { resolveContainer } from '../model/resolve.js';
import { normalizeSignal, SIGNAL_HINT } from '../model/signals.js';
import type {
  ContainerDetails,
  ContainerEvent,
  ContainerStats,
  ContainerSummary,
  Disposer,
  EngineInfo,
  HostMetrics,
  ModelChange,
  NodeStatus,
  RunSpec,
} from '../model/types.js';
import { ContainerMonitor, type StatsSource } from '../monitor/container-monitor.js';
import { HostMonitor } from '../monitor/host-monitor.js';
import type { RawStats } from '../monitor/stats-api.js';
import type {
  ExecOptions,
  ExecSession,
  ListOptions,
  LogOptions,
  LogStream,
  Node,
  RemoveOptions,
  RestartOptions,
  StartOptions,
  StatsOptions,
  StopOptions,
  WatchEventsOptions,
} from '../node.js';
import { fenceLabel, fenceOf } from '../agent/placement-link.js';
import { engineTimeoutFromEnv } from './deadline.js';
import { compareApi, Engine } from './engine.js';
import { describeEndpoint, resolveEndpoint, type Endpoint } from './endpoint.js';
import { isStateChange, readEvents, sinceParam, toContainerEvent } from './event-pump.js';
import { createExecSession } from './exec-session.js';
import { DEFAULT_MAX_LINE_BYTES, LogDecoder } from './log-decoder.js';
import { logStreamOf } from './log-stream.js';
import { detailsFromInspect, summaryFromInspect, statusLine, summaryFromList, type RawInspect, type RawListRow } from './mapping.js';
import { RefreshQueue } from './refresh-queue.js';
import { translateEngineError } from './translate-error.js';
import type { RulesPort } from '../rules/port.js';
import { runPolicyRefusal, type RunPolicy } from '../placement/run-policy.js';
import { mapLimit } from '../shared/map-limit.js';

export interface LocalNodeOptions {
  name?: string;
  /**
   * What `run` starts on anyone else's behalf (the agent's node: placement, failover, a rule's
   * move, the API); a refused spec throws NotAllowedError naming the field and the rule. Absent:
   * no policy (a person's own CLI, with the engine's socket in hand anyway).
   */
  runPolicy?: RunPolicy;
  endpoint?: Endpoint;
  /** Where per-container figures come from (default: cgroup files, then the API). */
  statsSource?: StatsSource;
  /** Reconnect back-off bounds in ms (default 250 → 5000). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  now?: () => number;
  /** Problems that are not the caller's (a subscriber that threw); default: a process warning. */
  onError?: (message: string) => void;
  /**
   * The rule engine of this node, built by the composition root (the local one sits on the
   * agent's files: core/agent/local-rules.ts); given the node, as it reads its live model.
   */
  rules?: (node: LocalNode) => RulesPort;
  /** Whether the node is this machine; default: from the endpoint (an engine-only peer on a unix:// socket passes false). */
  isThisMachine?: boolean;
  /** Deadline of every engine request in ms (default: OUTPOST_ENGINE_TIMEOUT, else 10 s; see deadline.ts). */
  requestTimeoutMs?: number;
  /**
   * The agent's state directory of this machine: start and restart refuse a container that
   * placement failover fenced there (FencedError) unless asked with `overrideFence`. Absent (an
   * engine-only peer, whose fences no agent here keeps): nothing is refused.
   */
  stateDir?: string;
}

const INSPECT_CONCURRENCY = 16;
/** How long list() may spend making sure the model is current before it asks the engine instead. */
const MODEL_CHECK_MS = 500;
/** `["zone=line-2", "gpu"]` as the engine gives its labels → `{zone: "line-2", gpu: ""}`. */
function engineLabels(raw: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!Array.isArray(raw)) return { ...out };
  for (const l of raw) {
    if (typeof l !== 'string') continue;
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (key === '' || key === '__proto__') continue;
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return { ...out };
}

/** What the engine lists without `all`: containers whose process is there (docker ps shows paused and restarting ones). */
const LISTED_WITHOUT_ALL: ReadonlySet<string> = new Set(['running', 'paused', 'restarting']);
/** Interval between the two readings a one-shot host sample takes for its rates (as `vmstat 1 2` does, shorter). */
export const HOST_RATE_WINDOW_MS = 500;

/** An engine on a local socket, or on a loopback address, is this machine's. */
export function isThisMachine(e: Endpoint): boolean {
  if (e.kind === 'unix') return true;
  if (e.kind === 'ssh') return false;
  return e.host === 'localhost' || e.host === '::1' || e.host === '[::1]' || /^127\./.test(e.host);
}

/** A Docker engine (this machine's, or an engine-only peer's), as a Node. */
export class LocalNode implements Node {
  readonly name: string;
  readonly kind = 'engine' as const;
  readonly endpoint: Endpoint;
  readonly isThisMachine: boolean;
  readonly rules: RulesPort | null;
  /** Only this machine's engine: the host figures come from this machine's /proc and /sys. */
  get reportsHost(): boolean {
    return this.isThisMachine;
  }

  #engine: Engine | null = null;
  #connecting: Promise<Engine> | null = null;
  #store: ContainerStore;
  #pids = new Map<string, number>();
  #eventListeners = new Set<(e: ContainerEvent) => void>();
  #events: Readable | null = null;
  #lastEventNano = 0;
  /** When (engine clock, ns) the model's last full list began; 0 until there is one. */
  #modelAsOfNano = 0;
  /** The engine could not answer the model check in time this session: lists go to the engine. */
  #modelCheckFailed = false;
  #refresh: RefreshQueue<RawInspect>;
  #pollers = new Set<Disposer>();
  readonly #conn: Connection;
  readonly #options: LocalNodeOptions;
  readonly #timeoutMs: number;
  /** Aborted by close(): every request still waiting on the engine ends (a hung engine cannot hold a quit). */
  #closing = new AbortController();

  constructor(options: LocalNodeOptions = {}) {
    this.#timeoutMs = options.requestTimeoutMs ?? engineTimeoutFromEnv();
    this.#store = new ContainerStore(options.onError);
    this.#options = options;
    this.name = options.name ?? 'local';
    this.endpoint = options.endpoint ?? resolveEndpoint();
    this.isThisMachine = options.isThisMachine ?? isThisMachine(this.endpoint);
    this.rules = options.rules ? options.rules(this) : null;
    this.#conn = new Connection(
      {
        open: (attempt) => this.#open(attempt),
        abandon: () => {
          this.#events?.destroy();
          this.#events = null;
        },
        describe: (err) => this.#translate(err).message,
      },
      {
        ...(options.reconnectMinMs !== undefined ? { minDelayMs: options.reconnectMinMs } : {}),
        ...(options.reconnectMaxMs !== undefined ? { maxDelayMs: options.reconnectMaxMs } : {}),
        now: () => this.#now(),
      },
    );
    this.#refresh = new RefreshQueue<RawInspect>({
      concurrency: INSPECT_CONCURRENCY,
      inspect: async (id) => {
        const engine = this.#engine;
        if (!engine || this.#conn.closed) throw new Error('not connected');
        return (await engine.docker.getContainer(id).inspect()) as unknown as RawInspect;
      },
      apply: (id, raw, action) => {
        this.#pids.set(id, raw.State?.Pid ?? 0);
        this.#store.upsert(summaryFromInspect(raw, this.name, this.#now()), action);
      },
      failed: (id, err) => {
        if (this.#conn.closed || !this.#engine) return;
        if (translateEngineError(err, this.#engine.label, id).code === 'NO_SUCH_CONTAINER') {
          this.#pids.delete(id);
          this.#store.remove(id);
        }
        // Other failures mean the engine is going away; the resync after reconnect repairs the model.
      },
    });
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** The connected engine; connects on first use (one attempt). */
  async #getEngine(): Promise<Engine> {
    if (this.#engine) return this.#engine;
    // Used again after close(): a new connection that the last close does not end.
    if (this.#closing.signal.aborted) this.#closing = new AbortController();
    this.#connecting ??= Engine.connect(this.endpoint, { timeoutMs: this.#timeoutMs, closed: this.#closing.signal }).finally(() => {
      this.#connecting = null;
    });
    this.#engine = await this.#connecting;
    return this.#engine;
  }

  #fail(err: unknown, ref?: string): never {
    throw translateEngineError(err, describeEndpoint(this.endpoint), ref);
  }

  // ---- lifecycle and live model -------------------------------------------

  async connect(): Promise<void> {
    try {
      await this.#conn.connect();
    } catch (err) {
      throw this.#translate(err);
    }
  }

  /** One session: the engine (negotiated again after a loss: it may have come back as another version), its events, a fresh model. */
  async #open(attempt: 'first' | 'retry'): Promise<void> {
    if (attempt === 'retry') {
      this.#engine?.close();
      this.#engine = null;
    }
    await this.#getEngine();
    await this.#startEvents();
    await this.#resync();
  }

  #translate(err: unknown): OutpostError {
    return err instanceof OutpostError ? err : translateEngineError(err, describeEndpoint(this.endpoint));
  }

  async close(): Promise<void> {
    this.#conn.close();
    this.#closing.abort();
    for (const dispose of [...this.#pollers]) dispose();
    this.#host?.close();
    this.#events?.destroy();
    this.#events = null;
    this.#engine?.close();
    this.#engine = null;
    this.#refresh.close();
  }

  status(): NodeStatus {
    return this.#conn.status();
  }

  onStatus(listener: (status: NodeStatus) => void): Disposer {
    return this.#conn.onStatus(listener);
  }

  containers(): ContainerSummary[] {
    return this.#store.all();
  }

  watch(listener: (change: ModelChange) => void): Disposer {
    return this.#store.subscribe(listener);
  }

  watchEvents(listener: (event: ContainerEvent) => void, options: WatchEventsOptions = {}): Disposer {
    const since = options.sinceNano;
    if (since === undefined || !(since > 0)) {
      this.#eventListeners.add(listener);
      return () => this.#eventListeners.delete(listener);
    }
    // Live events wait while the engine replays what came after `since`; one that is in both is given once.
    let replaying = true;
    let stopped = false;
    const queued: ContainerEvent[] = [];
    const given = new Set<string>();
    const key = (e: ContainerEvent) => `${e.id}\0${e.action}\0${e.timeNano}`;
    const live = (e: ContainerEvent) => {
      if (replaying) queued.push(e);
      else if (!stopped) listener(e);
    };
    this.#eventListeners.add(live);
    void this.#replayEvents(since, (e) => {
      if (stopped || e.timeNano <= since) return;
      given.add(key(e));
      listener(e);
    }).finally(() => {
      replaying = false;
      for (const e of queued.splice(0)) if (!stopped && e.timeNano > since && !given.has(key(e))) listener(e);
      given.clear();
    });
    return () => {
      stopped = true;
      this.#eventListeners.delete(live);
    };
  }

  /** The engine's events from `sinceNano` to now (as many as it still holds), within the request deadline; none when it cannot say. */
  async #replayEvents(sinceNano: number, give: (e: ContainerEvent) => void, timeoutMs = this.#timeoutMs): Promise<boolean> {
    let stream: Readable | null = null;
    let timer: NodeJS.Timeout | undefined;
    let complete = false;
    try {
      const engine = await this.#getEngine();
      const until = sinceParam(Date.now() * 1e6);
      const opts: Record<string, unknown> = { filters: { type: ['container'] }, since: sinceParam(sinceNano), until };
      stream = (await engine.docker.getEvents(opts)) as unknown as Readable;
      const s = stream;
      await new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          s.destroy();
          resolve();
        }, timeoutMs);
        readEvents(s, (raw) => {
          const ev = toContainerEvent(raw, this.name);
          if (ev) give(ev);
        });
        s.once('end', () => {
          complete = true;
          resolve();
        });
        s.once('close', resolve);
        s.once('error', () => resolve());
      });
    } catch {
      // The engine cannot replay now: live events only.
    } finally {
      clearTimeout(timer);
      stream?.destroy();
    }
    return complete;
  }

  async #startEvents(): Promise<void> {
    const engine = await this.#getEngine();
    const opts: Record<string, unknown> = { filters: { type: ['container'] } };
    if (this.#lastEventNano > 0) opts.since = sinceParam(this.#lastEventNano);
    let stream: Readable;
    try {
      stream = (await engine.docker.getEvents(opts)) as unknown as Readable;
    } catch (err) {
      this.#fail(err);
    }
    this.#events = stream;
    readEvents(stream, (raw) => {
      const ev = toContainerEvent(raw, this.name);
      if (!ev) return;
      if (ev.timeNano > this.#lastEventNano) this.#lastEventNano = ev.timeNano;
      for (const l of [...this.#eventListeners]) l(ev);
      if (ev.action === 'destroy') {
        this.#refresh.drop(ev.id);
        this.#pids.delete(ev.id);
        this.#store.remove(ev.id);
      } else if (isStateChange(ev.action)) {
        this.#refresh.queue(ev.id, ev.action);
      }
    });
    const lost = (reason: string) => {
      if (this.#events !== stream) return;
      this.#events = null;
      if (this.#conn.closed) return;
      this.#conn.lost(`event stream ended (${reason})`);
    };
    stream.on('end', () => lost('engine closed it'));
    stream.on('close', () => lost('connection closed'));
    stream.on('error', (err: Error) => lost(err.message));
  }

  /** Lists everything again and replaces the model (after connect and every reconnect). */
  async #resync(): Promise<void> {
    this.#refresh.hold(true);
    try {
      if (!this.#store.ready) {
        // First view from one request; the inspects below complete it (a terminal shows
        // 200 containers a round of inspects sooner).
        const engine = await this.#getEngine();
        try {
          const rows = (await engine.docker.listContainers({ all: true })) as unknown as RawListRow[];
          this.#conn.answered();
          this.#store.reset(rows.map((r) => summaryFromList(r, this.name)).sort((a, b) => b.created - a.created));
        } catch (err) {
          this.#fail(err);
        }
      }
      const asOf = Date.now() * 1e6;
      const all = await this.#listFromEngine({ all: true });
      this.#conn.answered();
      this.#store.reset(all);
      this.#modelAsOfNano = asOf;
      this.#modelCheckFailed = false;
    } finally {
      this.#refresh.hold(false);
    }
  }

  // ---- queries ------------------------------------------------------------

  async info(): Promise<EngineInfo> {
    const engine = await this.#getEngine();
    let raw: {
      NCPU?: number;
      MemTotal?: number;
      Containers?: number;
      ContainersRunning?: number;
      CgroupVersion?: string;
      OSType?: string;
      Architecture?: string;
      Name?: string;
      ID?: string;
      Labels?: unknown;
    };
    try {
      raw = (await engine.docker.info()) as typeof raw;
    } catch (err) {
      this.#fail(err);
    }
    return {
      node: this.name,
      endpoint: engine.label,
      serverVersion: engine.version.version,
      apiVersion: engine.apiVersion,
      os: raw.OSType ?? engine.version.os,
      arch: raw.Architecture ?? engine.version.arch,
      cpus: raw.NCPU ?? 0,
      memTotalBytes: raw.MemTotal ?? 0,
      containers: raw.Containers ?? 0,
      running: raw.ContainersRunning ?? 0,
      cgroupVersion: raw.CgroupVersion === '1' || raw.CgroupVersion === '2' ? raw.CgroupVersion : 'unknown',
      hostname: typeof raw.Name === 'string' ? raw.Name : '',
      engineId: typeof raw.ID === 'string' ? raw.ID : '',
      labels: engineLabels(raw.Labels),
    };
  }

  // ---- placement ----------------------------------------------------------

  async images(): Promise<string[]> {
    const engine = await this.#getEngine();
    let rows: { Id?: string; RepoTags?: string[] | null }[];
    try {
      rows = (await engine.docker.listImages()) as typeof rows;
    } catch (err) {
      this.#fail(err);
    }
    const out = new Set<string>();
    for (const r of rows) {
      if (typeof r.Id === 'string') out.add(r.Id);
      for (const t of r.RepoTags ?? []) if (typeof t === 'string' && t !== '<none>:<none>') out.add(t);
    }
    return [...out];
  }

  async devices(paths: string[]): Promise<Record<string, boolean> | null> {
    // Only an engine on this machine's own socket shares this machine's /dev.
    if (!this.isThisMachine) return null;
    const { existsSync } = await import('node:fs');
    const out: Record<string, boolean> = {};
    for (const p of paths) if (typeof p === 'string' && p.startsWith('/dev/') && !p.includes('..')) out[p] = existsSync(p);
    return out;
  }

  async run(spec: RunSpec): Promise<string> {
    if (this.#options.runPolicy) {
      // The engine this node drives is refused with the default socket paths, wherever its socket is.
      const engineSocket = this.endpoint.kind === 'unix' ? this.endpoint.socketPath : null;
      const refusal = runPolicyRefusal(spec, { ...this.#options.runPolicy, engineSocket });
      if (refusal) throw new NotAllowedError(`${this.name} does not run ${spec.name} for another: ${refusal}.`, { field: 'spec', rule: refusal });
    }
    const engine = await this.#getEngine();
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
    for (const p of spec.ports) {
      const key = `${p.container}/${p.protocol}`;
      exposed[key] = {};
      if (p.host !== null) (bindings[key] ??= []).push({ ...(p.ip ? { HostIp: p.ip } : {}), HostPort: String(p.host) });
    }
    let id: string;
    try {
      const c = await engine.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        Env: spec.env,
        Labels: spec.labels,
        ExposedPorts: exposed,
        HostConfig: {
          PortBindings: bindings,
          Binds: spec.volumes.filter((v) => v.source !== null).map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`),
          Devices: spec.devices.map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })),
          RestartPolicy: { Name: spec.restart.name, ...(spec.restart.maxRetries !== null ? { MaximumRetryCount: spec.restart.maxRetries } : {}) },
          ...(spec.cpus > 0 ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
          ...(spec.memoryBytes > 0 ? { Memory: spec.memoryBytes } : {}),
        },
        // Anonymous volumes (a target without a source) are the image's own business: named here so they are made.
        Volumes: Object.fromEntries(spec.volumes.filter((v) => v.source === null).map((v) => [v.target, {}])),
      });
      id = c.id;
    } catch (err) {
      this.#fail(err, spec.name);
    }
    try {
      await engine.docker.getContainer(id).start();
    } catch (err) {
      // A container that cannot start is not left behind half-made.
      await engine.docker.getContainer(id).remove({ force: true }).catch(() => undefined);
      this.#fail(err, spec.name);
    }
    return id;
  }

  /**
   * Lists containers with everything the list view shows. The engine's list
   * lacks restart counts and start times, so each row is inspected too
   * (in parallel, over kept-alive connections).
   */
  async list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    // The live model answers when it is provably current (an agent's clients list often; an
    // inspect per container made a list of 500 take a quarter of a second).
    if (await this.#modelIsCurrent()) {
      const rows = options.all === true ? this.#store.all().slice() : this.#store.all().filter((c) => LISTED_WITHOUT_ALL.has(c.state));
      // The status line counts time ("Up 5 minutes"): said as of now, as the engine would.
      const now = this.#now();
      return rows.map((c) => ({ ...c, status: statusLine(c.state, c.health, c.exitCode, c.startedAt, c.finishedAt, now) })).sort((a, b) => b.created - a.created);
    }
    return this.#listFromEngine(options);
  }

  /**
   * True when the model holds every change the engine made up to now: the model is live, the
   * engine's own record of events since the last one received holds none that the stream has not
   * delivered yet (waiting a moment for those), and no inspect is waiting or in flight. One cheap
   * request (a past window of events answers at once), bounded by MODEL_CHECK_MS; any doubt
   * answers false and the caller lists from the engine.
   */
  async #modelIsCurrent(): Promise<boolean> {
    if (!this.#store.ready || !this.#conn.live || this.#events === null || this.#modelAsOfNano === 0 || this.#modelCheckFailed) return false;
    const since = Math.max(this.#lastEventNano, this.#modelAsOfNano);
    let newest = 0;
    const started = Date.now();
    const complete = await this.#replayEvents(since, (e) => {
      if (e.timeNano > newest) newest = e.timeNano;
    }, MODEL_CHECK_MS);
    if (!complete) {
      // An engine whose clock is behind this one's holds a window that ends "in the future" open
      // until the deadline: it is not asked again this session (every list would wait first).
      if (Date.now() - started >= MODEL_CHECK_MS) this.#modelCheckFailed = true;
      return false;
    }
    const deadline = Date.now() + MODEL_CHECK_MS;
    while (this.#lastEventNano < newest) {
      if (Date.now() > deadline || this.#events === null) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
    let timer: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      this.#refresh.whenIdle().then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.max(1, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    return idle && this.#store.ready && this.#conn.live;
  }

  /** Lists and inspects every container at the engine (what the model is made from). */
  async #listFromEngine(options: ListOptions): Promise<ContainerSummary[]> {
    const engine = await this.#getEngine();
    let rows: { Id: string }[];
    try {
      rows = await engine.docker.listContainers({ all: options.all === true });
    } catch (err) {
      this.#fail(err);
    }
    const now = this.#now();
    const out = await mapLimit(rows, INSPECT_CONCURRENCY, async (row) => {
      try {
        const raw = (await engine.docker.getContainer(row.Id).inspect()) as unknown as RawInspect;
        this.#pids.set(raw.Id, raw.State?.Pid ?? 0);
        return summaryFromInspect(raw, this.name, now);
      } catch (err) {
        const e = translateEngineError(err, engine.label, row.Id);
        if (e.code === 'NO_SUCH_CONTAINER') return null; // removed between list and inspect
        throw e;
      }
    });
    return out.filter((c): c is ContainerSummary => c !== null).sort((a, b) => b.created - a.created);
  }

  async resolve(ref: string): Promise<string> {
    if (typeof ref !== 'string' || ref.trim() === '') throw new BadInputError('A container name or ID is required.');
    if (this.#store.ready && this.#conn.live) {
      try {
        return resolveContainer(this.#store.all(), ref, this.name).id;
      } catch {
        // The model may lag a just-created container by a few ms: ask the engine.
      }
    }
    const engine = await this.#getEngine();
    let rows: { Id: string; Names?: string[] }[];
    try {
      rows = await engine.docker.listContainers({ all: true });
    } catch (err) {
      this.#fail(err);
    }
    const items = rows.map((r) => ({ id: r.Id, name: (r.Names?.[0] ?? '').replace(/^\//, '') }));
    return resolveContainer(items, ref, this.name).id;
  }

  async inspect(ref: string): Promise<ContainerDetails> {
    const id = await this.resolve(ref);
    const engine = await this.#getEngine();
    try {
      const raw = (await engine.docker.getContainer(id).inspect()) as unknown as RawInspect;
      this.#pids.set(id, raw.State?.Pid ?? 0);
      return detailsFromInspect(raw, this.name, this.#now());
    } catch (err) {
      this.#fail(err, ref);
    }
  }

  // ---- lifecycle actions --------------------------------------------------

  async #act(ref: string, run: (c: Dockerode.Container) => Promise<unknown>, check?: (id: string) => void): Promise<void> {
    const id = await this.resolve(ref);
    check?.(id);
    const engine = await this.#getEngine();
    try {
      await run(engine.docker.getContainer(id));
    } catch (err) {
      // 304 "not modified": already in the asked state, which is what the caller wanted.
      if ((err as { statusCode?: number }).statusCode === 304) return;
      this.#fail(err, ref);
    }
  }

  /** Refuses a container failover fenced on this node (its start could run a singleton twice), unless overridden. */
  #checkFence(id: string, options: StartOptions): void {
    const dir = this.#options.stateDir;
    if (dir === undefined || options.overrideFence === true) return;
    const fence = fenceOf(dir, id);
    if (fence) throw new FencedError({ workload: fenceLabel(fence), containerId: id, node: this.name, ...(fence.reason ? { reason: fence.reason } : {}), ...(fence.atMs !== undefined ? { atMs: fence.atMs } : {}) });
  }

  start(ref: string, options: StartOptions = {}): Promise<void> {
    return this.#act(ref, (c) => c.start(), (id) => this.#checkFence(id, options));
  }

  stop(ref: string, options: StopOptions = {}): Promise<void> {
    return this.#act(ref, (c) => c.stop(options.timeoutSeconds === undefined ? {} : { t: checkTimeout(options.timeoutSeconds) }));
  }

  restart(ref: string, options: RestartOptions = {}): Promise<void> {
    return this.#act(ref, (c) => c.restart(options.timeoutSeconds === undefined ? {} : { t: checkTimeout(options.timeoutSeconds) }), (id) => this.#checkFence(id, options));
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const sig = normalizeSignal(signal);
    if (!sig) throw new BadInputError(`\`${signal.slice(0, 40)}\` is not ${SIGNAL_HINT}.`, { field: 'signal' });
    return this.#act(ref, (c) => c.kill({ signal: sig }));
  }

  remove(ref: string, options: RemoveOptions = {}): Promise<void> {
    return this.#act(ref, (c) => c.remove({ force: options.force === true, v: options.volumes === true }));
  }

  pause(ref: string): Promise<void> {
    return this.#act(ref, (c) => c.pause());
  }

  unpause(ref: string): Promise<void> {
    return this.#act(ref, (c) => c.unpause());
  }

  // ---- logs and exec ------------------------------------------------------

  async logs(ref: string, options: LogOptions = {}): Promise<LogStream> {
    const details = await this.inspect(ref);
    const engine = await this.#getEngine();
    const query: Record<string, unknown> = {
      stdout: true,
      stderr: true,
      follow: options.follow === true,
      timestamps: options.timestamps === true,
      tail: options.tail === undefined || options.tail === 'all' ? 'all' : checkTail(options.tail),
    };
    if (options.since !== undefined) query.since = (options.since / 1000).toFixed(3);
    let stream: Readable;
    try {
      stream = await new Promise<Readable>((resolve, reject) => {
        engine.docker.modem.dial(
          {
            path: `/containers/${details.id}/logs?`,
            method: 'GET',
            isStream: true,
            statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
            options: query,
          },
          (err: unknown, s: unknown) => (err ? reject(err) : resolve(s as Readable)),
        );
      });
    } catch (err) {
      this.#fail(err, ref);
    }
    const decoder = new LogDecoder({
      multiplexed: !details.tty,
      timestamps: options.timestamps === true,
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    });
    return logStreamOf(stream, decoder);
  }

  async exec(ref: string, options: ExecOptions): Promise<ExecSession> {
    if (!Array.isArray(options.cmd) || options.cmd.length === 0 || !options.cmd.every((c) => typeof c === 'string')) {
      throw new BadInputError('exec needs a command: a non-empty list of strings, e.g. ["sh"].');
    }
    const id = await this.resolve(ref);
    const engine = await this.#getEngine();
    try {
      return await createExecSession(engine.docker.getContainer(id), options);
    } catch (err) {
      this.#fail(err, ref);
    }
  }

  // ---- resources ----------------------------------------------------------

  async #running(): Promise<{ id: string; name: string; pid: number }[]> {
    // While connecting, the model's first list is on its way: a second list here would double
    // the startup work (one inspect per container). Sample nothing until it has arrived.
    if (this.#conn.live && !this.#store.ready) return [];
    const rows = this.#conn.live ? this.#store.all() : await this.list({ all: false });
    // A container not inspected yet has no known pid: sampled from the next round on.
    return rows
      .filter((c) => c.state === 'running' && this.#pids.has(c.id))
      .map((c) => ({ id: c.id, name: c.name, pid: this.#pids.get(c.id) ?? 0 }));
  }

  async #newMonitor(): Promise<ContainerMonitor> {
    const engine = await this.#getEngine();
    const hostMemoryBytes = (await import('node:os')).totalmem();
    // one-shot (API 1.41+) answers at once instead of waiting ~1 s for a second sample.
    const oneShot = compareApi(engine.apiVersion, '1.41') >= 0;
    return new ContainerMonitor({
      hostMemoryBytes,
      ...(this.#options.statsSource ? { source: this.#options.statsSource } : {}),
      fetchStats: async (id) => {
        try {
          return (await engine.docker.getContainer(id).stats({ stream: false, ...(oneShot ? { 'one-shot': true } : {}) } as { stream: false })) as unknown as RawStats;
        } catch (err) {
          this.#fail(err, id);
        }
      },
    });
  }

  /** Two samples 500 ms apart, so CPU % is a real rate. */
  async statsOnce(): Promise<ContainerStats[]> {
    const monitor = await this.#newMonitor();
    try {
      const running = await this.#running();
      await monitor.sample(running);
      await sleep(500);
      return await monitor.sample(running);
    } finally {
      monitor.close();
    }
  }

  watchStats(listener: (stats: ContainerStats[]) => void, options: StatsOptions = {}): Disposer {
    let monitor: ContainerMonitor | null = null;
    return poll(
      options.intervalMs ?? 2000,
      async () => {
        monitor ??= await this.#newMonitor();
        return monitor.sample(await this.#running());
      },
      listener,
      this.#pollers,
      () => monitor?.close(),
    );
  }

  #host: HostMonitor | null = null;

  /**
   * Host figures now. CPU % and network are rates: with no earlier sample,
   * two readings are taken HOST_RATE_WINDOW_MS apart (a single reading gave
   * CPU 0.0 % and 0 B/s every time).
   */
  async host(): Promise<HostMetrics | null> {
    if (!this.reportsHost) return null;
    this.#host ??= new HostMonitor({ node: this.name });
    if (!this.#host.hasBaseline) {
      await this.#host.baseline();
      await new Promise((r) => setTimeout(r, HOST_RATE_WINDOW_MS));
    }
    return this.#host.sample(true);
  }

  watchHost(listener: (metrics: HostMetrics) => void, options: StatsOptions = {}): Disposer {
    // An engine-only peer's figures would be this machine's, under the peer's name.
    if (!this.reportsHost) return () => {};
    return poll(
      options.intervalMs ?? 2000,
      () => (this.#host ??= new HostMonitor({ node: this.name })).sample(),
      listener,
      this.#pollers,
    );
  }

}

function checkTimeout(t: number): number {
  if (!Number.isInteger(t) || t < 0 || t > 86400) {
    throw new BadInputError(`Stop timeout \`${t}\` must be a whole number of seconds from 0 to 86400.`);
  }
  return t;
}

function checkTail(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new BadInputError(`--tail \`${n}\` must be a whole number of lines, 0 or more.`);
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
