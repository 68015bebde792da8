import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupPathsFromProc, flatKeyedValue, parseBlkioV1, parseIoStatV2, parseNetDev } from '../../core/monitor/cgroup.js';
import { cpuPercentBetween, figuresFromStats, memoryUsed } from '../../core/monitor/stats-api.js';
import { isRealDisk, parseMeminfo, parseProcStat } from '../../core/monitor/host-monitor.js';

describe('cgroup parsing', () => {
  it('finds v1 controller directories, including joined controllers', () => {
    const text = '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n3:blkio:/docker/abc\n2:pids:/docker/abc\n0::/docker/abc\n';
    expect(cgroupPathsFromProc(text, 42, 'v1', '/cg')).toEqual({
      mode: 'v1',
      cpu: '/cg/cpu,cpuacct/docker/abc',
      memory: '/cg/memory/docker/abc',
      blkio: '/cg/blkio/docker/abc',
      pids: '/cg/pids/docker/abc',
      netDev: '/proc/42/net/dev',
    });
  });
  it('uses the unified path on v2, and refuses lines without it', () => {
    expect(cgroupPathsFromProc('0::/system.slice/docker-abc.scope\n', 7, 'v2', '/cg')?.cpu).toBe('/cg/system.slice/docker-abc.scope');
    expect(cgroupPathsFromProc('garbage', 7, 'v2', '/cg')).toBeNull();
    expect(cgroupPathsFromProc('3:blkio:/x', 7, 'v1', '/cg')).toBeNull();
  });
  it('parses stat files, block I/O and /proc/net/dev', () => {
    const stat = 'cache 10\ninactive_file 7\ntotal_inactive_file 4\nbad\nnot_a_number x\nlast 9';
    expect(flatKeyedValue(stat, 'cache')).toBe(10);
    expect(flatKeyedValue(stat, 'total_inactive_file')).toBe(4);
    expect(flatKeyedValue(stat, 'inactive_file')).toBe(7); // not fooled by total_inactive_file
    expect(flatKeyedValue(stat, 'last')).toBe(9); // no trailing newline
    expect(flatKeyedValue(stat, 'not_a_number')).toBeUndefined();
    expect(flatKeyedValue(stat, 'missing')).toBeUndefined();
    expect(flatKeyedValue('', 'cache')).toBeUndefined();
    expect(flatKeyedValue('usage_usec 123\nuser_usec 100\n', 'usage_usec')).toBe(123);
    expect(parseBlkioV1('8:0 Read 100\n8:0 Write 50\n8:16 Read 1\nTotal 151\n')).toEqual({ read: 101, write: 50 });
    expect(parseIoStatV2('8:0 rbytes=10 wbytes=20 rios=1\n259:0 rbytes=1 wbytes=2\n')).toEqual({ read: 11, write: 22 });
    const dev = 'Inter-|   Receive\n face |bytes    packets\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 1000 5 0 0 0 0 0 0 2000 6 0 0 0 0 0 0\n';
    expect(parseNetDev(dev)).toEqual({ rx: 1000, tx: 2000 });
  });
});

describe('stats API math (docker CLI formula)', () => {
  const sample = (cpu: number, sys: number) => ({
    cpu_stats: { cpu_usage: { total_usage: cpu }, system_cpu_usage: sys, online_cpus: 2 },
  });
  it('computes cpu_delta / system_delta × cpus × 100', () => {
    // One core busy on a two-core host: the container used half of all CPU time.
    expect(cpuPercentBetween(sample(0, 0), sample(1e9, 2e9))).toBeCloseTo(100, 5);
    // No figure from one sample, nor across a counter reset: unknown, not a claimed 0 %.
    expect(cpuPercentBetween(undefined, sample(1e9, 2e9))).toBeNull();
    expect(cpuPercentBetween(sample(5e9, 5e9), sample(1e9, 6e9))).toBeNull(); // counter reset
    expect(cpuPercentBetween(sample(1e9, 5e9), sample(1e9, 6e9))).toBe(0); // idle: a real 0
  });
  it('subtracts inactive file cache from memory (v1 and v2 names)', () => {
    expect(memoryUsed({ usage: 1000, stats: { total_inactive_file: 300 } })).toBe(700);
    expect(memoryUsed({ usage: 1000, stats: { inactive_file: 200 } })).toBe(800);
    expect(memoryUsed({ usage: 100, stats: { inactive_file: 500 } })).toBe(100);
  });
  it('sums networks and block I/O', () => {
    const f = figuresFromStats(undefined, {
      memory_stats: { usage: 50, limit: 200, stats: {} },
      networks: { eth0: { rx_bytes: 1, tx_bytes: 2 }, eth1: { rx_bytes: 10, tx_bytes: 20 } },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 5 }, { op: 'write', value: 7 }] },
      pids_stats: { current: 3 },
    });
    expect(f).toMatchObject({ memoryPercent: 25, netRxBytes: 11, netTxBytes: 22, blockReadBytes: 5, blockWriteBytes: 7, pids: 3 });
  });
});

describe('host figures', () => {
  it('reads busy and total jiffies from /proc/stat, iowait counting as idle', () => {
    expect(parseProcStat('cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 50 5 25 400 20 0 0 0 0 0\n')).toEqual({ busy: 160, total: 1000 });
    expect(() => parseProcStat('garbage')).toThrow(/no aggregate cpu line/);
    const meminfo = 'MemTotal:       24570212 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\nBuffers:          100 kB\nSwapTotal:       2048 kB\nSwapFree:        1024 kB\n';
    expect(parseMeminfo(meminfo)).toEqual({ total: 24570212 * 1024, available: 20000000 * 1024, swaptotal: 2048 * 1024, swapused: 1024 * 1024 });
    // Old kernels have no MemAvailable: free + buffers + cached.
    expect(parseMeminfo('MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n').available).toBe(35 * 1024);
    expect(() => parseMeminfo('garbage\n')).toThrow(/MemTotal/);
    // The machine's own, read as the sampler reads it.
    const real = parseMeminfo(readFileSync('/proc/meminfo', 'utf8'));
    expect(real.total).toBe(totalmem());
    expect(real.available).toBeGreaterThan(0);
    expect(real.available).toBeLessThanOrEqual(real.total);
  });
  it('keeps real disks and skips overlays and pseudo file systems', () => {
    expect(isRealDisk('/dev/sda1', 'ext4', '/')).toBe(true);
    expect(isRealDisk('overlay', 'overlay', '/var/lib/docker/overlay2/x/merged')).toBe(false);
    expect(isRealDisk('tmpfs', 'tmpfs', '/run')).toBe(false);
  });
});

describe('the first sample has no CPU figure (issue: 0 % for a container burning 30 %)', () => {
  it('the host\'s first sample says CPU unknown (null), the second a figure', async () => {
    const { HostMonitor } = await import('../../core/monitor/host-monitor.js');
    const m = new HostMonitor({ node: 'n', firstSlowDelayMs: 60_000 });
    try {
      const first = await m.sample();
      expect(first.cpuPercent).toBeNull();
      expect(first.netRxBytesPerSec).toBeNull();
      await new Promise((r) => setTimeout(r, 50));
      const second = await m.sample();
      expect(typeof second.cpuPercent).toBe('number');
      expect(typeof second.netRxBytesPerSec).toBe('number');
    } finally {
      m.close();
    }
  });
});
