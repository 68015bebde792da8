import os from 'node:os';
import type { DiskUsage, HostMetrics } from '../model/types.js';
import { flatKeyedValue, parseNetDev, PseudoFileReader } from './cgroup.js';

/**
 * Host figures for the node's host panel. Measured on a 2-core box:
 * systeminformation's mem reads /proc/meminfo (under a millisecond), but its
 * currentLoad runs `sh -c "cat /proc/stat | grep cpu"` synchronously on every
 * call (~18 ms of blocked event loop plus the children's CPU), so CPU load
 * comes from /proc/stat directly where it exists; fsSize spawns `df` (~10 ms)
 * and cpuTemperature probes sensors (~17 ms), so those two refresh on a slow
 * cadence off the sample path; network rates come from /proc/net/dev
 * (si.networkStats costs ~4 ms a call). /proc/stat, /proc/meminfo and
 * /proc/net/dev are read through kept-open descriptors (one pread each, no
 * open/fstat/close through the thread pool on every sample); systeminformation
 * stands in where /proc is not there.
 */
export interface HostMonitorOptions {
  node: string;
  /** How often disks and temperature are refreshed (default 60 s). */
  slowRefreshMs?: number;
  /** Delay of the first disk and temperature probe (default 1.5 s, after the UI's first frames). */
  firstSlowDelayMs?: number;
  now?: () => number;
}

type Si = typeof import('systeminformation');

export class HostMonitor {
  #si: Si | null = null;
  #slowAt = -Infinity;
  #slowRunning = false;
  #disks: DiskUsage[] = [];
  #temperature: number | null = null;
  #temperatureSupported = true;
  #net: { at: number; rx: number; tx: number } | null = null;
  #cpu: { busy: number; total: number } | null = null;
  #procStat = true;
  #procMeminfo = true;
  readonly #files = new PseudoFileReader();
  readonly #options: HostMonitorOptions;

  constructor(options: HostMonitorOptions) {
    this.#options = options;
  }

  /** Whether a previous sample exists, so CPU and network can be rates. */
  get hasBaseline(): boolean {
    return this.#cpu !== null || this.#net !== null;
  }

