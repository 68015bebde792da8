/**
 * Samples (container stats, host metrics) on a thin link: a stream sends each row in full once,
 * then only the figures that moved by more than a reader could see, and nothing at all when none
 * did. Every KEYFRAME_EVERY frames the exact figures that differ are sent, so what is shown never
 * drifts far or for long. Fifty quiet containers sampled every 2 s cost about 8 KB/s as whole
 * samples; as changes, a few hundred bytes.
 *
 * A frame: `{at, rows: [{k, id?, ...figures}], gone?: [k]}`. `k` is the row's number on this
 * stream; a row seen the first time also carries `id` and every figure. The encoder is per stream
 * and assumes each frame it returns reaches the reader (the stream is not lossy).
 */
import type { ContainerStats, HostMetrics } from '../model/types.js';

export interface DeltaFrame {
  at: number;
  rows: ({ k: number; id?: string } & Record<string, unknown>)[];
  gone?: number[];
}

/** Whether a figure moved enough since it was last sent to be sent again. */
export type Significance = (field: string, sent: unknown, now: unknown) => boolean;

/** Every this many frames, any difference at all is sent (2 s samples: every 30 s). */
export const KEYFRAME_EVERY = 15;

interface Sent {
  k: number;
  figures: Record<string, unknown>;
}

export class DeltaEncoder<T extends object> {
  readonly #sent = new Map<string, Sent>();
  #next = 0;
  #frames = 0;

  constructor(
    private readonly keyOf: (row: T) => string,
    private readonly significant: Significance,
    /** Figures the reader computes itself or takes from the frame (`at`). */
    private readonly skip: ReadonlySet<string> = new Set(['at']),
  ) {}

  /** The frame for this sample, or null when nothing worth sending changed. */
  frame(rows: readonly T[], at: number): DeltaFrame | null {
    const exact = this.#frames++ % KEYFRAME_EVERY === KEYFRAME_EVERY - 1;
    const out: DeltaFrame['rows'] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      const id = this.keyOf(row);
      if (seen.has(id)) continue;
      seen.add(id);
      const r = row as Record<string, unknown>;
      const sent = this.#sent.get(id);
      if (!sent) {
        const figures: Record<string, unknown> = {};
        for (const [f, v] of Object.entries(r)) if (!this.skip.has(f)) figures[f] = v;
        const k = this.#next++;
        this.#sent.set(id, { k, figures });
        out.push({ ...figures, k, id });
        continue;
      }
      let change: Record<string, unknown> | null = null;
      for (const [f, v] of Object.entries(r)) {
        if (this.skip.has(f)) continue;
        const before = sent.figures[f];
        const moved = exact ? !same(before, v) : this.significant(f, before, v);
        if (!moved) continue;
        change ??= {};
        change[f] = v;
        sent.figures[f] = v;
      }
      if (change) out.push({ ...change, k: sent.k });
    }
    const gone: number[] = [];
    for (const [id, s] of this.#sent) {
      if (seen.has(id)) continue;
      gone.push(s.k);
      this.#sent.delete(id);
    }
    if (out.length === 0 && gone.length === 0) return null;
    return gone.length > 0 ? { at, rows: out, gone } : { at, rows: out };
  }
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
}

/** The reader's side: whole rows again, as of each frame's `at`. Malformed frames throw (the stream is then dropped). */
export class DeltaDecoder<T extends object> {
  readonly #rows = new Map<number, Record<string, unknown>>();

  constructor(private readonly finish: (row: Record<string, unknown>, at: number) => T = (row, at) => ({ ...row, at }) as T) {}

