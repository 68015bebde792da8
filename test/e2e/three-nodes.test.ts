/**
 * Three nodes on one machine, as a site is: three private engines, each
 * with the built `outpost agent --listen` on its own loopback address
 * (127.0.0.2, .3, .4), added to this machine with their join codes. The
 * fleet lists every node; a killed agent is marked unreachable and comes
 * back when it is restarted; an agent keeps enforcing its rules while every
 * peer and client is away; and a TUI watching the site lives through 20
 * kills of a peer's engine, showing the peer down each time and back after.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import type { Fleet } from '../../core/fleet.js';
import { buildFleet } from '../../core/peers/fleet-from-config.js';
import { BIN, outpost } from '../harness/cli.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';
import { homeEnv, siteNode, startAgent, stopAgent, type SiteNode } from '../harness/site.js';

const P = 'site-';

type Site = SiteNode;

let home: string;
const sites: Site[] = [];
const cfgEnv = () => homeEnv(home);

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  home = mkdtempSync(join(tmpdir(), 'op-site-'));
  await makeContainer(docker(), { name: `${P}here`, cmd: 'sleep 3600' });
  for (const [i, name] of ['n2', 'n3', 'n4'].entries()) {
    const site = await siteNode(home, name, `127.0.0.${i + 2}`);
    sites.push(site);
    const engine = site.engine;
    await makeContainer(docker(engine.dockerHost), { name: `${P}${name}-web`, cmd: "trap 'exit 0' TERM; while :; do echo serving; sleep 1; done" });
    const first = await startAgent(site);
    // The first start's code is for another agent (role peer); a technician who restarts and
    // pauses rules there asks that node for an operator's code.
    expect(first).toMatch(/^outpost1:/);
    const made = await outpost(['tokens', 'join-code', '--role', 'operator'], homeEnv(site.home));
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/an operator join code for https:\/\/127\.0\.0\.\d:\d+, good once until/);
    const code = made.stdout.trim();
    const add = await outpost(['peers', 'add', code, '--name', name], cfgEnv());
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
  }
}, 300_000);

afterAll(async () => {
  for (const s of sites) await stopAgent(s, 'SIGKILL');
  for (const s of sites) await s.engine.dispose();
  await removeByPrefix(docker(), P);
  if (home) rmSync(home, { recursive: true, force: true });
}, 120_000);

async function fleet(): Promise<Fleet> {
  const local = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
  const f = await buildFleet(cfgEnv(), local);
  await Promise.all(f.nodes().map((n) => n.connect().catch(() => undefined)));
  return f;
}

const site = (name: string) => sites.find((s) => s.name === name) as Site;

describe('three nodes on one machine (127.0.0.2–4), each an agent on its own engine', () => {
  it('ps --all-nodes lists every node\'s containers; peers list --check says each is online, with its latency and fingerprint', async () => {
    const ps = await outpost(['ps', '--all-nodes', '--json'], cfgEnv());
    expect(ps.stderr).toBe('');
    const rows = JSON.parse(ps.stdout) as { node: string; name: string }[];
    for (const n of ['n2', 'n3', 'n4']) expect(rows.find((r) => r.name === `${P}${n}-web`)?.node).toBe(n);
    expect(rows.find((r) => r.name === `${P}here`)?.node).toBe('local');
    const list = await outpost(['peers', 'list', '--check', '--json'], cfgEnv());
    const peers = JSON.parse(list.stdout) as { name: string; url: string; state: string; latencyMs: number; fingerprint: string }[];
    expect(peers.map((p) => [p.name, p.state])).toEqual([
      ['n2', 'online'],
      ['n3', 'online'],
      ['n4', 'online'],
    ]);
    for (const p of peers) {
      expect(p.url).toBe(`https://${site(p.name).ip}:${site(p.name).port}`);
      expect(p.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(p.latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('a killed agent is marked unreachable with its last containers kept; restarted, it is back with its model', async () => {
    const f = await fleet();
    try {
      const n3 = f.get('n3');
      await eventually(() => n3.status().state === 'online' && n3.containers().some((c) => c.name === `${P}n3-web`), 15_000, 'n3 online');
      const t0 = Date.now();
      await stopAgent(site('n3'), 'SIGKILL');
      await eventually(() => n3.status().state === 'offline', 15_000, 'n3 marked unreachable');
      console.log(`three nodes: n3 marked unreachable ${Date.now() - t0} ms after its agent was killed`);
      expect(n3.containers().some((c) => c.name === `${P}n3-web`)).toBe(true);
      expect(f.get('n2').status().state).toBe('online');
      // Meanwhile its engine changes: the model after the restart says so.
      await makeContainer(docker(site('n3').engine.dockerHost), { name: `${P}n3-new`, cmd: 'sleep 3600' });
      const t1 = Date.now();
      await startAgent(site('n3'));
      await eventually(() => n3.status().state === 'online' && n3.containers().some((c) => c.name === `${P}n3-new`), 20_000, 'n3 back, resynced');
      console.log(`three nodes: n3 back online and resynced ${Date.now() - t1} ms after its agent was restarted`);
    } finally {
      await f.close();
    }
  });

  it('an agent keeps enforcing its rules while every peer and every client is away', async () => {
    // n3 and n4 down, no client connected: n2's agent restarts its crashing container by its label.
    await stopAgent(site('n3'), 'SIGKILL');
    await stopAgent(site('n4'), 'SIGKILL');
    try {
      const d2 = docker(site('n2').engine.dockerHost);
      const crash = await makeContainer(d2, { name: `${P}n2-crash`, cmd: 'sleep 1; exit 1', labels: { 'outpost.restart-on': 'exit-nonzero' } });
      const firstStart = (await crash.inspect()).State.StartedAt;
      await eventually(async () => {
        const s = (await crash.inspect()).State;
        return s.StartedAt !== firstStart;
      }, 30_000, 'n2\'s agent to restart its crashed container with nobody connected');
      // What it did is in its journal, read from here through its agent (`--node`), named for this fleet's node.
      const journal = await outpost(['journal', '--node', 'n2', '--json', '-c', `${P}n2-crash`], cfgEnv());
      expect(journal.code).toBe(0);
      const acts = journal.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; node: string; container: string });
      expect(acts.some((e) => e.kind === 'act' && e.container === `${P}n2-crash` && e.node === 'n2')).toBe(true);
      const status = await outpost(['agent', 'status', '--node', 'n2'], cfgEnv());
      expect(status.code).toBe(0);
      // The peer's state is on the peer: this machine's folder is not shown as its.
      expect(status.stdout).toMatch(/^state: \(on the peer\)$/m);
      expect(JSON.parse((await outpost(['agent', 'status', '--node', 'n2', '--json'], cfgEnv())).stdout).stateDir).toBeNull();
      const explain = await outpost(['rules', 'explain', '--node', 'n2', `${P}n2-crash`], cfgEnv());
      expect(explain.code).toBe(0);
      expect(explain.stdout).toContain(`label:${P}n2-crash`);
      const paused = await outpost(['rules', 'pause', '--node', 'n2', `${P}n2-crash`, '--for', '1m'], cfgEnv());
      expect(paused.code).toBe(0);
      expect((await outpost(['rules', 'resume', '--node', 'n2', `${P}n2-crash`], cfgEnv())).code).toBe(0);
      // Wrong uses: named, exit 2.
      const nope = await outpost(['rules', 'pause', '--node', 'nope'], cfgEnv());
      expect(nope.code).toBe(2);
      expect(nope.stderr).toMatch(/--node: no node named `nope`/);
      const both = await outpost(['journal', '--node', 'n2', '--state-dir', '/tmp'], cfgEnv());
      expect(both.code).toBe(2);
      expect(both.stderr).toMatch(/--node: --rules and --state-dir name this machine's files/);
    } finally {
      await startAgent(site('n3'));
      await startAgent(site('n4'));
    }
  });

  it('a TUI watching the site lives through 20 kills of a peer\'s engine: the peer shown down each time, back after', async () => {
    const tmux = new Tmux();
    try {
      tmux.start(`${process.execPath} ${join(process.cwd(), BIN)}`, { cols: 150, rows: 40, env: { DOCKER_HOST: dockerHost(), ...cfgEnv(), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' } });
      await tmux.waitFor((s) => ['n2', 'n3', 'n4'].every((n) => s.includes(`${P}${n}-web`)), 'every node\'s containers', 30_000);
      const n4 = site('n4');
      for (let cycle = 1; cycle <= 20; cycle++) {
        await n4.engine.crash();
        // The agent answers but its engine does not: the header says the peer is down.
        const down = await tmux.waitFor((s) => /n4 unreachable \(last seen \d+s ago\), retrying: /.test(s), `n4 shown down (cycle ${cycle})`, 20_000);
        if (cycle === 1) expect(down).toMatch(/n4 unreachable \(last seen \d+s ago\), retrying: its agent answers, but not its engine/);
        await n4.engine.restart();
        await tmux.waitFor((s) => !/n4 unreachable/.test(s) && !/last seen/.test(s.split('\n').find((l) => l.includes(`${P}n4-web`)) ?? 'last seen'), `n4 back (cycle ${cycle})`, 30_000);
      }
      // Still answering keys after it all.
      tmux.type('?');
      await tmux.waitFor((s) => /quit/.test(s), 'the help screen');
    } finally {
      tmux.kill();
    }
  }, 900_000);
});
