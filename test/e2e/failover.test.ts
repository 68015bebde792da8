/**
 * Failover for real: three private engines, each with the built `outpost agent --listen` on its
 * own loopback address (127.0.0.2–4), each agent the two others' peer and a placement.yaml with
 * lost_after 40s and stop_after 10s. Every agent reaches each other one through a test link
 * (test/harness/link.ts: a TCP relay per ordered pair that the test can cut silently, as a
 * pulled cable: nothing passes, no reset, no end). A movable singleton placed with `outpost place`:
 * - a node cut off from the two others (every link between them cut, both ways) stops its copy
 *   after stop_after, the two others re-place it after lost_after, and after the partition heals
 *   exactly one copy runs; polled on every engine every 200 ms, it never runs twice;
 * - a partition that leaves the copy on the side of two: nothing stops or moves, the lone node
 *   journals that it is cut off with nothing to fence;
 * - an asymmetric cut (what the copy's node opens to the others is cut, what they open to it
 *   passes): a heartbeat received counts as hearing from its sender, so nothing fences or moves;
 * - a node whose agent and engine die: the others re-place its workload within lost_after and
 *   a few seconds, and the deciding node's journal says why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { readJournal } from '../../core/agent/journal.js';
import type { JournalEntry } from '../../core/agent/journal.js';
import { BIN, outpost } from '../harness/cli.js';
import { docker, eventually } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';
import type { Mesh } from '../harness/link.js';
import { homeEnv, peerThroughLinks, siteNode, startAgent, stopAgent, type SiteNode } from '../harness/site.js';

const LOST_AFTER_S = 40;
const STOP_AFTER_S = 10;

let home: string;
let mesh: Mesh | null = null;
const sites: SiteNode[] = [];
const dead = new Set<string>();
const site = (name: string) => sites.find((s) => s.name === name) as SiteNode;
const stateDirOf = (s: SiteNode) => join(s.home, '.state', 'outpost');

function placementYaml(name: string): string {
  return `node: ${name}\nfailover:\n  lost_after: ${LOST_AFTER_S}s\n  stop_after: ${STOP_AFTER_S}s\n  reconcile: keep_replacement\n`;
}

function workloadFile(name: string, prefer: string): string {
  const file = join(home, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nimage: ${TEST_IMAGE}\ncommand: "trap 'exit 0' TERM; while :; do sleep 0.2; done"\nmovable: true\npreferences:\n  - {expr: "node == ${prefer}", weight: 50}\n`,
  );
  return file;
}

interface Copy {
  node: string;
  id: string;
  running: boolean;
}

/** Every copy of a workload on every live engine (straight from Docker, not through any agent). */
async function copiesOf(workload: string): Promise<Copy[]> {
  const out: Copy[] = [];
  await Promise.all(
    sites
      .filter((s) => !dead.has(s.name))
      .map(async (s) => {
        try {
          const list = await docker(s.engine.dockerHost).listContainers({ all: true, filters: { label: [`outpost.workload=${workload}`] } });
          for (const c of list) out.push({ node: s.name, id: c.Id, running: c.State === 'running' || c.State === 'restarting' });
        } catch {
          // an engine going down
        }
      }),
  );
  return out;
}

/** Polls every engine every 200 ms: the most copies seen running at once, and when. */
function monitor(workload: string) {
  let stopped = false;
  let max = 0;
  const overlaps: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const running = (await copiesOf(workload)).filter((c) => c.running);
      max = Math.max(max, running.length);
      if (running.length > 1) overlaps.push(`${new Date().toISOString()}: ${running.map((c) => `${c.node}:${c.id.slice(0, 12)}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { max, overlaps };
    },
  };
}

function placementEntries(s: SiteNode): JournalEntry[] {
  return readJournal(stateDirOf(s)).entries.filter((e) => e.kind === 'placement');
}

/** Cuts every link between the groups, both ways. */
function partition(groups: string[][]): void {
  mesh?.partition(...groups);
}

function heal(): void {
  mesh?.heal();
}

