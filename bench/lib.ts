/** Measuring helpers: CPU time from /proc, medians, a private engine with N containers. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import type Docker from 'dockerode';
import { TEST_IMAGE } from '../test/harness/image.js';

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has used, children it waited for included. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14–17 (1-based) of the whole line.
    const [ut, st, cut, cst] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return ((ut ?? 0) + (st ?? 0) + (cut ?? 0) + (cst ?? 0)) / TICK;
  } catch {
    return 0;
  }
}

/** PIDs whose command line contains `needle` (the engine: dockerd, containerd, shims). */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

export function cpuOfAll(pids: number[]): number {
  return pids.reduce((sum, p) => sum + cpuSeconds(p), 0);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The p-th percentile (nearest rank) of ascending values. */
export function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** Wall time of one run of a command, in ms. */
export function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString()}`);
  return t;
}

/** Writes the figures; a partial run (`null` parts) keeps the previous run's figures for those parts. */
export function saveResult(name: string, data: Record<string, unknown>): string {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${name}.json`;
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // first run
  }
  const merged: Record<string, unknown> = { ...previous, at: new Date().toISOString() };
  for (const [k, v] of Object.entries(data)) if (v !== null && v !== undefined) merged[k] = v;
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  return file;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates and starts a test-image container without a network, running `cmd`. */
export async function runContainer(d: Docker, name: string, cmd: string[]): Promise<Docker.Container> {
  const c = await d.createContainer({ name, Image: TEST_IMAGE, Cmd: cmd, HostConfig: { NetworkMode: 'none' } });
  await c.start();
  return c;
}

/** `count` containers named bench-00, bench-01, … each printing "tick N" once a second (created 10 at a time). */
export async function runTickers(d: Docker, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, k) =>
      runContainer(d, `bench-${String(i + k).padStart(2, '0')}`, ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done']),
    );
    await Promise.all(batch);
  }
}

/** A TCP port free on 127.0.0.1 now (the kernel's choice, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
