import type { ContainerStats } from '../model/types.js';

/**
 * The engine's stats API, for containers whose cgroup files Outpost cannot
 * read (a remote engine, a rootless engine, Outpost itself in a container).
 * The math is the docker CLI's: cpu_delta / system_cpu_delta × online CPUs
 * × 100, and memory usage minus inactive file cache.
 */

/** The parts of one `GET /containers/{id}/stats` document Outpost reads. */
export interface RawStats {
  read?: string;
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  memory_stats?: {
    usage?: number;
    limit?: number;
    stats?: Record<string, number>;
  };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: {
    io_service_bytes_recursive?: { op?: string; value?: number }[] | null;
  };
  pids_stats?: { current?: number };
}

/** The figures of a sample, without whose and when (ContainerStats less id, name, at, source). */
export type StatsFigures = Omit<ContainerStats, 'id' | 'name' | 'at' | 'source'>;

/** Memory in use the way `docker stats` counts it (cache that can be dropped excluded). */
export function memoryUsed(m: RawStats['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const s = m?.stats ?? {};
  // cgroup v1 names it total_inactive_file, v2 inactive_file.
  const inactive = s.total_inactive_file ?? s.inactive_file ?? 0;
  return inactive < usage ? usage - inactive : usage;
}

/**
 * CPU % between two samples, of one core (200 = two cores busy). Null when
 * there is no figure: a first sample (no previous one), no time between
 * them, or a counter that went back (reset); 0 when the container was idle.
 */
export function cpuPercentBetween(prev: RawStats | undefined, cur: RawStats): number | null {
  const curCpu = cur.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const curSys = cur.cpu_stats?.system_cpu_usage ?? 0;
  const prevCpu = prev?.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const prevSys = prev?.cpu_stats?.system_cpu_usage ?? 0;
  if (!prev) return null;
  const cpuDelta = curCpu - prevCpu;
  const sysDelta = curSys - prevSys;
  if (cpuDelta < 0 || sysDelta <= 0) return null;
  if (cpuDelta === 0) return 0;
  const cpus = cur.cpu_stats?.online_cpus || cur.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  return (cpuDelta / sysDelta) * cpus * 100;
}

export function figuresFromStats(prev: RawStats | undefined, cur: RawStats): StatsFigures {
  const used = memoryUsed(cur.memory_stats);
  const limit = cur.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(cur.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of cur.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  return {
    cpuPercent: cpuPercentBetween(prev, cur),
    memoryBytes: used,
    memoryLimitBytes: limit,
    memoryPercent: limit > 0 ? (used / limit) * 100 : 0,
    netRxBytes: rx,
    netTxBytes: tx,
    blockReadBytes: read,
    blockWriteBytes: write,
    pids: cur.pids_stats?.current ?? 0,
  };
}