  /**
   * Reads the counters that CPU % and network rates are differences of,
   * without sampling anything else: a one-shot caller takes this, waits, then
   * samples (one reading alone gives no rate).
   */
  async baseline(): Promise<void> {
    const si = (this.#si ??= (await import('systeminformation')).default as unknown as Si);
    await this.#cpuPercent(si);
    this.#netRates((this.#options.now ?? Date.now)());
  }

  /** `complete`: wait for disks and temperature too (one-shot callers such as `outpost host`). */
  async sample(complete = false): Promise<HostMetrics> {
    const si = (this.#si ??= (await import('systeminformation')).default as unknown as Si);
    const now = (this.#options.now ?? Date.now)();
    const [cpuPercent, mem] = await Promise.all([this.#cpuPercent(si), this.#memory(si)]);
    const net = this.#netRates(now);
    if (complete && this.#slowAt === -Infinity) {
      this.#slowAt = now;
      await this.#refreshSlow(si);
    } else if (now - this.#slowAt >= (this.#options.slowRefreshMs ?? 60_000) && !this.#slowRunning) {
      // Disks and temperature spawn processes (df, sensors), some synchronously: not on the
      // first sample, which the UI waits for, and never awaited by a sample.
      const first = this.#slowAt === -Infinity;
      this.#slowAt = now;
      this.#slowRunning = true;
      setTimeout(() => {
        void this.#refreshSlow(si).finally(() => {
          this.#slowRunning = false;
        });
      }, first ? this.#options.firstSlowDelayMs ?? 1500 : 0).unref();
    }
    const loadAvg = os.loadavg();
    return {
      node: this.#options.node,
      at: now,
      hostname: os.hostname(),
      cpuPercent: cpuPercent === null ? null : round1(cpuPercent),
      cores: os.availableParallelism(),
      load: [round2(loadAvg[0] ?? 0), round2(loadAvg[1] ?? 0), round2(loadAvg[2] ?? 0)],
      memTotalBytes: mem.total,
      memAvailableBytes: mem.available,
      memUsedPercent: mem.total > 0 ? round1(((mem.total - mem.available) / mem.total) * 100) : 0,
      swapTotalBytes: mem.swaptotal,
      swapUsedBytes: mem.swapused,
      disks: this.#disks,
      temperatureC: this.#temperature,
      netRxBytesPerSec: net.rx,
      netTxBytesPerSec: net.tx,
      uptimeSeconds: Math.round(os.uptime()),
    };
  }

  async #refreshSlow(si: Si): Promise<void> {
    const [fs, temp] = await Promise.all([
      si.fsSize().catch(() => []),
      this.#temperatureSupported ? si.cpuTemperature().catch(() => null) : Promise.resolve(null),
    ]);
    this.#disks = fs
      .filter((d) => isRealDisk(d.fs, d.type, d.mount))
      .map((d) => ({ mount: d.mount, fs: d.fs, sizeBytes: d.size, usedBytes: d.used, usePercent: round1(d.use) }));
    const t = temp?.main ?? temp?.max ?? null;
    this.#temperature = typeof t === 'number' && Number.isFinite(t) ? t : null;
    // Hardware that reports no sensor will not grow one: stop paying for the probe.
    if (this.#temperature === null) this.#temperatureSupported = false;
  }

  /** Releases the kept-open descriptors (they reopen if sampled again). */
  close(): void {
    this.#files.close();
  }

  async #memory(si: Si): Promise<{ total: number; available: number; swaptotal: number; swapused: number }> {
    if (this.#procMeminfo) {
      try {
        return parseMeminfo(this.#files.read('/proc/meminfo'));
      } catch {
        this.#procMeminfo = false;
      }
    }
    return si.mem();
  }

  /** Busy share of all CPUs since the previous sample, from /proc/stat (si elsewhere); null on the first sample. */
  async #cpuPercent(si: Si): Promise<number | null> {
    if (this.#procStat) {
      try {
        const cur = parseProcStat(this.#files.read('/proc/stat'));
        const prev = this.#cpu;
        this.#cpu = cur;
        if (!prev || cur.total <= prev.total) return null;
        return ((cur.busy - prev.busy) / (cur.total - prev.total)) * 100;
      } catch {
        this.#procStat = false;
      }
    }
    return (await si.currentLoad()).currentLoad;
  }

  /** Network rates since the previous sample; null on the first (and where /proc/net/dev is not). */
  #netRates(now: number): { rx: number | null; tx: number | null } {
    const text = this.#files.readOptional('/proc/net/dev');
    if (text === '') return { rx: null, tx: null };
    const cur = parseNetDev(text);
    const prev = this.#net;
    this.#net = { at: now, rx: cur.rx, tx: cur.tx };
    if (!prev || now <= prev.at) return { rx: null, tx: null };
    const secs = (now - prev.at) / 1000;
    return { rx: Math.max(0, (cur.rx - prev.rx) / secs), tx: Math.max(0, (cur.tx - prev.tx) / secs) };
  }
}

/** The aggregate `cpu` line of /proc/stat: busy and total jiffies (iowait counts as idle). */
export function parseProcStat(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const idleAll = idle + iowait;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idleAll, total };
}

/** Memory figures from /proc/meminfo (kB values), as systeminformation's mem() reports them. */
export function parseMeminfo(text: string): { total: number; available: number; swaptotal: number; swapused: number } {
  // "MemTotal:       24570212 kB" → "MemTotal 24570212", once for all the lookups below.
  const flat = text.replace(/:[ \t]+/g, ' ').replace(/ kB$/gm, '');
  const kb = (key: string) => flatKeyedValue(flat, key);
  const total = kb('MemTotal');
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal');
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  const swapTotal = kb('SwapTotal') ?? 0;
  const swapFree = kb('SwapFree') ?? 0;
  return { total: total * 1024, available: available * 1024, swaptotal: swapTotal * 1024, swapused: Math.max(0, swapTotal - swapFree) * 1024 };
}

/** Skips container overlays, pseudo file systems and snap loops. */
export function isRealDisk(fs: string, type: string, mount: string): boolean {
  if (['overlay', 'tmpfs', 'devtmpfs', 'squashfs', 'proc', 'sysfs', 'nsfs', 'shm'].includes(type)) return false;
  if (fs === 'overlay' || mount.includes('/overlay2/') || mount.includes('/containers/')) return false;
  return true;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
