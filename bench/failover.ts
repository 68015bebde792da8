/**
 * Failover timings on three real agents (private engines, `outpost agent --listen` on
 * 127.0.0.2–4, lost_after 40s, stop_after 10s), a movable singleton placed with `outpost place`:
 *
 * 1. loss: the agent and the engine of the singleton's node are killed; from then until the
 *    workload runs on another node, minus lost_after (target ≤ 3 s);
 * 2. partition: the singleton's node is cut off from the two others (the agents' test-only
 *    partition switch, OUTPOST_TEST_PARTITION_FILE); from then until its own copy has stopped,
 *    minus stop_after (target ≤ 2 s). The partition heals right after, before lost_after, so
 *    the deciding node restarts the fenced copy (the unfence path), timed too.
 *
 * Each engine is polled every 100 ms through its own socket, not through an agent.
 * BENCH_FAILOVER_RUNS sets how many runs of each (default 3).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runCommand, type Run } from '../test/harness/cli.js';
import { docker } from '../test/harness/fixtures.js';
import { TEST_IMAGE } from '../test/harness/image.js';
import { homeEnv, siteNode, startAgent, stopAgent, type SiteNode } from '../test/harness/site.js';
import { median, round, saveResult, sleep } from './lib.js';

const LOST_AFTER_S = 40;
const STOP_AFTER_S = 10;
const NAMES = ['n2', 'n3', 'n4'];

/** The built CLI with exactly this environment (the test harness's `outpost` asks vitest for the engine). */
function outpost(args: string[], env: Record<string, string>): Promise<Run> {
  return runCommand([process.execPath, BIN, ...args], { PATH: process.env.PATH ?? '', ...env });
}

interface Site extends SiteNode {
  partition: string;
}

async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`failover bench: timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function runningOn(sites: Site[], workload: string, down: Set<string>): Promise<{ node: string; id: string }[]> {
  const out: { node: string; id: string }[] = [];
  await Promise.all(
    sites
      .filter((s) => !down.has(s.name))
      .map(async (s) => {
        try {
          const list = await docker(s.engine.dockerHost).listContainers({ filters: { label: [`outpost.workload=${workload}`] } });
          for (const c of list) if (c.State === 'running') out.push({ node: s.name, id: c.Id });
        } catch {
          // an engine going down
        }
      }),
  );
  return out;
}

async function removeAll(sites: Site[], workload: string, down: Set<string>): Promise<void> {
  for (const s of sites.filter((x) => !down.has(x.name))) {
    const d = docker(s.engine.dockerHost);
    const list = await d.listContainers({ all: true, filters: { label: [`outpost.workload=${workload}`] } }).catch(() => []);
    for (const c of list) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}

function stateOf(s: Site): { mode: string; lastSeenMs: Record<string, number>; known: Record<string, { running: boolean }[]> } | null {
  try {
    return (JSON.parse(readFileSync(join(s.home, '.state', 'outpost', 'placement-state.json'), 'utf8')) as { failover: never }).failover;
  } catch {
    return null;
  }
}

async function settled(sites: Site[], down: Set<string>): Promise<void> {
  await until(async () => sites.filter((s) => !down.has(s.name)).every((s) => stateOf(s)?.mode === 'majority' && Object.keys(stateOf(s)?.lastSeenMs ?? {}).length === 3), 60_000, 'every agent in contact with a majority');
}

/** Places the singleton on `on` (a preference) and waits until every agent knows its copy. */
async function placeOn(sites: Site[], home: string, workload: string, on: string): Promise<string> {
  const file = join(home, `${workload}.yaml`);
  writeFileSync(file, `name: ${workload}\nimage: ${TEST_IMAGE}\ncommand: "trap 'exit 0' TERM; while :; do sleep 0.2; done"\nmovable: true\npreferences:\n  - {expr: "node == ${on}", weight: 50}\n`);
  const from = sites.find((s) => s.name !== on) as Site;
  const r = await outpost(['place', file], { ...homeEnv(from.home), DOCKER_HOST: from.engine.dockerHost });
  if (r.code !== 0) throw new Error(`failover bench: outpost place failed: ${r.stderr}`);
  const first = await until(async () => (await runningOn(sites, workload, new Set()))[0], 20_000, `${workload} running`);
  if (first.node !== on) throw new Error(`failover bench: ${workload} was placed on ${first.node}, not ${on}`);
  await until(async () => sites.every((s) => (stateOf(s)?.known[`${workload}#0`] ?? []).some((c) => c.running)), 15_000, `every agent to know ${workload}`);
  return first.id;
}

function partition(sites: Site[], alone: string): void {
  for (const s of sites) writeFileSync(s.partition, s.name === alone ? NAMES.filter((n) => n !== alone).join('\n') : alone);
}

function heal(sites: Site[]): void {
  for (const s of sites) writeFileSync(s.partition, '');
}

