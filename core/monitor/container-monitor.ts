import { readFile } from 'node:fs/promises';
import type { ContainerStats } from '../model/types.js';
import {
  cgroupPathsFromProc,
  detectCgroupMode,
  PseudoFileReader,
  readCgroupCounters,
  type CgroupCounters,
  type CgroupMode,
  type CgroupPaths,
} from './cgroup.js';
import { figuresFromStats, type RawStats } from './stats-api.js';

export interface MonitoredContainer {
  id: string;
  name: string;
  /** Host PID of the container's init process (0 when unknown). */
  pid: number;
}

/** Which source to use: `auto` reads cgroup files and falls back to the API. */
export type StatsSource = 'auto' | 'cgroup' | 'stats-api';

export interface ContainerMonitorDeps {
  /** Fetches one stats document from the engine (no streaming). */
  fetchStats(id: string): Promise<RawStats>;
  /** Host memory, for containers without a limit. */
  hostMemoryBytes: number;
  source?: StatsSource;
  /** Where /sys/fs/cgroup is (tests point it elsewhere). */
  cgroupRoot?: string;
  now?: () => number;
  /** Monotonic nanoseconds. */
  hrtime?: () => bigint;
}

interface Previous {
  at: bigint;
  cgroup?: CgroupCounters;
  api?: RawStats;
}

/**
 * Samples the resources of a set of containers. Keeps one previous sample
 * per container to turn counters into rates, and forgets containers that
 * are no longer asked for, so memory stays bounded by the container count.
 */
export class ContainerMonitor {
  #prev = new Map<string, Previous>();
  #paths = new Map<string, { pid: number; paths: CgroupPaths | null }>();
  #mode: CgroupMode | null = null;
  #files = new PseudoFileReader();
  readonly #deps: ContainerMonitorDeps;

  constructor(deps: ContainerMonitorDeps) {
    this.#deps = deps;
  }

  /** One sample of each container. The first sample of a container has no CPU figure (null): a rate needs two. */
  async sample(containers: readonly MonitoredContainer[]): Promise<ContainerStats[]> {
    const wanted = new Set(containers.map((c) => c.id));
    for (const id of this.#prev.keys()) if (!wanted.has(id)) this.#prev.delete(id);
    for (const [id, entry] of this.#paths) {
      if (wanted.has(id)) continue;
      this.#paths.delete(id);
      this.#forgetFiles(entry.paths);
    }
    const results = await Promise.all(containers.map((c) => this.#sampleOne(c).catch(() => null)));
    return results.filter((r): r is ContainerStats => r !== null);
  }

  async #sampleOne(c: MonitoredContainer): Promise<ContainerStats | null> {
    const source = this.#deps.source ?? 'auto';
    if (source !== 'stats-api') {
      const paths = await this.#pathsFor(c);
      if (paths) {
        try {
          return this.#fromCgroup(c, paths, readCgroupCounters(paths, this.#files));
        } catch (err) {
          // The container stopped or its cgroup moved; look it up again next time.
          this.#paths.delete(c.id);
          this.#forgetFiles(paths);
          if (source === 'cgroup') throw err;
        }
      } else if (source === 'cgroup') {
        return null;
      }
    }
    const raw = await this.#deps.fetchStats(c.id);
    return this.#fromApi(c, raw);
  }

  async #pathsFor(c: MonitoredContainer): Promise<CgroupPaths | null> {
    if (c.pid <= 0) return null;
    const cached = this.#paths.get(c.id);
    if (cached && cached.pid === c.pid) return cached.paths;
    if (cached) this.#forgetFiles(cached.paths);
    let paths: CgroupPaths | null = null;
    try {
      this.#mode ??= detectCgroupMode(this.#deps.cgroupRoot);
      const text = await readFile(`/proc/${c.pid}/cgroup`, 'utf8');
      paths = cgroupPathsFromProc(text, c.pid, this.#mode, this.#deps.cgroupRoot);
    } catch {
      paths = null;
    }
    this.#paths.set(c.id, { pid: c.pid, paths });
    return paths;
  }

  #forgetFiles(paths: CgroupPaths | null): void {
    if (!paths) return;
    for (const dir of [paths.cpu, paths.memory, paths.blkio, paths.pids]) if (dir) this.#files.forget(`${dir}/`);
    this.#files.forget(paths.netDev);
  }

  /** Closes every descriptor the monitor holds. */
  close(): void {
    this.#files.close();
    this.#paths.clear();
    this.#prev.clear();
  }

  #fromCgroup(c: MonitoredContainer, paths: CgroupPaths, cur: CgroupCounters): ContainerStats {
    const at = (this.#deps.hrtime ?? process.hrtime.bigint)();
    const prev = this.#prev.get(c.id);
    let cpuPercent: number | null = null;
    if (prev?.cgroup) {
      const wall = Number(at - prev.at);
      const used = cur.cpuNanos - prev.cgroup.cpuNanos;
      // No time between the two, or a counter that went back (a new cgroup): no figure.
      if (wall > 0 && used >= 0) cpuPercent = (used / wall) * 100;
    }
    this.#prev.set(c.id, { at, cgroup: cur });
    const limit = cur.memoryLimitBytes !== null && cur.memoryLimitBytes < this.#deps.hostMemoryBytes
      ? cur.memoryLimitBytes
      : this.#deps.hostMemoryBytes;
    return {
      id: c.id,
      name: c.name,
      at: (this.#deps.now ?? Date.now)(),
      cpuPercent,
      memoryBytes: cur.memoryBytes,
      memoryLimitBytes: limit,
      memoryPercent: limit > 0 ? (cur.memoryBytes / limit) * 100 : 0,
      netRxBytes: cur.netRxBytes,
      netTxBytes: cur.netTxBytes,
      blockReadBytes: cur.blockReadBytes,
      blockWriteBytes: cur.blockWriteBytes,
      pids: cur.pids,
      source: paths.mode === 'v1' ? 'cgroup-v1' : 'cgroup-v2',
    };
  }

  #fromApi(c: MonitoredContainer, raw: RawStats): ContainerStats {
    const at = (this.#deps.hrtime ?? process.hrtime.bigint)();
    const prev = this.#prev.get(c.id);
    const f = figuresFromStats(prev?.api, raw);
    this.#prev.set(c.id, { at, api: raw });
    return { id: c.id, name: c.name, at: (this.#deps.now ?? Date.now)(), ...f, source: 'stats-api' };
  }
}
