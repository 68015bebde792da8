/**
 * `npm run bench -- compare REV`: this tree's build against the build of an
 * earlier commit, measured in one run, interleaved launch by launch, so a
 * change's cost is a ratio that the machine's load of the moment cannot
 * fake. 50 running containers each printing a line a second on a private
 * engine; a pty of 120×40, without NODE_EXTRA_CA_CERTS:
 * 1. launch → the first frame naming the first two containers (`node dist/outpost.mjs`);
 * 2. `outpost ps --json`, medians over alternating runs.
 * The baseline is built from `git worktree` into .cache/baseline/REV (its
 * node_modules are this tree's). Results: bench/results/compare.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { median, runTickers, saveResult, timeRun } from './lib.js';
import { PtyRun } from './pty.js';

const CONTAINERS = 50;
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 15);
const PS_RUNS = 21;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export async function runCompareBench(rev: string | undefined): Promise<void> {
  if (!rev || !/^[\w./-]{1,100}$/.test(rev)) {
    console.error('compare: give the commit to compare with, e.g. `npm run bench -- compare HEAD~10`');
    process.exitCode = 2;
    return;
  }
  const root = process.cwd();
  const commit = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(root, '.cache/baseline', commit.slice(0, 12));
  if (!existsSync(join(dir, 'dist/outpost.mjs'))) {
    if (!existsSync(dir)) execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { stdio: 'inherit' });
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit' });
  }
  const builds = [
    { name: 'current', main: join(root, 'dist/outpost.mjs') },
    { name: 'baseline', main: join(dir, 'dist/outpost.mjs') },
  ];

  const engine = await startPrivateEngine('comparebench');
  try {
    await importTestImage(engine.dockerHost);
    await runTickers(new Docker({ socketPath: engine.socket }), CONTAINERS);
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: engine.dockerHost, TERM: 'xterm-256color', HOME: engine.dir, XDG_CONFIG_HOME: `${engine.dir}/config` };
    delete env.NODE_EXTRA_CA_CERTS;

    const frames = new Map<string, number[]>(builds.map((b) => [b.name, []]));
    for (let i = 0; i <= LAUNCHES; i++) {
      // Alternate which goes first, so neither always runs on a warmer cache.
      for (const b of i % 2 ? [...builds].reverse() : builds) {
        const t0 = performance.now();
        const run = new PtyRun(`${process.execPath} ${b.main}`, 120, 40, env);
        const at = await run.waitFor((o) => o.includes('bench-00') && o.includes('bench-01'), 30_000);
        if (i > 0) frames.get(b.name)?.push(at - t0);
        await run.stop();
      }
    }
    const ps = new Map<string, number[]>(builds.map((b) => [b.name, []]));
    for (let i = 0; i < PS_RUNS + 2; i++) {
      for (const b of i % 2 ? [...builds].reverse() : builds) {
        const t = timeRun(process.execPath, [b.main, 'ps', '--json'], env);
        if (i >= 2) ps.get(b.name)?.push(t);
      }
    }
    const m = (xs: number[] | undefined) => round(median(xs ?? []));
    const result = {
      baseline: commit,
      containers: CONTAINERS,
      firstFrame: { launches: LAUNCHES, currentMedianMs: m(frames.get('current')), baselineMedianMs: m(frames.get('baseline')), ratio: round(median(frames.get('current') ?? []) / median(frames.get('baseline') ?? []), 2) },
      ps: { runs: PS_RUNS, currentMedianMs: m(ps.get('current')), baselineMedianMs: m(ps.get('baseline')), ratio: round(median(ps.get('current') ?? []) / median(ps.get('baseline') ?? []), 2) },
    };
    console.log(
      `against ${commit.slice(0, 12)}: first frame ${result.firstFrame.currentMedianMs} ms vs ${result.firstFrame.baselineMedianMs} ms (ratio ${result.firstFrame.ratio}); ps --json ${result.ps.currentMedianMs} ms vs ${result.ps.baselineMedianMs} ms (ratio ${result.ps.ratio})`,
    );
    saveResult('compare', result);
  } finally {
    await engine.dispose();
  }
}