export async function runFailoverBench(): Promise<void> {
  const runs = Math.max(1, Number(process.env.BENCH_FAILOVER_RUNS ?? 3) || 3);
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const home = mkdtempSync(join(tmpdir(), 'op-bench-failover-'));
  const sites: Site[] = [];
  const down = new Set<string>();
  const env = (s: Site) => ({ OUTPOST_TEST_PARTITION_FILE: s.partition });
  try {
    for (const [i, name] of NAMES.entries()) {
      const s = (await siteNode(home, name, `127.0.0.${i + 2}`)) as Site;
      s.partition = join(s.home, 'partition');
      writeFileSync(s.partition, '');
      mkdirSync(join(s.home, '.config', 'outpost'), { recursive: true });
      writeFileSync(join(s.home, '.config', 'outpost', 'placement.yaml'), `node: ${name}\nfailover:\n  lost_after: ${LOST_AFTER_S}s\n  stop_after: ${STOP_AFTER_S}s\n`);
      sites.push(s);
    }
    await Promise.all(sites.map((s) => startAgent(s, env(s))));
    for (const a of sites) {
      for (const b of sites) {
        if (a === b) continue;
        const r = await outpost(['peers', 'add', b.joinCode as string, '--name', b.name], homeEnv(a.home));
        if (r.code !== 0) throw new Error(`failover bench: peers add failed: ${r.stderr}`);
      }
    }
    await settled(sites, down);

    // 2. partition: the cut-off node's own copy stops after stop_after.
    const stopOver: number[] = [];
    const unfenceS: number[] = [];
    for (let i = 0; i < runs; i++) {
      const alone = NAMES[(i + 1) % NAMES.length] as string;
      const workload = `bench-cut-${i}`;
      const id = await placeOn(sites, home, workload, alone);
      const t0 = performance.now();
      partition(sites, alone);
      await until(async () => !(await runningOn(sites, workload, down)).some((c) => c.id === id), (STOP_AFTER_S + 20) * 1000, `${alone} to stop its copy`);
      const s = (performance.now() - t0) / 1000;
      stopOver.push(s - STOP_AFTER_S);
      heal(sites);
      const t1 = performance.now();
      await until(async () => (await runningOn(sites, workload, down)).some((c) => c.id === id), 30_000, 'the fenced copy restarted after the heal');
      unfenceS.push((performance.now() - t1) / 1000);
      console.log(`failover: partition run ${i + 1}: ${alone} stopped its copy ${round(s, 2)} s after the cut (stop_after ${STOP_AFTER_S} s); restarted ${round(unfenceS.at(-1) ?? 0, 2)} s after the heal`);
      await removeAll(sites, workload, down);
      await settled(sites, down);
    }

    // 1. loss: the agent and the engine of the singleton's node die.
    const lossOver: number[] = [];
    for (let i = 0; i < runs; i++) {
      const victim = sites[(i + 2) % sites.length] as Site;
      const workload = `bench-loss-${i}`;
      await placeOn(sites, home, workload, victim.name);
      const t0 = performance.now();
      await stopAgent(victim, 'SIGKILL');
      await victim.engine.crash();
      down.add(victim.name);
      const moved = await until(async () => (await runningOn(sites, workload, down))[0], (LOST_AFTER_S + 30) * 1000, `${workload} re-placed`);
      const s = (performance.now() - t0) / 1000;
      lossOver.push(s - LOST_AFTER_S);
      console.log(`failover: loss run ${i + 1}: ${victim.name} died; ${workload} runs on ${moved.node} ${round(s, 2)} s later (lost_after ${LOST_AFTER_S} s)`);
      await victim.engine.restart();
      down.delete(victim.name);
      await startAgent(victim, env(victim));
      await removeAll(sites, workload, down);
      await settled(sites, down);
    }

    const lossMedian = round(median(lossOver), 2);
    const lossMax = round(Math.max(...lossOver), 2);
    const stopMedian = round(median(stopOver), 2);
    const stopMax = round(Math.max(...stopOver), 2);
    const lossMet = lossMax <= 3;
    const stopMet = stopMax <= 2;
    console.log(`failover: three agents, lost_after ${LOST_AFTER_S} s, stop_after ${STOP_AFTER_S} s, ${runs} runs each`);
    console.log(`  node lost → running elsewhere, beyond lost_after: median ${lossMedian} s, max ${lossMax} s (target ≤ 3 s: ${lossMet ? 'met' : 'NOT met'})`);
    console.log(`  partition → cut-off copy stopped, beyond stop_after: median ${stopMedian} s, max ${stopMax} s (target ≤ 2 s: ${stopMet ? 'met' : 'NOT met'})`);
    console.log(`  healed before lost_after → fenced copy restarted: median ${round(median(unfenceS), 2)} s`);
    const file = saveResult('failover', {
      nodes: NAMES.length,
      lostAfterS: LOST_AFTER_S,
      stopAfterS: STOP_AFTER_S,
      runs,
      lossOverLostAfterS: lossOver.map((x) => round(x, 2)),
      lossMedianS: lossMedian,
      lossMaxS: lossMax,
      lossTarget: '≤ 3 s beyond lost_after',
      lossMet,
      stopOverStopAfterS: stopOver.map((x) => round(x, 2)),
      stopMedianS: stopMedian,
      stopMaxS: stopMax,
      stopTarget: '≤ 2 s beyond stop_after',
      stopMet,
      unfenceAfterHealS: unfenceS.map((x) => round(x, 2)),
    });
    console.log(`  saved ${file}`);
  } finally {
    for (const s of sites) await stopAgent(s, 'SIGKILL').catch(() => undefined);
    for (const s of sites) await s.engine.dispose().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