async function place(file: string, from: SiteNode): Promise<void> {
  const r = await outpost(['place', file], { ...homeEnv(from.home), DOCKER_HOST: from.engine.dockerHost });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

async function removeAll(workload: string): Promise<void> {
  for (const c of await copiesOf(workload)) {
    const s = site(c.node);
    await docker(s.engine.dockerHost).getContainer(c.id).remove({ force: true }).catch(() => undefined);
  }
}

/** Every live agent's state says it has a majority of the three voters. */
async function settled(): Promise<void> {
  await eventually(
    () =>
      sites
        .filter((s) => !dead.has(s.name))
        .every((s) => {
          try {
            const st = JSON.parse(readFileSync(join(stateDirOf(s), 'placement-state.json'), 'utf8')) as { failover: { mode: string; lastSeenMs: Record<string, number> } };
            return st.failover.mode === 'majority' && Object.keys(st.failover.lastSeenMs).length === 3;
          } catch {
            return false;
          }
        }),
    30_000,
    'every agent in contact with a majority of three voters',
  );
}

/** Every live agent has seen the running copy (a copy is known to the others from their next heartbeat, about a second). */
async function knownEverywhere(workload: string): Promise<void> {
  await eventually(
    () =>
      sites
        .filter((s) => !dead.has(s.name))
        .every((s) => {
          try {
            const st = JSON.parse(readFileSync(join(stateDirOf(s), 'placement-state.json'), 'utf8')) as { failover: { known: Record<string, { running: boolean }[]> } };
            return (st.failover.known[`${workload}#0`] ?? []).some((c) => c.running);
          } catch {
            return false;
          }
        }),
    15_000,
    `every agent to know the copy of ${workload}`,
  );
}

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  home = mkdtempSync(join(tmpdir(), 'op-failover-'));
  await Promise.all(
    ['n2', 'n3', 'n4'].map(async (name, i) => {
      const s = await siteNode(home, name, `127.0.0.${i + 2}`);
      sites.push(s);
    }),
  );
  sites.sort((a, b) => a.name.localeCompare(b.name));
  for (const s of sites) {
    mkdirSync(join(s.home, '.config', 'outpost'), { recursive: true });
    writeFileSync(join(s.home, '.config', 'outpost', 'placement.yaml'), placementYaml(s.name));
  }
  await Promise.all(sites.map((s) => startAgent(s)));
  mesh = await peerThroughLinks(sites);
  await settled();
}, 180_000);

afterAll(async () => {
  for (const s of sites) await stopAgent(s, 'SIGKILL');
  await mesh?.close();
  for (const s of sites) await s.engine.dispose().catch(() => undefined);
  if (home) rmSync(home, { recursive: true, force: true });
}, 120_000);

afterEach((ctx: TestContext) => {
  // What each agent journaled, when a case fails: the reasons say what it saw and decided.
  if (ctx.task.result?.state !== 'fail') return;
  for (const s of sites) {
    const lines = placementEntries(s).slice(-40).map((e) => `  ${new Date(e.ts).toISOString()} ${e.reason}`);
    console.log(`--- ${s.name} placement journal ---\n${lines.join('\n')}\n--- ${s.name} log (tail) ---\n${s.log.slice(-3000)}`);
  }
});

