/**
 * What idle agents say to each other on the wire (the issue's target: ≤ 100 B/s per peer in each
 * direction), and what idling costs them. Three real agents (bench/fleet.ts: private engines,
 * `outpost agent --listen` on 127.0.0.2–4, failover on with lost_after 40s / stop_after 10s),
 * every one the two others' peer through a test link (test/harness/link.ts) that counts the TCP
 * payload (TLS records included; IP and TCP headers not) in each direction. One movable workload
 * with 10 replicas placed with `outpost place`, spread over the three nodes; once every agent
 * knows every copy and a settling time has passed, the counters are reset and the fleet is left
 * alone for a window (BENCH_PROTOCOL_WINDOW_MS, default 60 s).
 *
 * Reported: bytes per second from each node to each other (both links counted: a's requests to
 * b and a's answers to b's requests), split by link; the TCP connections open on each link at
 * the end; each agent's CPU (user + system, from /proc/PID/stat) over the window and its RSS
 * (VmRSS) at the end. Saved to bench/results/protocol.json.
 */
import { readFileSync } from 'node:fs';
import { cpuSeconds, round, saveResult, sleep } from './lib.js';
import { NAMES, place, runningOn, stateOf, startFleet, until, workloadSpec } from './fleet.js';

const WINDOW_MS = Number(process.env.BENCH_PROTOCOL_WINDOW_MS ?? 60_000);
const SETTLE_MS = 10_000;
const COPIES = 10;
const TARGET = 100;

function rssMiB(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return round(kb / 1024, 1);
  } catch {
    return 0;
  }
}

export async function runProtocolBench(): Promise<void> {
  const fleet = await startFleet('protocol', { lostAfterS: 40, stopAfterS: 10 });
  const { mesh } = fleet;
  try {
    const workload = 'idle-web';
    await place(fleet, workloadSpec(fleet, workload, { replicas: COPIES }), fleet.site('n2'));
    const copies = await until(async () => {
      const r = await runningOn(fleet, workload);
      return r.length === COPIES ? r : undefined;
    }, 60_000, `${COPIES} copies running`);
    const spread = Object.fromEntries(NAMES.map((n) => [n, copies.filter((c) => c.node === n).length]));
    await until(
      async () =>
        fleet.sites.every((s) => {
          const known = stateOf(s)?.known ?? {};
          return Array.from({ length: COPIES }, (_, i) => known[`${workload}#${i}`] ?? []).every((k) => k.some((c) => c.running));
        }),
      30_000,
      'every agent to know every copy',
    );
    await sleep(SETTLE_MS);

    mesh.resetCounters();
    const pids = Object.fromEntries(fleet.sites.map((s) => [s.name, s.agent?.pid as number]));
    const cpu0 = Object.fromEntries(NAMES.map((n) => [n, cpuSeconds(pids[n] as number)]));
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const secs = (performance.now() - t0) / 1000;
    const cpu = Object.fromEntries(NAMES.map((n) => [n, round(((cpuSeconds(pids[n] as number) - (cpu0[n] as number)) / secs) * 100, 2)]));
    const rss = Object.fromEntries(NAMES.map((n) => [n, rssMiB(pids[n] as number)]));

    const pairs: { from: string; to: string; bytesPerS: number; requestsPerS: number; answersPerS: number; connections: number }[] = [];
    for (const a of NAMES) {
      for (const b of NAMES) {
        if (a === b) continue;
        pairs.push({
          from: a,
          to: b,
          bytesPerS: round(mesh.bytes(a, b) / secs, 1),
          // a's requests to b (on the link a→b) and a's answers to b's requests (on b→a).
          requestsPerS: round(mesh.link(a, b).toTarget / secs, 1),
          answersPerS: round(mesh.link(b, a).fromTarget / secs, 1),
          connections: mesh.link(a, b).connections,
        });
      }
    }
    const worst = Math.max(...pairs.map((p) => p.bytesPerS));
    const met = worst <= TARGET;

    console.log(`protocol: 3 idle agents, ${COPIES} placed copies (${NAMES.map((n) => `${n} ${spread[n]}`).join(', ')}), failover on, over ${round(secs, 1)} s`);
    console.log('  from → to   B/s     (its requests + its answers)   TCP connections a→b open at the end');
    for (const p of pairs) {
      console.log(`  ${p.from} → ${p.to}    ${String(p.bytesPerS).padStart(7)}  (${String(p.requestsPerS).padStart(7)} + ${String(p.answersPerS).padStart(7)})   ${p.connections}`);
    }
    console.log(`  worst direction: ${worst} B/s (target ≤ ${TARGET} B/s per peer in each direction: ${met ? 'met' : 'NOT met'})`);
    console.log('  agent   CPU %   RSS MiB');
    for (const n of NAMES) console.log(`  ${n}      ${String(cpu[n]).padStart(5)}   ${String(rss[n]).padStart(6)}`);
    const file = saveResult('protocol', {
      nodes: NAMES.length,
      copies: COPIES,
      spread,
      windowS: round(secs, 1),
      pairs,
      worstBytesPerS: worst,
      target: `≤ ${TARGET} B/s per peer in each direction`,
      met,
      agentCpuPercent: cpu,
      agentRssMiB: rss,
      counted: 'TCP payload at the test links (TLS records included; IP and TCP headers not)',
    });
    console.log(`  saved ${file}`);
  } finally {
    await fleet.close();
  }
}
