import type {
  ContainerDetails,
  ContainerState,
  ContainerSummary,
  Health,
  MountInfo,
  PortBinding,
} from '../model/types.js';

/** The parts of the engine's inspect document Outpost reads. */
export interface RawInspect {
  Id: string;
  Name?: string;
  Created?: string;
  Path?: string;
  Args?: string[];
  Image?: string;
  State?: {
    Status?: string;
    Running?: boolean;
    Paused?: boolean;
    Restarting?: boolean;
    OOMKilled?: boolean;
    Pid?: number;
    ExitCode?: number;
    StartedAt?: string;
    FinishedAt?: string;
    Health?: { Status?: string; Log?: { Start?: string; End?: string; ExitCode?: number; Output?: string }[] };
  };
  RestartCount?: number;
  Config?: {
    Image?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | string | null;
    WorkingDir?: string;
    User?: string;
    Tty?: boolean;
    Labels?: Record<string, string> | null;
  };
  HostConfig?: {
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
    Memory?: number;
    NanoCpus?: number;
    CpuQuota?: number;
    CpuPeriod?: number;
  };
  NetworkSettings?: {
    Ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    Networks?: Record<string, unknown> | null;
  };
  Mounts?: { Type?: string; Source?: string; Destination?: string; RW?: boolean }[];
}

const states: readonly ContainerState[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

function toState(s: string | undefined): ContainerState {
  return states.includes(s as ContainerState) ? (s as ContainerState) : 'dead';
}

function toHealth(s: string | undefined): Health {
  return s === 'starting' || s === 'healthy' || s === 'unhealthy' ? s : 'none';
}

/** Docker writes "0001-01-01T00:00:00Z" for "never". */
function toTime(s: string | undefined): number | null {
  if (!s || s.startsWith('0001-')) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

function toPorts(raw: NonNullable<RawInspect['NetworkSettings']>['Ports']): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, bindings] of Object.entries(raw ?? {})) {
    const [portText, proto] = key.split('/');
    const privatePort = Number(portText);
    const protocol = proto === 'udp' || proto === 'sctp' ? proto : 'tcp';
    if (!bindings || bindings.length === 0) {
      out.push({ privatePort, protocol });
      continue;
    }
    for (const b of bindings) {
      const port: PortBinding = { privatePort, protocol };
      if (b.HostPort) port.publicPort = Number(b.HostPort);
      if (b.HostIp) port.ip = b.HostIp;
      out.push(port);
    }
  }
  return out.sort((a, b) => a.privatePort - b.privatePort);
}

