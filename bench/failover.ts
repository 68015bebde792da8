/**
 * Failover timings on three real agents (private engines, `outpost agent --listen` on
 * 127.0.0.2–4, lost_after 40s, stop_after 10s), a movable singleton placed with `outpost place`:
 *
 * 1. loss: the agent and the engine of the singleton's node are killed; from then until the
 *    workload runs on another node, minus lost_after (target ≤ 3 s);
 * 2. partition: the singleton's node is cut off from the two others (every test link between
 *    it and them cut, both ways: test/harness/link.ts); from then until its own copy has
 *    stopped, minus stop_after (target ≤ 2 s). The partition heals right after, before
 *    lost_after, so the deciding node restarts the fenced copy (the unfence path), timed too.
 *
 * Each engine is polled every 100 ms through its own socket, not through an agent.
 * BENCH_FAILOVER_RUNS sets how many runs of each (default 3).
 */
import { startAgent, stopAgent } from '../test/harness/site.js';
import { NAMES, placeOn, removeAll, runningOn, settled, startFleet, until } from './fleet.js';
import { median, round, saveResult } from './lib.js';

const LOST_AFTER_S = 40;
const STOP_AFTER_S = 10;

export async function runFailoverBench(): Promise<void> {
  const runs = Math.max(1, Number(process.env.BENCH_FAILOVER_RUNS ?? 3) || 3);
  const fleet = await startFleet('failover', { lostAfterS: LOST_AFTER_S, stopAfterS: STOP_AFTER_S });
  const { sites, mesh, down } = fleet;
  try {
    // 2. partition: the cut-off node's own copy stops after stop_after.
    const stopOver: number[] = [];
    const unfenceS: number[] = [];
    for (let i = 0; i < runs; i++) {
      const alone = NAMES[(i + 1) % NAMES.length] as string;
      const workload = `bench-cut-${i}`;
      const id = await placeOn(fleet, workload, alone);
      const t0 = performance.now();
      mesh.isolate(alone);
      await until(async () => !(await runningOn(fleet, workload)).some((c) => c.id === id), (STOP_AFTER_S + 20) * 1000, `${alone} to stop its copy`);
      const s = (performance.now() - t0) / 1000;
      stopOver.push(s - STOP_AFTER_S);
      mesh.heal();
      const t1 = performance.now();
      await until(async () => (await runningOn(fleet, workload)).some((c) => c.id === id), 30_000, 'the fenced copy restarted after the heal');
      unfenceS.push((performance.now() - t1) / 1000);
      console.log(`failover: partition run ${i + 1}: ${alone} stopped its copy ${round(s, 2)} s after the cut (stop_after ${STOP_AFTER_S} s); restarted ${round(unfenceS.at(-1) ?? 0, 2)} s after the heal`);
      await removeAll(fleet, workload);
      await settled(fleet);
    }

    // 1. loss: the agent and the engine of the singleton's node die.
    const lossOver: number[] = [];
    for (let i = 0; i < runs; i++) {
      const victim = sites[(i + 2) % sites.length] as (typeof sites)[number];
      const workload = `bench-loss-${i}`;
      await placeOn(fleet, workload, victim.name);
      const t0 = performance.now();
      await stopAgent(victim, 'SIGKILL');
      await victim.engine.crash();
      down.add(victim.name);
      const moved = await until(async () => (await runningOn(fleet, workload))[0], (LOST_AFTER_S + 30) * 1000, `${workload} re-placed`);
      const s = (performance.now() - t0) / 1000;
      lossOver.push(s - LOST_AFTER_S);
      console.log(`failover: loss run ${i + 1}: ${victim.name} died; ${workload} runs on ${moved.node} ${round(s, 2)} s later (lost_after ${LOST_AFTER_S} s)`);
      await victim.engine.restart();
      down.delete(victim.name);
      await startAgent(victim);
      await removeAll(fleet, workload);
      await settled(fleet);
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
    await fleet.close();
  }
}
