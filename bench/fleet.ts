/**
 * Three real agents for the failover, outage and protocol benchmarks: private engines, the built
 * `outpost agent --listen` on 127.0.0.2–4, placement.yaml with failover on, every agent the two
 * others' peer through a test link (test/harness/link.ts) that the benchmark cuts, shapes and
 * counts. Copies are read straight from each engine's socket, never through an agent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runCommand, type Run } from '../test/harness/cli.js';
import { docker } from '../test/harness/fixtures.js';
import { TEST_IMAGE } from '../test/harness/image.js';
import type { Mesh } from '../test/harness/link.js';
import { homeEnv, peerThroughLinks, siteNode, startAgent, stopAgent, type SiteNode } from '../test/harness/site.js';
import { sleep } from './lib.js';

export const NAMES = ['n2', 'n3', 'n4'];

/** The built CLI with exactly this environment (the test harness's `outpost` asks vitest for the engine). */
export function outpost(args: string[], env: Record<string, string>): Promise<Run> {
  return runCommand([process.execPath, BIN, ...args], { PATH: process.env.PATH ?? '', ...env });
}

export async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface Fleet {
  home: string;
  sites: SiteNode[];
  mesh: Mesh;
  /** Nodes whose engine is down (not polled). */
  down: Set<string>;
  site(name: string): SiteNode;
  close(): Promise<void>;
}

/** Starts the three nodes, their agents (failover settings as given) and the links; resolves once every agent counts a majority. */
export async function startFleet(label: string, failover: { lostAfterS: number; stopAfterS: number }): Promise<Fleet> {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const home = mkdtempSync(join(tmpdir(), `op-bench-${label}-`));
  const sites: SiteNode[] = [];
  let mesh: Mesh | null = null;
  const close = async () => {
    for (const s of sites) await stopAgent(s, 'SIGKILL').catch(() => undefined);
    await mesh?.close();
    for (const s of sites) await s.engine.dispose().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    for (const [i, name] of NAMES.entries()) {
      const s = await siteNode(home, name, `127.0.0.${i + 2}`);
      mkdirSync(join(s.home, '.config', 'outpost'), { recursive: true });
      writeFileSync(join(s.home, '.config', 'outpost', 'placement.yaml'), `node: ${name}\nfailover:\n  lost_after: ${failover.lostAfterS}s\n  stop_after: ${failover.stopAfterS}s\n`);
      sites.push(s);
    }
    await Promise.all(sites.map((s) => startAgent(s)));
    mesh = await peerThroughLinks(sites);
    const fleet: Fleet = { home, sites, mesh, down: new Set(), site: (n) => sites.find((s) => s.name === n) as SiteNode, close };
    await settled(fleet);
    return fleet;
  } catch (err) {
    await close();
    throw err;
  }
}

export function stateOf(s: SiteNode): { mode: string; lastSeenMs: Record<string, number>; known: Record<string, { running: boolean }[]> } | null {
  try {
    return (JSON.parse(readFileSync(join(s.home, '.state', 'outpost', 'placement-state.json'), 'utf8')) as { failover: never }).failover;
  } catch {
    return null;
  }
}

export async function settled(f: Fleet, timeoutMs = 60_000): Promise<void> {
  await until(async () => f.sites.filter((s) => !f.down.has(s.name)).every((s) => stateOf(s)?.mode === 'majority' && Object.keys(stateOf(s)?.lastSeenMs ?? {}).length === 3), timeoutMs, 'every agent in contact with a majority');
}

/** Running copies of a workload on every live engine. */
export async function runningOn(f: Fleet, workload: string): Promise<{ node: string; id: string }[]> {
  const out: { node: string; id: string }[] = [];
  await Promise.all(
    f.sites
      .filter((s) => !f.down.has(s.name))
      .map(async (s) => {
        try {
          const list = await docker(s.engine.dockerHost).listContainers({ filters: { label: [`outpost.workload=${workload}`] } });
          for (const c of list) if (c.State === 'running' || c.State === 'restarting') out.push({ node: s.name, id: c.Id });
        } catch {
          // an engine going down
        }
      }),
  );
  return out;
}

export async function removeAll(f: Fleet, workload: string): Promise<void> {
  for (const s of f.sites.filter((x) => !f.down.has(x.name))) {
    const d = docker(s.engine.dockerHost);
    const list = await d.listContainers({ all: true, filters: { label: [`outpost.workload=${workload}`] } }).catch(() => []);
    for (const c of list) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}

/** Writes a workload spec: a movable busybox loop, `replicas` copies, preferring `prefer` when given. */
export function workloadSpec(f: Fleet, workload: string, o: { prefer?: string; replicas?: number } = {}): string {
  const file = join(f.home, `${workload}.yaml`);
  writeFileSync(
    file,
    `name: ${workload}\nimage: ${TEST_IMAGE}\ncommand: "trap 'exit 0' TERM; while :; do sleep 0.2; done"\nmovable: true\n` +
      (o.replicas ? `replicas: ${o.replicas}\n` : '') +
      (o.prefer ? `preferences:\n  - {expr: "node == ${o.prefer}", weight: 50}\n` : ''),
  );
  return file;
}

/** `outpost place FILE` from `from`'s home and engine (its peers file: through the links). */
export async function place(f: Fleet, file: string, from: SiteNode): Promise<void> {
  const r = await outpost(['place', file], { ...homeEnv(from.home), DOCKER_HOST: from.engine.dockerHost });
  if (r.code !== 0) throw new Error(`outpost place failed: ${r.stderr}`);
}

/** Places the singleton on `on` (a preference) and waits until every agent knows its copy. */
export async function placeOn(f: Fleet, workload: string, on: string): Promise<string> {
  const file = workloadSpec(f, workload, { prefer: on });
  await place(f, file, f.sites.find((s) => s.name !== on) as SiteNode);
  const first = await until(async () => (await runningOn(f, workload))[0], 20_000, `${workload} running`);
  if (first.node !== on) throw new Error(`${workload} was placed on ${first.node}, not ${on}`);
  await until(async () => f.sites.filter((s) => !f.down.has(s.name)).every((s) => (stateOf(s)?.known[`${workload}#0`] ?? []).some((c) => c.running)), 15_000, `every agent to know ${workload}`);
  return first.id;
}