  apply(value: unknown): T[] {
    const frame = value as Partial<DeltaFrame> | null;
    if (typeof frame !== 'object' || frame === null || typeof frame.at !== 'number' || !Array.isArray(frame.rows)) throw new Error('a sample frame without `at` and `rows`');
    for (const k of Array.isArray(frame.gone) ? frame.gone : []) this.#rows.delete(k);
    for (const r of frame.rows) {
      if (typeof r !== 'object' || r === null || typeof r.k !== 'number') throw new Error('a sample row without its number `k`');
      const { k, ...given } = r;
      // Figures are copied as own data; a key that names the prototype is not a figure.
      const figures: Record<string, unknown> = {};
      for (const [f, v] of Object.entries(given)) if (f !== '__proto__' && f !== 'constructor' && f !== 'prototype') figures[f] = v;
      const known = this.#rows.get(k);
      if (known) Object.assign(known, figures);
      else if (typeof figures.id === 'string') this.#rows.set(k, figures);
      else throw new Error(`a change to sample row ${k}, which was never introduced`);
    }
    const at = frame.at;
    return [...this.#rows.values()].map((row) => this.finish(row, at));
  }
}

const MiB = 1024 * 1024;

/** Moved by more than `abs`, or by more than `rel` of what was sent, whichever is larger. */
function beyond(sent: unknown, now: unknown, abs: number, rel: number): boolean {
  if (typeof sent !== 'number' || typeof now !== 'number') return !same(sent, now);
  return Math.abs(now - sent) > Math.max(abs, Math.abs(sent) * rel);
}

/** Container stats: CPU by half a point, memory by 1 MiB or 2 %, I/O counters by 64 KiB or 2 %. */
export const statsSignificance: Significance = (field, sent, now) => {
  switch (field) {
    case 'cpuPercent':
      return beyond(sent, now, 0.5, 0.05);
    case 'memoryBytes':
      return beyond(sent, now, MiB, 0.02);
    case 'memoryPercent':
      return false; // follows from memoryBytes and the limit (the reader works it out)
    case 'netRxBytes':
    case 'netTxBytes':
    case 'blockReadBytes':
    case 'blockWriteBytes':
      return beyond(sent, now, 64 * 1024, 0.02);
    default:
      return !same(sent, now);
  }
};

export const statsEncoder = (): DeltaEncoder<ContainerStats> => new DeltaEncoder<ContainerStats>((s) => s.id, statsSignificance, new Set(['at', 'memoryPercent']));

export const statsDecoder = (): DeltaDecoder<ContainerStats> =>
  new DeltaDecoder<ContainerStats>((row, at) => {
    const s = { ...row, at } as unknown as ContainerStats;
    s.memoryPercent = s.memoryLimitBytes > 0 ? (s.memoryBytes / s.memoryLimitBytes) * 100 : 0;
    return s;
  });

/** Host metrics: CPU and memory by a point, load by 0.1, rates by 4 KiB/s or 10 %, temperature by a degree; the uptime is counted on by the reader. */
export const hostSignificance: Significance = (field, sent, now) => {
  switch (field) {
    case 'cpuPercent':
    case 'memUsedPercent':
      return beyond(sent, now, 1, 0);
    case 'memAvailableBytes':
    case 'swapUsedBytes':
      return beyond(sent, now, 4 * MiB, 0.01);
    case 'netRxBytesPerSec':
    case 'netTxBytesPerSec':
      return beyond(sent, now, 4096, 0.1);
    case 'temperatureC':
      return beyond(sent, now, 1, 0);
    case 'load':
      return !Array.isArray(sent) || !Array.isArray(now) || now.some((v, i) => beyond(sent[i], v, 0.1, 0));
    case 'disks':
      return !Array.isArray(sent) || !Array.isArray(now) || sent.length !== now.length || now.some((d: { usedBytes?: number; mount?: string }, i) => d?.mount !== (sent[i] as { mount?: string })?.mount || beyond((sent[i] as { usedBytes?: number })?.usedBytes, d?.usedBytes, 16 * MiB, 0.001));
    case 'uptimeSeconds':
      return false;
    default:
      return !same(sent, now);
  }
};

export const hostEncoder = (): DeltaEncoder<HostMetrics> => new DeltaEncoder<HostMetrics>(() => 'host', hostSignificance);

export function hostDecoder(): DeltaDecoder<HostMetrics & { id: string }> {
  let base: { uptime: number; at: number } | null = null;
  return new DeltaDecoder<HostMetrics & { id: string }>((row, at) => {
    const h = { ...row, at } as unknown as HostMetrics & { id: string };
    // The uptime is sent once (and with each keyframe when it differs); between, it is counted on.
    if (base === null || base.uptime !== (row.uptimeSeconds as number)) base = { uptime: row.uptimeSeconds as number, at };
    h.uptimeSeconds = Math.round(base.uptime + (at - base.at) / 1000);
    return h;
  });
}
