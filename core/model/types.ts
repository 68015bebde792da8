/**
 * Plain data types shared by every face of Outpost. They are JSON-safe on
 * purpose: a RemoteNode receives exactly these shapes from a peer's agent,
 * so nothing here may hold a class instance, a Buffer or a dockerode type.
 */

/** Docker's container states, as the engine reports them. */
export type ContainerState =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

/** `none` means the container has no health check. */
export type Health = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface PortBinding {
  /** Port inside the container. */
  privatePort: number;
  /** Published port on the host, when published. */
  publicPort?: number;
  ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** One row of the container list: what `ps` and the TUI's list show. */
export interface ContainerSummary {
  id: string;
  /** Name without the leading slash. */
  name: string;
  image: string;
  imageId: string;
  command: string;
  /** Creation time, milliseconds since the epoch. */
  created: number;
  state: ContainerState;
  /** Docker's human status line, e.g. "Up 5 minutes (healthy)". */
  status: string;
  health: Health;
  /** Exit code of the last run; null while it has never exited. */
  exitCode: number | null;
  /** Restarts done by the engine's restart policy (Docker's RestartCount); null until an inspect says (the engine's list has no count). */
  restartCount: number | null;
  /** When the current run started (ms since epoch), null if never started. */
  startedAt: number | null;
  /** When the last run ended (ms since epoch), null if it has not ended. */
  finishedAt: number | null;
  /**
   * While unhealthy: when it turned unhealthy (ms since epoch), from the
   * engine's health log (the failing probe that tipped it); an upper bound
   * when the log holds only failures. Absent when unknown.
   */
  unhealthySince?: number | null;
  oomKilled: boolean;
  /** `docker compose` project label, when there is one. */
  composeProject: string | null;
  composeService: string | null;
  labels: Record<string, string>;
  ports: PortBinding[];
  restartPolicy: string;
  /** The node that reported this container. */
  node: string;
}

export interface MountInfo {
  type: string;
  source: string;
  destination: string;
  readOnly: boolean;
}

/** What `inspect` adds to a summary. */
export interface ContainerDetails extends ContainerSummary {
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  user: string;
  tty: boolean;
  mounts: MountInfo[];
  networks: string[];
  pid: number;
  /** Memory limit in bytes, 0 when unlimited. */
  memoryLimit: number;
  /** CPU limit in cores (NanoCpus / 1e9), 0 when unlimited. */
  cpuLimit: number;
  /** The engine's last health probes, oldest first; `start`/`end` in ms since the epoch (null when the engine gave none). */
  healthLog: { start: number | null; end: number | null; exitCode: number; output: string }[];
  /** The engine's raw inspect document, for `outpost inspect`. */
  raw: unknown;
}

/** Live resource figures of one container at one instant. */
export interface ContainerStats {
  id: string;
  name: string;
  /** ms since epoch. */
  at: number;
  /** Percent of one core (200 = two full cores), like `docker stats`; null on a first sample (a rate needs two). */
  cpuPercent: number | null;
  memoryBytes: number;
  /** Effective limit: the container's limit or the host's memory. */
  memoryLimitBytes: number;
  memoryPercent: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
  /** Where the numbers came from. */
  source: 'cgroup-v1' | 'cgroup-v2' | 'stats-api';
}

export interface DiskUsage {
  mount: string;
  fs: string;
  sizeBytes: number;
  usedBytes: number;
  usePercent: number;
}

export interface HostMetrics {
  node: string;
  at: number;
  hostname: string;
  /** Busy share of all CPUs since the previous sample; null on a first sample (a rate needs two). */
  cpuPercent: number | null;
  cores: number;
  load: [number, number, number];
  memTotalBytes: number;
  memAvailableBytes: number;
  memUsedPercent: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
  disks: DiskUsage[];
  /** Highest CPU temperature in °C, null when the hardware reports none. */
  temperatureC: number | null;
  /** Network rates since the previous sample; null on a first sample. */
  netRxBytesPerSec: number | null;
  netTxBytesPerSec: number | null;
  uptimeSeconds: number;
}

export type LogStreamKind = 'stdout' | 'stderr' | 'tty';

export interface LogLine {
  stream: LogStreamKind;
  /** RFC 3339 timestamp from the engine when timestamps were asked for. */
  timestamp?: string;
  /** The line without its newline, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** True when the line was longer than the cap and goes on in the next piece. */
  partial?: boolean;
}

export interface EngineInfo {
  node: string;
  /** Where the engine was reached, e.g. unix:///var/run/docker.sock. */
  endpoint: string;
  serverVersion: string;
  apiVersion: string;
  os: string;
  arch: string;
  cpus: number;
  memTotalBytes: number;
  containers: number;
  running: number;
  cgroupVersion: '1' | '2' | 'unknown';
  /** The engine's own ID (Docker's `ID`): two nodes that answer with one are one engine. Empty when unknown. */
  engineId: string;
  /** The engine host's name (Docker's `Name`). */
  hostname: string;
  /** The engine's own labels (daemon.json `labels`, dockerd `--label k=v`): what placement's `label.KEY` reads. */
  labels: Record<string, string>;
}

/** A container to create and start (what placement runs on a node). */
export interface RunSpec {
  name: string;
  image: string;
  /** The command, or null for the image's own. */
  cmd: string[] | null;
  env: string[];
  labels: Record<string, string>;
  ports: { container: number; host: number | null; protocol: 'tcp' | 'udp' | 'sctp'; ip: string | null }[];
  volumes: { source: string | null; target: string; readOnly: boolean }[];
  devices: { host: string; container: string; permissions: string }[];
  restart: { name: 'no' | 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number | null };
  /** Limits: CPU cores (0: none) and memory bytes (0: none). */
  cpus: number;
  memoryBytes: number;
}

/** What a node says about its own reachability. */
export type NodeStatus =
  | { state: 'connecting' }
  | { state: 'online'; since: number }
  /** `neverReached`: it has not answered once since Outpost started (there is no "last seen" to tell). */
  | { state: 'offline'; since: number; reason: string; retryInMs: number; neverReached?: boolean };

/** A change to the live container model. */
export type ModelChange =
  | { kind: 'reset'; containers: ContainerSummary[] }
  | { kind: 'upsert'; container: ContainerSummary; event?: string }
  | { kind: 'remove'; id: string; name: string };

/** Releases what a subscription holds. Safe to call twice. */
export type Disposer = () => void;

/** A container event from the engine (start, die, oom, health_status: unhealthy, …). */
export interface ContainerEvent {
  node: string;
  id: string;
  name: string;
  image: string;
  /** The engine's action, e.g. `die` or `health_status: unhealthy`. */
  action: string;
  /** Nanoseconds since the epoch, as the engine stamped it. */
  timeNano: number;
  /** Exit code for `die` events. */
  exitCode?: number;
  attributes: Record<string, string>;
}
