import { describe, expect, it } from 'vitest';
import type { ContainerStats, HostMetrics } from '../../core/model/types.js';
import { hostDecoder, hostEncoder, KEYFRAME_EVERY, statsDecoder, statsEncoder } from '../../core/remote/sample-delta.js';

const MiB = 1024 * 1024;

function stat(id: string, over: Partial<ContainerStats> = {}): ContainerStats {
  const s: ContainerStats = {
    id,
    name: `c-${id}`,
    at: 1000,
    cpuPercent: 0.1,
    memoryBytes: 10 * MiB,
    memoryLimitBytes: 100 * MiB,
    memoryPercent: 10,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    pids: 2,
    source: 'cgroup-v2',
    ...over,
  };
  s.memoryPercent = (s.memoryBytes / s.memoryLimitBytes) * 100;
  return s;
}

/** What a reader of the wire sees: the frame as JSON text, parsed again. */
const wire = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

describe('compact sample streams', () => {
  it('sends whole rows first, nothing while figures stay put, and only the figures that moved', () => {
    const enc = statsEncoder();
    const dec = statsDecoder();
    const first = enc.frame([stat('a'), stat('b')], 1000);
    expect(first?.rows).toHaveLength(2);
    expect(dec.apply(wire(first))).toEqual([stat('a', { at: 1000 }), stat('b', { at: 1000 })]);
    // CPU 0.1 → 0.3 and 64 bytes more memory: below what a reader could see.
    expect(enc.frame([stat('a', { cpuPercent: 0.3, memoryBytes: 10 * MiB + 64 }), stat('b')], 3000)).toBeNull();
    const moved = enc.frame([stat('a', { cpuPercent: 12.5 }), stat('b', { pids: 3 })], 5000);
    expect(moved?.rows).toEqual([
      { k: 0, cpuPercent: 12.5 },
      { k: 1, pids: 3 },
    ]);
    const rows = dec.apply(wire(moved));
    expect(rows.map((r) => [r.id, r.cpuPercent, r.pids, r.at])).toEqual([
      ['a', 12.5, 2, 5000],
      ['b', 0.1, 3, 5000],
    ]);
    // A change of under 2 % of the memory is not worth the bytes, 3 MiB is; the percentage follows.
    const mem = enc.frame([stat('a', { cpuPercent: 12.5, memoryBytes: 13 * MiB }), stat('b', { pids: 3 })], 7000);
    expect(mem?.rows).toEqual([{ k: 0, memoryBytes: 13 * MiB }]);
    expect(dec.apply(wire(mem))[0]?.memoryPercent).toBeCloseTo(13);
  });

  it('says which rows are gone and introduces new ones with their id', () => {
    const enc = statsEncoder();
    const dec = statsDecoder();
    dec.apply(wire(enc.frame([stat('a'), stat('b')], 1)));
    const f = enc.frame([stat('b'), stat('c')], 2);
    expect(f?.gone).toEqual([0]);
    expect(f?.rows).toEqual([expect.objectContaining({ k: 2, id: 'c', name: 'c-c' })]);
    expect(dec.apply(wire(f)).map((r) => r.id)).toEqual(['b', 'c']);
    const empty = enc.frame([], 3);
    expect(empty).toEqual({ at: 3, rows: [], gone: [1, 2] });
    expect(dec.apply(wire(empty))).toEqual([]);
  });

  it('sends the exact figures that differ every keyframe, so small drift does not last', () => {
    const enc = statsEncoder();
    const dec = statsDecoder();
    dec.apply(wire(enc.frame([stat('a')], 0)));
    const frames = [];
    for (let i = 1; i < KEYFRAME_EVERY; i++) frames.push(enc.frame([stat('a', { cpuPercent: 0.2 })], i));
    const sent = frames.filter((f) => f !== null);
    expect(sent).toHaveLength(1); // the keyframe only
    expect(sent[0]?.rows).toEqual([{ k: 0, cpuPercent: 0.2 }]);
    expect(dec.apply(wire(sent[0]))[0]?.cpuPercent).toBe(0.2);
  });

  it('host metrics: the uptime is counted on between keyframes, other figures sent when they move', () => {
    const host: HostMetrics = {
      node: 'local', at: 10_000, hostname: 'box', cpuPercent: 5, cores: 2, load: [0.1, 0.2, 0.3], memTotalBytes: 1000 * MiB, memAvailableBytes: 500 * MiB, memUsedPercent: 50,
      swapTotalBytes: 0, swapUsedBytes: 0, disks: [{ mount: '/', fs: 'ext4', sizeBytes: 100, usedBytes: 50, usePercent: 50 } as HostMetrics['disks'][number]], temperatureC: null, netRxBytesPerSec: 0, netTxBytesPerSec: 0, uptimeSeconds: 100,
    };
    const enc = hostEncoder();
    const dec = hostDecoder();
    expect(dec.apply(wire(enc.frame([host], host.at)))[0]).toMatchObject({ hostname: 'box', uptimeSeconds: 100, at: 10_000 });
    expect(enc.frame([{ ...host, at: 12_000, uptimeSeconds: 102, cpuPercent: 5.4 }], 12_000)).toBeNull();
    const f = enc.frame([{ ...host, at: 14_000, uptimeSeconds: 104, cpuPercent: 40, load: [1.5, 0.2, 0.3] }], 14_000);
    expect(f?.rows).toEqual([{ k: 0, cpuPercent: 40, load: [1.5, 0.2, 0.3] }]);
    expect(dec.apply(wire(f))[0]).toMatchObject({ cpuPercent: 40, uptimeSeconds: 104, at: 14_000, load: [1.5, 0.2, 0.3] });
  });

  it('a malformed or hostile frame from a peer is refused with a reason, and leaves the rows as they were', () => {
    const dec = statsDecoder();
    dec.apply({ at: 1, rows: [{ k: 0, ...stat('a') }] });
    for (const bad of [null, 'x', [], { rows: [] }, { at: 1 }, { at: 1, rows: [null] }, { at: 1, rows: [{ cpuPercent: 3 }] }, { at: 1, rows: [{ k: 7, cpuPercent: 3 }] }]) {
      expect(() => dec.apply(bad)).toThrow(/frame|row/);
    }
    // `__proto__` as a figure is a plain own key after JSON.parse, never the prototype.
    const rows = dec.apply(JSON.parse('{"at":2,"rows":[{"k":0,"__proto__":{"polluted":true}}]}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(rows[0]?.id).toBe('a');
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
    expect(Object.keys(rows[0] ?? {})).not.toContain('__proto__');
  });
});
