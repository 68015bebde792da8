/**
 * The rule agent: its idle cost with 50 containers and 20 rules, and its
 * reaction latency from the engine's `die` event to the restart request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { readJournal } from '../core/agent/journal.js';
import { cpuOfAll, cpuSeconds, percentile, pidsMatching, round, runContainer, saveResult, sleep } from './lib.js';

const CONTAINERS = 50;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 30_000);
const EVENTS = 100;
const CRASHERS = 10;

/** Twenty rules of every kind, over the 50 containers (bench-0 … bench-49). */
function twentyRules(): string {
  const r: string[] = [];
  const skip = new Set((process.env.BENCH_AGENT_SKIP ?? '').split(',').filter(Boolean));
  for (let i = 0; i < 5; i++) r.push(`  - {name: exit-${i}, match: {name: "bench-${i}*"}, when: {exit: nonzero}, then: restart, budget: 3/10m}`);
  for (let i = 0; i < 3; i++) r.push(`  - {name: health-${i}, match: {name: "bench-${i + 1}?"}, when: {unhealthy: 30s}, then: restart}`);
  for (let i = 0; i < 4; i++) r.push(`  - {name: cpu-${i}, match: {name: "bench-*${i}"}, when: {cpu: {above: ${80 + i * 5}, samples: 3}}, then: notify}`);
  for (let i = 0; i < 4; i++) r.push(`  - {name: mem-${i}, match: {name: "bench-*${i + 4}"}, when: {memory: {above: ${256 + i * 128}MiB}}, then: restart}`);
  r.push('  - {name: log-panic, match: {name: "bench-1*"}, when: {log: {match: "panic|FATAL", stream: stderr}}, then: restart}');
  r.push('  - {name: log-oom, match: {name: "bench-2*"}, when: {log: "out of memory"}, then: notify}');
  r.push('  - {name: flapping, match: {name: "bench-*"}, when: {restarts: {more-than: 5, within: 10m}}, then: stop}');
  r.push('  - {name: shed, match: {label: shed}, when: {host: {disk-above: 99, for: 1m}}, then: stop}');
  return r.filter((line) => ![...skip].some((k) => line.includes(`name: ${k}`))).join('\n');
}