describe('failover of a movable singleton across three agents (lost_after 40s, stop_after 10s)', () => {
  it('a node cut off from both others stops its copy after stop_after; the others re-place it after lost_after; healed, one copy runs; never two at once', async () => {
    const name = 'fo-cut';
    await place(workloadFile(name, 'n4'), site('n2'));
    const first = await eventually(async () => (await copiesOf(name)).find((c) => c.running), 20_000, `${name} running`);
    expect(first.node).toBe('n4');
    await knownEverywhere(name);
    const watch = monitor(name);
    try {
      const t0 = Date.now();
      partition([['n4'], ['n2', 'n3']]);
      await eventually(async () => !(await copiesOf(name)).some((c) => c.node === 'n4' && c.running), (STOP_AFTER_S + 15) * 1000, 'n4 to stop its copy');
      const stoppedAfter = (Date.now() - t0) / 1000;
      console.log(`failover: the cut-off node stopped its copy ${stoppedAfter.toFixed(1)} s after the partition began (stop_after ${STOP_AFTER_S} s)`);
      expect(stoppedAfter).toBeGreaterThanOrEqual(STOP_AFTER_S);
      expect(stoppedAfter).toBeLessThan(LOST_AFTER_S - 10);
      expect(placementEntries(site('n4')).some((e) => /cut off from a majority for .*stopping fo-cut/.test(e.reason))).toBe(true);
      const moved = await eventually(async () => (await copiesOf(name)).find((c) => c.running && c.node !== 'n4'), (LOST_AFTER_S + 20) * 1000, `${name} re-placed`);
      const movedAfter = (Date.now() - t0) / 1000;
      console.log(`failover: re-placed on ${moved.node} ${movedAfter.toFixed(1)} s after the partition began (lost_after ${LOST_AFTER_S} s)`);
      expect(movedAfter).toBeGreaterThanOrEqual(LOST_AFTER_S);
      const decided = [site('n2'), site('n3')].flatMap(placementEntries);
      expect(decided.some((e) => /^n4 unreachable for .* voters agree: re-placing fo-cut on another node \(generation 1\)/.test(e.reason))).toBe(true);
      expect(decided.some((e) => new RegExp(`re-placed fo-cut replica 0 on ${moved.node}`).test(e.reason))).toBe(true);
      heal();
      await eventually(() => placementEntries(site('n4')).some((e) => /stays stopped: generation 1 runs on/.test(e.reason)), 20_000, 'n4 to see the replacement');
      await new Promise((r) => setTimeout(r, 3000));
      const after = (await copiesOf(name)).filter((c) => c.running);
      expect(after.map((c) => c.id)).toEqual([moved.id]);
    } finally {
      heal();
      const { max, overlaps } = await watch.stop();
      expect(overlaps).toEqual([]);
      expect(max).toBe(1);
      await removeAll(name);
    }
  }, 150_000);

  it('a partition that leaves the copy on the side of two: it keeps running where it is, the lone node has nothing to fence, healed still one copy', async () => {
    const name = 'fo-two';
    await settled();
    await place(workloadFile(name, 'n3'), site('n2'));
    const first = await eventually(async () => (await copiesOf(name)).find((c) => c.running), 20_000, `${name} running`);
    expect(first.node).toBe('n3');
    await knownEverywhere(name);
    const watch = monitor(name);
    try {
      partition([['n2'], ['n3', 'n4']]);
      await new Promise((r) => setTimeout(r, (LOST_AFTER_S + 6) * 1000));
      const now = await copiesOf(name);
      expect(now.filter((c) => c.running).map((c) => c.id)).toEqual([first.id]);
      expect(now).toHaveLength(1);
      const lone = placementEntries(site('n2'));
      expect(lone.some((e) => /^cut off from a majority: 2 of 3 voters unreachable \(n3, n4\)/.test(e.reason))).toBe(true);
      expect(lone.some((e) => /stopping fo-two/.test(e.reason))).toBe(false);
      expect([site('n3'), site('n4')].flatMap(placementEntries).some((e) => /^n2 lost: unreachable for/.test(e.reason))).toBe(true);
      heal();
      await settled();
      const after = (await copiesOf(name)).filter((c) => c.running);
      expect(after.map((c) => c.id)).toEqual([first.id]);
    } finally {
      heal();
      const { max, overlaps } = await watch.stop();
      expect(overlaps).toEqual([]);
      expect(max).toBe(1);
      await removeAll(name);
    }
  }, 150_000);

  it("a one-way cut (what the copy's node sends the others is held, what they send it passes): no round trip completes, so it is a cut both sides see: it fences after stop_after, the others re-place after lost_after; never two at once", async () => {
    const name = 'fo-asym';
    await settled();
    await place(workloadFile(name, 'n4'), site('n2'));
    const first = await eventually(async () => (await copiesOf(name)).find((c) => c.running), 20_000, `${name} running`);
    expect(first.node).toBe('n4');
    await knownEverywhere(name);
    const watch = monitor(name);
    try {
      const t0 = Date.now();
      mesh?.link('n4', 'n2').cut();
      mesh?.link('n4', 'n3').cut();
      await eventually(async () => !(await copiesOf(name)).some((c) => c.node === 'n4' && c.running), (STOP_AFTER_S + 15) * 1000, 'n4 to stop its copy');
      const stoppedAfter = (Date.now() - t0) / 1000;
      console.log(`failover: one-way cut: n4 stopped its copy ${stoppedAfter.toFixed(1)} s after the cut (stop_after ${STOP_AFTER_S} s)`);
      expect(stoppedAfter).toBeGreaterThanOrEqual(STOP_AFTER_S);
      // n4 still hears the others' beats, but none of them acknowledges one of its own: no contact.
      expect(placementEntries(site('n4')).some((e) => e.ts >= t0 && /cut off from a majority for .*stopping fo-asym/.test(e.reason))).toBe(true);
      const moved = await eventually(async () => (await copiesOf(name)).find((c) => c.running && c.node !== 'n4'), (LOST_AFTER_S + 20) * 1000, `${name} re-placed`);
      console.log(`failover: one-way cut: re-placed on ${moved.node} ${((Date.now() - t0) / 1000).toFixed(1)} s after the cut (lost_after ${LOST_AFTER_S} s)`);
      heal();
      await eventually(() => placementEntries(site('n4')).some((e) => e.ts >= t0 && /fenced copy .* of fo-asym stays stopped: generation 1 runs on/.test(e.reason)), 30_000, 'n4 to see the replacement');
      const after = (await copiesOf(name)).filter((c) => c.running);
      expect(after.map((c) => c.id)).toEqual([moved.id]);
    } finally {
      heal();
      const { max, overlaps } = await watch.stop();
      expect(overlaps).toEqual([]);
      expect(max).toBe(1);
      await removeAll(name);
    }
  }, 150_000);

  it("a rule's `move` sends its node's placed container to another node through the placement engine; the journal says so; never two at once", async () => {
    const name = 'fo-move';
    await settled();
    const n3 = site('n3');
    writeFileSync(join(n3.home, '.config', 'outpost', 'rules.yaml'), `rules:\n  - {name: away, match: {label: ["outpost.workload=${name}"]}, when: {log: {match: "^MOVE-ME"}}, then: move}\n`);
    n3.agent?.kill('SIGHUP'); // the agent reads its rules again
    const file = join(home, `${name}.yaml`);
    writeFileSync(file, `name: ${name}\nimage: ${TEST_IMAGE}\ncommand: "trap 'exit 0' TERM; sleep 3; echo MOVE-ME; while :; do sleep 0.2; done"\nmovable: true\npreferences:\n  - {expr: "node == n3", weight: 50}\n`);
    const watch = monitor(name);
    try {
      await place(file, site('n2'));
      const first = await eventually(async () => (await copiesOf(name)).find((c) => c.running), 20_000, `${name} running`);
      expect(first.node).toBe('n3');
      const moved = await eventually(async () => (await copiesOf(name)).find((c) => c.running && c.node !== 'n3'), 30_000, `${name} moved off n3`);
      expect(['n2', 'n4']).toContain(moved.node);
      await eventually(async () => (await copiesOf(name)).filter((c) => c.node === 'n3').length === 0, 15_000, 'the old copy removed');
      const entry = await eventually(() => placementEntries(n3).find((e) => /^moved fo-move replica 0 from n3 to n[24] /.test(e.reason)), 10_000, 'the move journaled');
      expect(entry.reason).toMatch(/asked by a rule/);
    } finally {
      writeFileSync(join(n3.home, '.config', 'outpost', 'rules.yaml'), 'rules: []\n');
      n3.agent?.kill('SIGHUP');
      const { max, overlaps } = await watch.stop();
      expect(overlaps).toEqual([]);
      expect(max).toBe(1);
      await removeAll(name);
    }
  }, 90_000);

  it('a node whose agent and engine die: its workload runs on another node within lost_after and a few seconds, and the deciding node journals why', async () => {
    const name = 'fo-kill';
    await settled();
    await place(workloadFile(name, 'n3'), site('n2'));
    const first = await eventually(async () => (await copiesOf(name)).find((c) => c.running), 20_000, `${name} running`);
    expect(first.node).toBe('n3');
    await knownEverywhere(name);
    const t0 = Date.now();
    await stopAgent(site('n3'), 'SIGKILL');
    await site('n3').engine.crash();
    dead.add('n3');
    const moved = await eventually(async () => (await copiesOf(name)).find((c) => c.running), (LOST_AFTER_S + 15) * 1000, `${name} re-placed`);
    const after = (Date.now() - t0) / 1000;
    console.log(`failover: ${name} runs on ${moved.node} ${after.toFixed(1)} s after n3 died (lost_after ${LOST_AFTER_S} s)`);
    expect(after).toBeGreaterThanOrEqual(LOST_AFTER_S);
    expect(after).toBeLessThan(LOST_AFTER_S + 10);
    // n2 decides (the lowest-named voter in contact with a majority), and says why.
    const why = placementEntries(site('n2'));
    expect(why.some((e) => /^n3 lost: unreachable for .* 2 of 3 voters agree \(n2, n4\)/.test(e.reason))).toBe(true);
    expect(why.some((e) => /^n3 unreachable for .*lost_after 40s\) and 2 of 3 voters agree: re-placing fo-kill on another node \(generation 1\)/.test(e.reason))).toBe(true);
    // `outpost journal` prints it.
    const printed = await outpost(['journal', '-n', '200'], { ...homeEnv(site('n2').home), DOCKER_HOST: site('n2').engine.dockerHost });
    expect(printed.stdout).toMatch(/placement re-placed fo-kill replica 0 on n[24]/);
  }, 120_000);
});
