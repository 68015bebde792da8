import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNode } from '../../core/docker/local-node.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import type { ContainerStats } from '../../core/model/types.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'mon-';
let cgroupNode: LocalNode;
let apiNode: LocalNode;

beforeAll(async () => {
  const endpoint = parseHostUrl(dockerHost(), 'DOCKER_HOST');
  cgroupNode = new LocalNode({ endpoint, statsSource: 'cgroup' });
  apiNode = new LocalNode({ endpoint, statsSource: 'stats-api' });
  await makeContainer(docker(), { name: `${P}burn`, cmd: 'while :; do :; done' });
  // 40 MiB written to the container's /dev/shm (tmpfs): memory charged to its cgroup.
  await makeContainer(docker(), {
    name: `${P}hog`,
    cmd: 'head -c 41943040 /dev/zero > /dev/shm/fill; echo ready; sleep 3600',
    memoryBytes: 256 * 1024 * 1024,
  });
  await eventually(async () => {
    const s = await (await cgroupNode.logs(`${P}hog`))[Symbol.asyncIterator]().next();
    return s.value?.text === 'ready';
  }, 20_000, 'memory hog ready');
});

afterAll(async () => {
  await cgroupNode.close();
  await apiNode.close();
  await removeByPrefix(docker(), P);
});

/** Samples both sources over the same windows and averages the last `n`. */
async function sampleBoth(n: number): Promise<{ cg: ContainerStats[][]; api: ContainerStats[][] }> {
  const cg: ContainerStats[][] = [];
  const api: ContainerStats[][] = [];
  const stopA = cgroupNode.watchStats((s) => cg.push(s), { intervalMs: 1000 });
  const stopB = apiNode.watchStats((s) => api.push(s), { intervalMs: 1000 });
  await eventually(() => cg.length > n && api.length > n, 30_000, `${n + 1} samples from both`);
  stopA();
  stopB();
  return { cg: cg.slice(1), api: api.slice(1) };
}

function mean(rounds: ContainerStats[][], name: string, pick: (s: ContainerStats) => number | null): number {
  // The rounds after the first: each has a figure (a first sample has none, null).
  const values = rounds.map((r) => r.find((s) => s.name === name)).filter((s): s is ContainerStats => s !== undefined).map((s) => pick(s) as number);
  expect(values.every((v) => typeof v === 'number')).toBe(true);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('per-container resources', () => {
  it('reads the cgroup files and the stats API, and the two agree', async () => {
    const { cg, api } = await sampleBoth(4);
    expect(cg[0]?.every((s) => s.source === 'cgroup-v1' || s.source === 'cgroup-v2')).toBe(true);
    expect(api[0]?.every((s) => s.source === 'stats-api')).toBe(true);

    const cgCpu = mean(cg, `${P}burn`, (s) => s.cpuPercent);
    const apiCpu = mean(api, `${P}burn`, (s) => s.cpuPercent);
    // A busy loop takes one core; on a shared two-core box it gets at least half of one.
    expect(cgCpu).toBeGreaterThan(50);
    expect(cgCpu).toBeLessThan(110);
    // Stated tolerance: within 15 percentage points of each other over the same 4 s.
    expect(Math.abs(cgCpu - apiCpu)).toBeLessThan(15);

    const cgMem = mean(cg, `${P}hog`, (s) => s.memoryBytes);
    const apiMem = mean(api, `${P}hog`, (s) => s.memoryBytes);
    expect(cgMem).toBeGreaterThan(40 * 1024 * 1024);
    // Memory: within 10 % of each other (both subtract inactive file cache).
    expect(Math.abs(cgMem - apiMem) / apiMem).toBeLessThan(0.1);
    const hog = cg[0]?.find((s) => s.name === `${P}hog`);
    expect(hog?.memoryLimitBytes).toBe(256 * 1024 * 1024);
    expect(hog?.memoryPercent).toBeGreaterThan(15);
    expect(hog?.pids).toBeGreaterThanOrEqual(1);

    const idle = cg.at(-1)?.find((s) => s.name === `${P}hog`);
    expect(idle?.cpuPercent).toBeLessThan(10);
  });

  it('statsOnce gives real rates from two samples', async () => {
    const once = await cgroupNode.statsOnce();
    const burn = once.find((s) => s.name === `${P}burn`);
    expect(burn?.cpuPercent).toBeGreaterThan(50);
  });

  it('falls back to the stats API when a container has no readable cgroup', async () => {
    // `auto` with a cgroup root that does not exist: every container goes through the API.
    const { ContainerMonitor } = await import('../../core/monitor/container-monitor.js');
    let apiCalls = 0;
    const monitor = new ContainerMonitor({
      hostMemoryBytes: 1e12,
      cgroupRoot: '/nonexistent-cgroup-root',
      fetchStats: async () => {
        apiCalls++;
        return { memory_stats: { usage: 10, limit: 100 } };
      },
    });
    const out = await monitor.sample([{ id: 'x', name: 'x', pid: process.pid }]);
    expect(apiCalls).toBe(1);
    expect(out[0]?.source).toBe('stats-api');
  });
});

describe('host metrics', () => {
  it('reports CPU, memory, disks, load and uptime of this host', async () => {
    const h = await cgroupNode.host();
    expect(h).not.toBeNull();
    expect(h?.cores).toBeGreaterThan(0);
    expect(h?.memTotalBytes).toBeGreaterThan(0);
    expect(h?.memAvailableBytes).toBeLessThanOrEqual(h?.memTotalBytes ?? 0);
    expect(h?.disks.some((d) => d.mount === '/')).toBe(true);
    expect(h?.disks.every((d) => !d.mount.includes('/overlay2/'))).toBe(true);
    expect(h?.uptimeSeconds).toBeGreaterThan(0);
    expect(h?.load).toHaveLength(3);
    // Temperature is a number or null where the hardware reports none, never garbage.
    expect(h?.temperatureC === null || Number.isFinite(h?.temperatureC)).toBe(true);
  });
});
