/**
 * How long a movable singleton is out of service (no running copy on any engine) under bad links,
 * and whether it ever runs twice. Three real agents (bench/fleet.ts: lost_after 40s, stop_after
 * 10s, as the e2e failover test), every one the others' peer through a test link
 * (test/harness/link.ts). Each engine is polled through its own socket every 200 ms. For each
 * condition a fresh singleton is placed on n4 and, once every agent knows it, the links change:
 *
 * a. clean cut: every link between n4 and the two others cut, both ways, until the copy runs
 *    elsewhere and 15 s more (at most lost_after + 40 s); then healed;
 * b. slow: n4's links to both others at 300 ms RTT, 5 % loss (TCP stalls: see link.ts), 64 kbit/s
 *    each way, for BENCH_OUTAGE_S (90 s);
 * c. other peer slow: n2's links to both others shaped so (n2 is the node that decides
 *    re-placements while it has a majority); n4 and n3 are healthy, so nothing should fence or
 *    move at all: the fences and re-placements journaled by the healthy nodes are counted;
 * d. flapping: n4's links cut 5 s, healed 5 s, over and over for BENCH_OUTAGE_S.
 *
 * After a condition the links are healed and unshaped and the polling goes on until one copy has
 * run for 10 s (at most 60 s): an outage still open then counts up to that moment. Reported per
 * condition: the worst outage, how many outages, the polls and episodes with two copies running
 * at once (must be 0), and each node's journaled fences, re-placements and episodes of failing
 * heartbeats (what says the condition bit at all). Target (the issue):
 * out of service ≤ lost_after + 5 s, never twice. Saved to bench/results/outage.json.
 */
import { join } from 'node:path';
import { readJournal } from '../core/agent/journal-read.js';
import type { Shape } from '../test/harness/link.js';
import type { SiteNode } from '../test/harness/site.js';
import { NAMES, placeOn, removeAll, runningOn, settled, startFleet, type Fleet } from './fleet.js';
import { round, saveResult, sleep } from './lib.js';

const LOST_AFTER_S = 40;
const STOP_AFTER_S = 10;
const RUN_S = Number(process.env.BENCH_OUTAGE_S ?? 90);
const SLOW: Shape = { delayMs: 150, loss: 0.05, rateBytesPerS: 8000 };
const TARGET_S = LOST_AFTER_S + 5;
const POLL_MS = 200;

/** Polls every engine: outages (no copy running) and overlaps (more than one). */
function watch(f: Fleet, workload: string) {
  let stopped = false;
  let outSince: number | null = null;
  const outages: number[] = [];
  let twicePolls = 0;
  let twiceEpisodes = 0;
  let wasTwice = false;
  let maxRunning = 0;
  let runningSince: number | null = null;
  const loop = (async () => {
    while (!stopped) {
      const n = (await runningOn(f, workload)).length;
      const now = performance.now();
      maxRunning = Math.max(maxRunning, n);
      if (n === 0) {
        outSince ??= now;
        runningSince = null;
      } else {
        if (outSince !== null) outages.push((now - outSince) / 1000);
        outSince = null;
        runningSince ??= now;
      }
      if (n > 1) {
        twicePolls++;
        if (!wasTwice) twiceEpisodes++;
      }
      wasTwice = n > 1;
      await sleep(POLL_MS);
    }
  })();
  return {
    /** Seconds one copy (or more) has run without a gap; 0 while out. */
    upFor: () => (runningSince === null ? 0 : (performance.now() - runningSince) / 1000),
    async stop() {
      stopped = true;
      await loop;
      const open = outSince !== null;
      if (outSince !== null) outages.push((performance.now() - outSince) / 1000);
      return { outages, open, twicePolls, twiceEpisodes, maxRunning };
    },
  };
}

function decisions(s: SiteNode, since: number, workload: string): { fences: number; replacements: number; heartbeatFailures: number } {
  const entries = readJournal(join(s.home, '.state', 'outpost')).entries.filter((e) => e.kind === 'placement' && e.ts >= since);
  return {
    fences: entries.filter((e) => new RegExp(`stopping ${workload} so it never runs twice`).test(e.reason)).length,
    replacements: entries.filter((e) => new RegExp(`re-placing ${workload} on another node`).test(e.reason)).length,
    // Journaled once when a peer's heartbeats start failing (or fail for another reason): episodes, not beats.
    heartbeatFailures: entries.filter((e) => /^heartbeat to \S+ failed/.test(e.reason)).length,
  };
}

interface Outcome {
  condition: string;
  worstOutageS: number;
  outages: number;
  stillOutAtEnd: boolean;
  twicePolls: number;
  twiceEpisodes: number;
  fences: Record<string, number>;
  replacements: Record<string, number>;
  /** Episodes of failing heartbeats each node journaled (evidence the link condition bit). */
  heartbeatFailures: Record<string, number>;
  met: boolean;
}