function startAgent(env: NodeJS.ProcessEnv, nice = false): ChildProcess {
  // BENCH_PROF=DIR writes a CPU profile of the agent there (to see where its time goes).
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const args = [...prof, 'dist/outpost.mjs', 'agent'];
  // nice: the priority the systemd unit gives the agent (Nice=-5), so what it supervises cannot starve it.
  return nice ? spawn('nice', ['-n', '-5', process.execPath, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] }) : spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopAgent(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

export async function runAgentBench(): Promise<void> {
  const engine = await startPrivateEngine('bench-agent');
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-agent-'));
  try {
    await importTestImage(engine.dockerHost);
    const d = new Docker({ socketPath: engine.socket });
    await Promise.all(
      Array.from({ length: CONTAINERS }, (_, i) => runContainer(d, `bench-${i}`, ['sleep', '86400'])),
    );
    mkdirSync(join(dir, 'config', 'outpost'), { recursive: true });
    const rulesFile = join(dir, 'config', 'outpost', 'rules.yaml');
    writeFileSync(rulesFile, `rules:\n${twentyRules()}\n`);
    const env = { ...process.env, DOCKER_HOST: engine.dockerHost, XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state') };

    // 1. Idle: the engine's own CPU over a window without the agent, then the agent's and the engine's with it.
    const enginePids = () => pidsMatching(engine.dir);
    await sleep(3000);
    const base0 = cpuOfAll(enginePids());
    await sleep(WINDOW_MS);
    const engineBase = cpuOfAll(enginePids()) - base0;
    const agent = startAgent(env);
    await sleep(15_000); // settle: startup (and the JIT warming up after it) is not idle
    const pid = agent.pid as number;
    const self0 = cpuSeconds(pid);
    const eng0 = cpuOfAll(enginePids());
    await sleep(WINDOW_MS);
    const self = cpuSeconds(pid) - self0;
    const engineWith = cpuOfAll(enginePids()) - eng0;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await import('node:fs').then((fs) => fs.readFileSync(`/proc/${pid}/status`, 'utf8')))?.[1] ?? 0) * 1024;
    await stopAgent(agent);
    const engineExtra = Math.max(0, engineWith - engineBase);
    const idle = {
      containers: CONTAINERS,
      rules: 20,
      windowS: WINDOW_MS / 1000,
      agentCpuS: round(self, 3),
      engineExtraCpuS: round(engineExtra, 3),
      percentOfCore: round(((self + engineExtra) / (WINDOW_MS / 1000)) * 100, 2),
      target: 1,
      rssMiB: round(rss / 1048576),
    };
    console.log(
      `agent idle: ${idle.percentOfCore}% of a core (agent ${idle.agentCpuS} s + engine extra ${idle.engineExtraCpuS} s over ${idle.windowS} s; target ≤ ${idle.target}%), RSS ${idle.rssMiB} MiB`,
    );

    if (process.env.BENCH_AGENT_PARTS === 'idle') {
      saveResult('agent', { idle });
      return;
    }
    // 2. Reaction latency: crash loops restarted at once (no back-off), 100 die events each time.
    //    "steady": two crash loops, the machine otherwise idle; "storm": ten at once on this 2-core
    //    machine, every restart competing with the next crash for the CPU.
    writeFileSync(rulesFile, `rules:\n${twentyRules()}\n  - {name: crash, match: {name: "lat-*"}, when: {exit: nonzero}, then: restart, backoff: off, budget: off, priority: 100}\n`);
    const stateDir = join(dir, 'state', 'outpost');
    const phase = async (label: string, crashers: number, sleepS: (i: number) => string, nice = false) => {
      const agent2 = startAgent(env, nice);
      await sleep(3000);
      const since = readJournal(stateDir).entries.at(-1)?.seq ?? 0;
      await Promise.all(
        Array.from({ length: crashers }, (_, i) => runContainer(d, `lat-${label}-${i}`, ['sh', '-c', `sleep ${sleepS(i)}; exit 1`])),
      );
      const outcomes = () =>
        readJournal(stateDir).entries.filter((e) => e.seq > since && e.kind === 'outcome' && e.container?.startsWith(`lat-${label}-`) && typeof e.latencyMs === 'number');
      const deadline = Date.now() + 180_000;
      while (outcomes().length < EVENTS && Date.now() < deadline) await sleep(500);
      await stopAgent(agent2);
      await Promise.all(Array.from({ length: crashers }, (_, i) => d.getContainer(`lat-${label}-${i}`).remove({ force: true })));
      const all = outcomes();
      const sorted = all.slice(0, EVENTS).map((e) => e.latencyMs as number).sort((x, y) => x - y);
      if (process.env.BENCH_VERBOSE) console.log(sorted.join(' '));
      const r = {
        crashLoops: crashers,
        events: sorted.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1) ?? null,
        target: 50,
        failedRestarts: all.filter((e) => e.ok === false).length,
      };
      console.log(`reaction (${label}, ${crashers} crash loops): p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms over ${r.events} die events (target p99 ≤ ${r.target} ms)`);
      return r;
    };
    const reaction = {
      measured: "engine's die event timestamp → the restart request leaving the agent (journal write included)",
      cores: (await import('node:os')).cpus().length,
      steady: await phase('steady', 2, () => '0.5'),
      storm: await phase('storm', CRASHERS, (i) => `1.${i}`),
      stormNice: await phase('storm-nice', CRASHERS, (i) => `1.${i}`, true),
    };
    const file = saveResult('agent', { idle, reaction });
    console.log(`saved ${file}`);
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