/** A human status line like docker's, from the inspect document. */
export function statusLine(state: ContainerState, health: Health, exitCode: number | null, startedAt: number | null, finishedAt: number | null, now: number): string {
  const ago = (t: number | null) => (t === null ? '' : ` ${humanDuration(now - t)} ago`);
  const healthText = health === 'none' ? '' : ` (${health === 'starting' ? 'health: starting' : health})`;
  switch (state) {
    case 'running':
      return `Up ${startedAt === null ? '' : humanDuration(now - startedAt)}${healthText}`.trim();
    case 'paused':
      return `Up ${startedAt === null ? '' : humanDuration(now - startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${exitCode ?? 0})${ago(finishedAt)}`;
    case 'exited':
      return `Exited (${exitCode ?? 0})${ago(finishedAt)}`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

/** "5 seconds", "3 minutes", "2 hours", "4 days" — coarse, like docker. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(s / 3600);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  const d = Math.round(s / 86400);
  return `${d} days`;
}

function commandOf(raw: RawInspect): string {
  return [raw.Path ?? '', ...(raw.Args ?? [])].filter((p) => p !== '').join(' ');
}

/**
 * When the health check tipped the container into `unhealthy`, from the
 * engine's facts: the failing streak (State.Health.FailingStreak) and the
 * health log's probe times. The probe that tipped it is the one where the
 * streak reached the check's retries (default 3); when the log (the engine
 * keeps 5 probes) no longer holds it, it is placed by the log's own spacing.
 */
function unhealthySince(raw: RawInspect): number | null {
  const health = raw.State?.Health as { Log?: { Start?: string; End?: string; ExitCode?: number }[]; FailingStreak?: number } | undefined;
  const log = health?.Log ?? [];
  if (log.length === 0) return null;
  const retries = Math.max(1, (raw.Config as { Healthcheck?: { Retries?: number } } | undefined)?.Healthcheck?.Retries || 3);
  let trailing = 0;
  while (trailing < log.length && (log[log.length - 1 - trailing]?.ExitCode ?? 0) !== 0) trailing++;
  const streak = Math.max(trailing, Number.isSafeInteger(health?.FailingStreak) ? (health?.FailingStreak as number) : 0);
  if (streak === 0) return null;
  const back = Math.max(0, streak - retries); // probes after the one that tipped it
  const at = (i: number) => {
    const e = log[i];
    return e ? (toTime(e.End) ?? toTime(e.Start)) : null;
  };
  if (back < log.length) return at(log.length - 1 - back);
  const first = toTime(log[0]?.Start);
  const last = toTime(log[log.length - 1]?.Start);
  const end = at(log.length - 1);
  if (first === null || last === null || end === null || log.length < 2) return at(0);
  return end - Math.round(((last - first) / (log.length - 1)) * back);
}

/** Builds the list row from an inspect document. */
export function summaryFromInspect(raw: RawInspect, node: string, now: number): ContainerSummary {
  const state = toState(raw.State?.Status);
  const health = toHealth(raw.State?.Health?.Status);
  const startedAt = toTime(raw.State?.StartedAt);
  const finishedAt = toTime(raw.State?.FinishedAt);
  const neverExited = finishedAt === null && state !== 'exited' && state !== 'dead';
  const exitCode = neverExited ? null : (raw.State?.ExitCode ?? null);
  const labels = raw.Config?.Labels ?? {};
  const created = toTime(raw.Created) ?? 0;
  return {
    id: raw.Id,
    name: (raw.Name ?? '').replace(/^\//, ''),
    image: raw.Config?.Image ?? raw.Image ?? '',
    imageId: raw.Image ?? '',
    command: commandOf(raw),
    created,
    state,
    status: statusLine(state, health, exitCode, startedAt, finishedAt, now),
    health,
    exitCode,
    restartCount: raw.RestartCount ?? 0,
    startedAt,
    finishedAt,
    oomKilled: raw.State?.OOMKilled === true,
    ...(health === 'unhealthy' ? { unhealthySince: unhealthySince(raw) } : {}),
    composeProject: labels['com.docker.compose.project'] ?? null,
    composeService: labels['com.docker.compose.service'] ?? null,
    labels,
    ports: toPorts(raw.NetworkSettings?.Ports),
    restartPolicy: raw.HostConfig?.RestartPolicy?.Name || 'no',
    node,
  };
}

export function detailsFromInspect(raw: RawInspect, node: string, now: number): ContainerDetails {
  const summary = summaryFromInspect(raw, node, now);
  const entry = raw.Config?.Entrypoint;
  const mounts: MountInfo[] = (raw.Mounts ?? []).map((m) => ({
    type: m.Type ?? 'bind',
    source: m.Source ?? '',
    destination: m.Destination ?? '',
    readOnly: m.RW === false,
  }));
  const host = raw.HostConfig ?? {};
  const cpuLimit = host.NanoCpus
    ? host.NanoCpus / 1e9
    : host.CpuQuota && host.CpuPeriod
      ? host.CpuQuota / host.CpuPeriod
      : 0;
  return {
    ...summary,
    env: raw.Config?.Env ?? [],
    entrypoint: Array.isArray(entry) ? entry : entry ? [entry] : [],
    cmd: raw.Config?.Cmd ?? [],
    workingDir: raw.Config?.WorkingDir ?? '',
    user: raw.Config?.User ?? '',
    tty: raw.Config?.Tty === true,
    mounts,
    networks: Object.keys(raw.NetworkSettings?.Networks ?? {}),
    pid: raw.State?.Pid ?? 0,
    memoryLimit: host.Memory ?? 0,
    cpuLimit,
    healthLog: (raw.State?.Health?.Log ?? []).map((h) => ({
      start: toTime(h.Start),
      end: toTime(h.End),
      exitCode: h.ExitCode ?? -1,
      output: h.Output ?? '',
    })),
    raw,
  };
}

/** The parts of one row of the engine's container list Outpost reads. */
export interface RawListRow {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  State?: string;
  Status?: string;
  Labels?: Record<string, string> | null;
  Ports?: { PrivatePort?: number; PublicPort?: number; IP?: string; Type?: string }[] | null;
}

/**
 * A first, approximate row from the list endpoint alone (one request for
 * every container): health and exit code come from the status line; restart
 * count, start time and restart policy are not in it and read as unknown
 * until the inspect that follows.
 */
export function summaryFromList(row: RawListRow, node: string): ContainerSummary {
  const status = row.Status ?? '';
  const health: Health = /\(unhealthy\)/.test(status) ? 'unhealthy' : /\(healthy\)/.test(status) ? 'healthy' : /health: starting/.test(status) ? 'starting' : 'none';
  const exit = /^(Exited|Restarting) \((-?\d+)\)/.exec(status);
  const labels = row.Labels ?? {};
  return {
    id: row.Id,
    name: (row.Names?.[0] ?? '').replace(/^\//, ''),
    image: row.Image ?? '',
    imageId: row.ImageID ?? '',
    command: row.Command ?? '',
    created: (row.Created ?? 0) * 1000,
    state: toState(row.State),
    status,
    health,
    exitCode: exit ? Number(exit[2]) : null,
    restartCount: null,
    startedAt: null,
    finishedAt: null,
    oomKilled: false,
    composeProject: labels['com.docker.compose.project'] ?? null,
    composeService: labels['com.docker.compose.service'] ?? null,
    labels,
    ports: (row.Ports ?? [])
      .map((p) => {
        const port: PortBinding = { privatePort: p.PrivatePort ?? 0, protocol: p.Type === 'udp' || p.Type === 'sctp' ? p.Type : 'tcp' };
        if (p.PublicPort) port.publicPort = p.PublicPort;
        if (p.IP) port.ip = p.IP;
        return port;
      })
      .sort((a, b) => a.privatePort - b.privatePort),
    restartPolicy: 'no',
    node,
  };
}