async function condition(f: Fleet, key: string, label: string, act: (f: Fleet, up: () => number) => Promise<void>): Promise<Outcome> {
  const workload = `outage-${key}`;
  await settled(f);
  await placeOn(f, workload, 'n4');
  const since = Date.now();
  const w = watch(f, workload);
  try {
    await act(f, w.upFor);
  } finally {
    for (const l of f.mesh.links.values()) l.shape({});
    f.mesh.heal();
  }
  // Recovery: one copy running for 10 s, at most 60 s.
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline && w.upFor() < 10) await sleep(POLL_MS);
  const r = await w.stop();
  const fences: Record<string, number> = {};
  const replacements: Record<string, number> = {};
  const heartbeatFailures: Record<string, number> = {};
  for (const s of f.sites) {
    const d = decisions(s, since, workload);
    fences[s.name] = d.fences;
    replacements[s.name] = d.replacements;
    heartbeatFailures[s.name] = d.heartbeatFailures;
  }
  await removeAll(f, workload);
  const worst = round(Math.max(0, ...r.outages), 1);
  const o: Outcome = {
    condition: label,
    worstOutageS: worst,
    outages: r.outages.length,
    stillOutAtEnd: r.open,
    twicePolls: r.twicePolls,
    twiceEpisodes: r.twiceEpisodes,
    fences,
    replacements,
    heartbeatFailures,
    met: worst <= TARGET_S && r.twiceEpisodes === 0 && !r.open,
  };
  console.log(
    `outage: ${label}: worst outage ${worst} s over ${o.outages} outage(s)${r.open ? ' (STILL OUT at the end)' : ''}; two copies at once: ${r.twiceEpisodes} time(s) (${r.twicePolls} polls); ` +
      `fences ${NAMES.map((n) => `${n} ${fences[n]}`).join(', ')}; re-placements ${NAMES.map((n) => `${n} ${replacements[n]}`).join(', ')}; ` +
      `heartbeat failure episodes ${NAMES.map((n) => `${n} ${heartbeatFailures[n]}`).join(', ')}`,
  );
  return o;
}

export async function runOutageBench(): Promise<void> {
  const fleet = await startFleet('outage', { lostAfterS: LOST_AFTER_S, stopAfterS: STOP_AFTER_S });
  const outcomes: Outcome[] = [];
  const shapeAll = (name: string) => {
    for (const l of fleet.mesh.linksOf(name)) l.shape(SLOW);
  };
  try {
    outcomes.push(
      await condition(fleet, 'cut', 'a. n4 cut off cleanly from both others', async (f) => {
        f.mesh.isolate('n4');
        const t0 = performance.now();
        // Until the copy runs elsewhere and 15 s more (at most lost_after + 40 s).
        let movedAt: number | null = null;
        while (performance.now() - t0 < (LOST_AFTER_S + 40) * 1000) {
          if (movedAt === null && (await runningOn(f, 'outage-cut')).some((c) => c.node !== 'n4')) movedAt = performance.now();
          if (movedAt !== null && performance.now() - movedAt > 15_000) break;
          await sleep(POLL_MS);
        }
      }),
    );
    outcomes.push(
      await condition(fleet, 'slow', 'b. n4 behind a slow lossy link to both others (300 ms RTT, 5 % loss, 64 kbit/s)', async () => {
        shapeAll('n4');
        await sleep(RUN_S * 1000);
      }),
    );
    outcomes.push(
      await condition(fleet, 'other', 'c. another peer (n2) slow and lossy; n4 and n3 healthy', async () => {
        shapeAll('n2');
        await sleep(RUN_S * 1000);
      }),
    );
    outcomes.push(
      await condition(fleet, 'flap', 'd. n4\'s links flapping: cut 5 s, healed 5 s', async (f) => {
        const t0 = performance.now();
        while (performance.now() - t0 < RUN_S * 1000) {
          f.mesh.isolate('n4');
          await sleep(5000);
          f.mesh.heal();
          await sleep(5000);
        }
      }),
    );
    // Healthy nodes in (c) must not fence or re-place at all.
    const other = outcomes[2] as Outcome;
    const healthyActs = ['n3', 'n4'].reduce((sum, n) => sum + (other.fences[n] ?? 0) + (other.replacements[n] ?? 0), 0);
    console.log(`outage: three agents, lost_after ${LOST_AFTER_S} s, stop_after ${STOP_AFTER_S} s; target: out of service ≤ ${TARGET_S} s, never two copies at once`);
    for (const o of outcomes) console.log(`  ${o.condition.padEnd(84)} worst ${String(o.worstOutageS).padStart(5)} s  twice ${o.twiceEpisodes}  ${o.met ? 'met' : 'NOT met'}`);
    console.log(`  (c) fences or re-placements by the healthy nodes n3, n4: ${healthyActs} (must be 0)`);
    const file = saveResult('outage', {
      lostAfterS: LOST_AFTER_S,
      stopAfterS: STOP_AFTER_S,
      runS: RUN_S,
      slowLink: { rttMs: 2 * (SLOW.delayMs ?? 0), loss: SLOW.loss, rateBytesPerS: SLOW.rateBytesPerS },
      target: `out of service ≤ ${TARGET_S} s (lost_after + 5 s), never two copies at once`,
      outcomes,
      otherSlowHealthyActs: healthyActs,
    });
    console.log(`  saved ${file}`);
  } finally {
    await fleet.close();
  }
}
