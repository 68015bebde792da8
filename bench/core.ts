/**
 * Core benchmarks (issue: core): with 50 running containers on a private engine,
 * 1. `outpost ps --json` against `docker ps --format json` (median wall time ratio);
 * 2. the CPU cost of keeping live figures of all 50 for 30 s: Outpost (its process plus
 *    the engine's extra CPU) against `docker stats`.
 */
import { spawn, execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { cpuOfAll, cpuSeconds, median, pidsMatching, runContainer, saveResult, sleep, timeRun } from './lib.js';

const CONTAINERS = 50;
const RUNS = 21;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 30_000);

async function engineCpuOver(dir: string, ms: number): Promise<number> {
  const before = cpuOfAll(pidsMatching(dir));
  await sleep(ms);
  return cpuOfAll(pidsMatching(dir)) - before;
}

/** Runs a monitoring command for the window; returns its own CPU and the engine's. */
async function monitorCost(cmd: string, args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<{ self: number; engine: number; outputBytes: number }> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let outputBytes = 0;
  child.stdout.on('data', (d: Buffer) => (outputBytes += d.length));
  await sleep(3000); // warm-up: startup is measured by the ps benchmark, not here
  const pid = child.pid as number;
  const self0 = cpuSeconds(pid);
  const engine = await engineCpuOver(dir, WINDOW_MS);
  const self = cpuSeconds(pid) - self0;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  return { self, engine, outputBytes };
}

export async function runCoreBench(): Promise<void> {
  const engine = await startPrivateEngine('bench');
  try {
    await importTestImage(engine.dockerHost);
    const d = new Docker({ socketPath: engine.socket });
    await Promise.all(
      Array.from({ length: CONTAINERS }, (_, i) => runContainer(d, `bench-${i}`, ['sleep', '86400'])),
    );
    const env = { ...process.env, DOCKER_HOST: engine.dockerHost };
    const docker = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
    const dockerVersion = execFileSync(docker, ['version', '--format', '{{.Client.Version}}'], { env, encoding: 'utf8' }).trim();

    // 1. ps: alternate the two commands so both see the same machine state.
    const outpost: number[] = [];
    const dockerPs: number[] = [];
    const nodeFloor: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const a = timeRun('dist/outpost.mjs', ['ps', '--json'], env);
      const b = timeRun(docker, ['ps', '--format', 'json'], env);
      const c = timeRun(process.execPath, ['-e', '0'], env);
      if (i >= 2) {
        outpost.push(a);
        dockerPs.push(b);
        nodeFloor.push(c);
      }
    }
    const ps = {
      containers: CONTAINERS,
      runs: RUNS,
      outpostMedianMs: round(median(outpost)),
      dockerMedianMs: round(median(dockerPs)),
      ratio: round(median(outpost) / median(dockerPs), 2),
      target: 1.5,
      nodeEmptyStartMedianMs: round(median(nodeFloor)),
      nodeFloorRatio: round(median(nodeFloor) / median(dockerPs), 2),
      nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset',
      docker: `${docker} ${dockerVersion}`,
    };
    console.log(`ps: outpost ${ps.outpostMedianMs} ms, docker ${ps.dockerMedianMs} ms, ratio ${ps.ratio} (target ≤ ${ps.target}); empty node start ${ps.nodeEmptyStartMedianMs} ms (ratio floor ${ps.nodeFloorRatio})`);

    // 2. monitoring cost over the window, each against the same idle baseline.
    const idleEngine = await engineCpuOver(engine.dir, WINDOW_MS);
    const o = await monitorCost('dist/outpost.mjs', ['stats', '--json', '--interval', '1000'], env, engine.dir);
    const dstats = await monitorCost(docker, ['stats', '--format', 'json'], env, engine.dir);
    const outpostCost = o.self + Math.max(0, o.engine - idleEngine);
    const dockerCost = dstats.self + Math.max(0, dstats.engine - idleEngine);
    const monitor = {
      windowSeconds: WINDOW_MS / 1000,
      refreshSeconds: 1,
      idleEngineCpuSeconds: round(idleEngine, 3),
      outpost: { processCpuSeconds: round(o.self, 3), engineCpuSeconds: round(o.engine, 3), totalExtraCpuSeconds: round(outpostCost, 3), outputBytes: o.outputBytes },
      dockerStats: { processCpuSeconds: round(dstats.self, 3), engineCpuSeconds: round(dstats.engine, 3), totalExtraCpuSeconds: round(dockerCost, 3), outputBytes: dstats.outputBytes },
      ratio: round(outpostCost / dockerCost, 3),
      target: 0.1,
      outpostPercentOfOneCore: round((outpostCost / (WINDOW_MS / 1000)) * 100, 2),
      dockerStatsPercentOfOneCore: round((dockerCost / (WINDOW_MS / 1000)) * 100, 2),
    };
    console.log(
      `monitoring ${CONTAINERS} containers for ${monitor.windowSeconds} s: outpost ${monitor.outpost.totalExtraCpuSeconds} CPU-s (${monitor.outpostPercentOfOneCore}% of a core), ` +
        `docker stats ${monitor.dockerStats.totalExtraCpuSeconds} CPU-s (${monitor.dockerStatsPercentOfOneCore}%), ratio ${monitor.ratio} (target ≤ ${monitor.target})`,
    );
    const file = saveResult('core', { ps, monitor });
    console.log(`saved ${file}`);
  } finally {
    await engine.dispose();
  }
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
