import type {
  ContainerDetails,
  ContainerEvent,
  ContainerStats,
  ContainerSummary,
  Disposer,
  EngineInfo,
  HostMetrics,
  LogLine,
  ModelChange,
  NodeStatus,
  RunSpec,
} from './model/types.js';
import type { RulesPort } from './rules/port.js';

export interface WatchEventsOptions {
  /** Replay the events after this time (ns since the epoch) first. */
  sinceNano?: number;
}

export interface ListOptions {
  /** Include stopped containers (default false, like `docker ps`). */
  all?: boolean;
}

export interface StopOptions {
  /** Seconds to wait before the engine kills it. */
  timeoutSeconds?: number;
}

export interface StartOptions {
  /**
   * Start it even when placement failover fenced it on this node (its node was cut off from a
   * majority and a replacement may run elsewhere: it may then run twice). Without it, a fenced
   * container is refused with FencedError. The agent's API writes an override to its audit log.
   */
  overrideFence?: boolean;
}

export interface RestartOptions extends StopOptions, StartOptions {}

export interface RemoveOptions {
  force?: boolean;
  volumes?: boolean;
}

export interface LogOptions {
  /** Lines from the end to start with; `'all'` for everything. */
  tail?: number | 'all';
  /** Only lines after this instant (ms since epoch). */
  since?: number;
  follow?: boolean;
  timestamps?: boolean;
  /** Longest line kept whole, in bytes; longer lines arrive in pieces. */
  maxLineBytes?: number;
}

/** A stream of log lines. Its owner must call `close()`. */
export interface LogStream extends AsyncIterable<LogLine> {
  close(): void;
}

export interface ExecOptions {
  cmd: string[];
  tty?: boolean;
  env?: string[];
  user?: string;
  workingDir?: string;
  /** Initial terminal size when `tty` is set. */
  cols?: number;
  rows?: number;
}

/** A running process inside a container. Its owner must call `close()`. */
export interface ExecSession {
  /** Bytes to the process's stdin. */
  write(data: string | Uint8Array): void;
  /** Closes stdin (the process sees EOF). */
  end(): void;
  /** Output as it comes; with a TTY, stdout and stderr are one stream. */
  onOutput(listener: (data: Uint8Array, stream: 'stdout' | 'stderr') => void): Disposer;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves with the exit code when the process ends. */
  wait(): Promise<number>;
  close(): void;
}

export interface StatsOptions {
  /** Milliseconds between samples (default 2000). */
  intervalMs?: number;
}

/**
 * One machine's containers, as every face of Outpost sees them. LocalNode
 * talks to this machine's engine; RemoteNode to a peer. Everything that
 * reaches the engine is asynchronous; the live model is a local replica
 * that `containers()` reads and `watch()` follows.
 */
export interface Node {
  readonly name: string;
  /**
   * How the node is reached: `engine` straight through a Docker engine's API (this
   * machine's, or an engine-only peer over ssh:// or tcp://), `agent` through a peer's
   * Outpost agent.
   */
  readonly kind: 'engine' | 'agent';
  /** Whether the node is this machine (its engine on a local socket); faces never guess it from a position. */
  readonly isThisMachine: boolean;
  /** The node's rule engine, or null where none can be reached (an engine-only peer has no agent). */
  readonly rules: RulesPort | null;
  /**
   * Whether the node reports host figures (CPU, memory, disk of its machine): this machine and
   * agent peers do; an engine-only peer (ssh://, tcp://) does not, since its engine's API has
   * none and this machine's /proc is not its host's. Faces say so instead of showing a gap.
   */
  readonly reportsHost: boolean;

  /** Connects and starts the live model; resolves once it holds a first list. */
  connect(): Promise<void>;
  /** Closes every stream, timer and socket this node owns. */
  close(): Promise<void>;
  status(): NodeStatus;
  onStatus(listener: (status: NodeStatus) => void): Disposer;

  info(): Promise<EngineInfo>;
  list(options?: ListOptions): Promise<ContainerSummary[]>;
  inspect(ref: string): Promise<ContainerDetails>;
  /** Resolves a name or ID prefix to the container's full ID. */
  resolve(ref: string): Promise<string>;

  /** Starts it; a container failover fenced on this node is refused (FencedError) unless `overrideFence`. */
  start(ref: string, options?: StartOptions): Promise<void>;
  stop(ref: string, options?: StopOptions): Promise<void>;
  /** Restarts it; fenced as for `start`. */
  restart(ref: string, options?: RestartOptions): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  remove(ref: string, options?: RemoveOptions): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;

  logs(ref: string, options?: LogOptions): Promise<LogStream>;
  exec(ref: string, options: ExecOptions): Promise<ExecSession>;

  /** The live model's current containers (every state). */
  containers(): ContainerSummary[];
  /** Follows the live model; the listener first gets a `reset`. */
  watch(listener: (change: ModelChange) => void): Disposer;

  /**
   * Follows the engine's container events as they arrive. With `sinceNano`,
   * the events after that moment that the engine still holds come first, in
   * order and each once (a client that lost its stream resumes without a gap).
   */
  watchEvents(listener: (event: ContainerEvent) => void, options?: WatchEventsOptions): Disposer;

  /** One sample of every running container's resources. */
  statsOnce(): Promise<ContainerStats[]>;
  /** Samples every running container at an interval. */
  watchStats(listener: (stats: ContainerStats[]) => void, options?: StatsOptions): Disposer;

  host(): Promise<HostMetrics | null>;
  watchHost(listener: (metrics: HostMetrics) => void, options?: StatsOptions): Disposer;

  /** The images the engine holds: every repo:tag and each image's ID. */
  images(): Promise<string[]>;
  /**
   * Which of these host device paths exist on the node's machine; null when the node cannot
   * tell (an engine reached over ssh:// or tcp:// shows nothing of its host's /dev).
   */
  devices(paths: string[]): Promise<Record<string, boolean> | null>;
  /** Creates and starts a container; resolves with its ID. */
  run(spec: RunSpec): Promise<string>;
}
