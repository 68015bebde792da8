/**
 * Peers (issue: peers): a node through its agent's API against the same node
 * read from its engine directly, in one run on one machine. The agent is the
 * built `outpost agent --listen 127.0.0.1:PORT` in a process of its own, on a
 * private engine, with real TLS; the client is RemoteNode (pinned to the
 * certificate the agent printed at its first start), as the TUI uses it.
 * Between the two, where bytes are counted or the link is cut, runs a TCP
 * relay in this process.
 *
 * 1. idle: 50 running containers that print nothing and do not change; the
 *    agent's CPU and the bytes on the wire while a client watches it as the
 *    TUI does (FleetView, the rules port, the log tail), then the real TUI in
 *    a pty; which requests and streams the bytes are, and each one's CPU.
 * 2. events: an engine event (pause/unpause done on the engine) → the change
 *    in the RemoteNode's model, against a LocalNode's own.
 * 3. logs: lines/s of a 500,000-line log read through the agent against the
 *    engine directly, interleaved.
 * 4. unreachable: the agent killed (and restarted on its state dir and port),
 *    and the link cut (the relay holds the sockets, passes nothing): time to
 *    mark the peer unreachable and to see it back with its model resynced.
 * 5. list: 500 containers listed through the agent over a kept-alive pinned
 *    TLS connection, against the engine directly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { parseHostUrl } from '../core/docker/endpoint.js';
import { LocalNode } from '../core/docker/local-node.js';
import { Fleet } from '../core/fleet.js';
import type { ContainerEvent, Disposer, ModelChange } from '../core/model/types.js';
import type { Node } from '../core/node.js';
import { ApiClient } from '../core/remote/client.js';
import { RemoteNode } from '../core/remote/remote-node.js';
import { FleetView } from '../tui/app/fleet-view.js';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage, TEST_IMAGE } from '../test/harness/image.js';
import { cpuOfAll, cpuSeconds, freePort, median, percentile, pidsMatching, round, runContainer, saveResult, sleep } from './lib.js';
import { PtyRun } from './pty.js';

const IDLE_CONTAINERS = 50;
const LIST_SIZE = 500;
const LIST_RUNS = 300;
const LOG_LINES = 500_000;
const LOG_RUNS = 5;
const EVENT_ACTIONS = 200;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 30_000);
/** How long the agent stays down after it was seen unreachable, one repetition each. */
const OUTAGES_S = [1, 3, 5, 8, 12];
const CUTS = 3;
/** The TUI's own intervals (tui/app/prefs.ts, use-rules.ts, use-log-tail.ts). */
const TUI = { statsMs: 2000, hostMs: 2000, agentCheckMs: 10_000, journal: 2000, logTail: 50 };

const wall = () => performance.timeOrigin + performance.now();

/** Polls `check` every 10 ms until it holds: the ms it took, or throws at the deadline naming `what`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`peers: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - t0;
}

/**
 * Resolves with the wall time (ms) at which `check` first held, tested on every status
 * change and model change of `node` (so the time is the notification's, not a poll's);
 * null at the deadline.
 */
function whenNode(node: Node, check: () => boolean, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const offs: Disposer[] = [];
    let done = false;
    const finish = (at: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => offs.forEach((o) => o()));
      resolve(at);
    };
    const test = () => {
      if (!done && check()) finish(wall());
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    offs.push(node.onStatus(test), node.watch(test));
    test();
    if (done) offs.forEach((o) => o());
  });
}

/** `GET /v1/containers/:ref/logs`: a request's route, its container reference and query left out. */
function routeOf(method: string, path: string): string {
  return `${method} ${(path.split('?')[0] ?? '').replace(/^\/v1\/containers\/[^/]+/, '/v1/containers/:ref')}`;
}

/**
 * A TCP relay between the client and the agent: counts the bytes both ways (per route,
 * when told which request each client socket carries now), and can cut the link as a
 * pulled cable does: every socket stays open and nothing passes (what is sent waits, as
 * TCP retransmits it) until the link is back.
 */
class Relay {
  port = 0;
  bytes = 0;
  /** Reads off either socket (a rough count of how the bytes were cut up). */
  chunks = 0;
  readonly byRoute = new Map<string, number>();
  readonly #routeOfPort = new Map<number, string>();
  #cut = false;
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream: Socket; held: [Socket, Buffer][] }>();

  constructor(readonly target: number) {
    this.#server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      const pair = { client, upstream, held: [] as [Socket, Buffer][] };
      this.#pairs.add(pair);
      const clientPort = client.remotePort ?? 0;
      const pass = (from: Socket, to: Socket) =>
        from.on('data', (d: Buffer) => {
          this.bytes += d.length;
          this.chunks++;
          const route = this.#routeOfPort.get(clientPort) ?? '(TLS handshakes)';
          this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + d.length);
          if (this.#cut) {
            pair.held.push([to, d]);
            from.pause();
          } else to.write(d);
        });
      pass(client, upstream);
      pass(upstream, client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.#pairs.delete(pair);
        this.#routeOfPort.delete(clientPort);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** The client socket on local port `port` now carries a request of `route`. */
  carries(port: number, route: string): void {
    this.#routeOfPort.set(port, route);
  }

  cut(): void {
    this.#cut = true;
  }

  /** The link is back: what waited goes on, and the sockets read again. */
  restore(): void {
    this.#cut = false;
    for (const p of this.#pairs) {
      for (const [to, d] of p.held.splice(0)) to.write(d);
      p.client.resume();
      p.upstream.resume();
    }
  }

  close(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/** The built agent in its own process, on its own state directory. */
class AgentProcess {
  child: ChildProcess | null = null;
  fingerprint = '';
  token = '';
  #out = '';
  constructor(
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  get pid(): number {
    return this.child?.pid as number;
  }

  /** Starts it; resolves when it listens (on the first start, once it printed its fingerprint and admin token). */
  start(): Promise<void> {
    const first = this.fingerprint === '';
    // BENCH_PROF=DIR writes a CPU profile of each agent run there (to see where its time goes).
    const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, 'dist/outpost.mjs', 'agent', '--listen', `127.0.0.1:${this.port}`], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.#out = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peers: the agent did not start within 30 s; its output:\n${this.#out}`)), 30_000);
      const look = (d: Buffer) => {
        this.#out = (this.#out + d.toString()).slice(-20_000);
        if (!/api: listening on https:\/\//.test(this.#out)) return;
        if (first) {
          const fp = /certificate fingerprint \(SHA-256\): (\S+)/.exec(this.#out)?.[1];
          const token = /admin token: (\S+)/.exec(this.#out)?.[1];
          if (!fp || !token) return;
          this.fingerprint = fp;
          this.token = token;
        }
        clearTimeout(timer);
        resolve();
      };
      child.stdout?.on('data', look);
      child.stderr?.on('data', look);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`peers: the agent exited (${code ?? signal}); its output:\n${this.#out}`));
      });
    });
  }

  /** Ends it with `signal` (SIGKILL: a crash); SIGKILL after 5 s of SIGTERM. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/** What the TUI keeps open against a peer it shows, without drawing it. */
interface Watcher {
  close(): Promise<void>;
}

/**
 * A client that asks the agent what the TUI asks while it shows the peer on its main
 * view (logs tab, the default): the model, events and engine-status streams
 * (RemoteNode.connect), stats and host samples at the TUI's intervals (its own
 * FleetView), the rule agent asked every 10 s, the journal followed and read once
 * (use-rules.ts), and the selected (first) container's last 50 log lines followed
 * (use-log-tail.ts). `parts` narrows it to some of these, to cost each alone.
 */
async function watchLikeTheTui(url: string, pin: { fingerprint: string; token: string }, parts: { streams?: boolean; stats?: boolean; host?: boolean } = { streams: true, stats: true, host: true }): Promise<Watcher> {
  const node = new RemoteNode({ name: 'peer', url, fingerprint: pin.fingerprint, token: pin.token });
  const offs: (() => void)[] = [];
  if (parts.streams) {
    await node.connect();
    const rules = node.rules;
    offs.push(rules.followJournal(() => undefined));
    void rules.journal({ limit: TUI.journal }).catch(() => undefined);
    void rules.agent().catch(() => undefined);
    const t = setInterval(() => void rules.agent().catch(() => undefined), TUI.agentCheckMs);
    offs.push(() => clearInterval(t));
    const first = [...node.containers()].sort((a, b) => a.name.localeCompare(b.name))[0];
    if (first) {
      const tail = await node.logs(first.id, { follow: true, timestamps: true, tail: TUI.logTail });
      void (async () => {
        try {
          for await (const _ of tail) {
            // the preview's lines: these containers print none
          }
        } catch {
          // closed
        }
      })();
      offs.push(() => tail.close());
    }
  }
  if (parts.streams && parts.stats && parts.host) {
    const view = new FleetView(new Fleet([node]), { statsIntervalMs: TUI.statsMs, hostIntervalMs: TUI.hostMs });
    view.start();
    offs.push(() => view.close());
  } else {
    if (parts.stats) offs.push(node.watchStats(() => undefined, { intervalMs: TUI.statsMs }));
    if (parts.host) offs.push(node.watchHost(() => undefined, { intervalMs: TUI.hostMs }));
  }
  return {
    close: async () => {
      for (const o of offs) o();
      await node.close();
    },
  };
}

/** Requests made while it runs, by route (diagnostics_channel), each client socket told to the relay. */
function countRequests(relay: Relay): { counts: Map<string, number>; stop: () => void } {
  const counts = new Map<string, number>();
  const onStart = (message: unknown) => {
    const req = (message as { request: ClientRequest }).request;
    const route = routeOf(req.method, req.path);
    counts.set(route, (counts.get(route) ?? 0) + 1);
    // Published once the request has its socket (a kept-alive one, or a new one after its handshake).
    const port = req.socket?.localPort;
    if (port) relay.carries(port, route);
    else req.once('socket', (s: Socket) => relay.carries(s.localPort ?? 0, route));
  };
  subscribe('http.client.request.start', onStart);
  return { counts, stop: () => unsubscribe('http.client.request.start', onStart) };
}

interface WindowFigures {
  agentCpuPercent: number;
  bytesPerS: number;
}

/** The agent's CPU and the relay's bytes over `ms`. */
async function measureWindow(agent: AgentProcess, relay: Relay, ms: number): Promise<WindowFigures & { cpuS: number; bytes: number }> {
  const cpu0 = cpuSeconds(agent.pid);
  const bytes0 = relay.bytes;
  await sleep(ms);
  const cpuS = cpuSeconds(agent.pid) - cpu0;
  const bytes = relay.bytes - bytes0;
  return { cpuS: round(cpuS, 3), bytes, agentCpuPercent: round((cpuS / (ms / 1000)) * 100, 2), bytesPerS: round((bytes / ms) * 1000) };
}

/** `parts`: which measurements to run (all by default): idle, events, logs, unreachable, list. */
export async function runPeersBench(parts: string[] = []): Promise<void> {
  const want = (p: string) => parts.length === 0 || parts.includes(p);
  const engine = await startPrivateEngine('bench-peers');
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-peers-'));
  const agentHome = join(dir, 'agent');
  const agentEnv = { ...process.env, DOCKER_HOST: engine.dockerHost, HOME: agentHome, XDG_CONFIG_HOME: join(agentHome, 'config'), XDG_STATE_HOME: join(agentHome, 'state') };
  const agent = new AgentProcess(await freePort(), agentEnv);
  const relay = new Relay(agent.port);
  const open: { close: () => Promise<void> }[] = [];
  let pty: PtyRun | null = null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await pty?.stop().catch(() => undefined);
    for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
    await agent.stop().catch(() => undefined);
    await relay.close().catch(() => undefined);
    await engine.dispose().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain records, printed and saved
  let idle: any = null, events: any = null, logs: any = null, unreachable: any = null, list: any = null;
  try {
    await importTestImage(engine.dockerHost);
    const d = new Docker({ socketPath: engine.socket });
    for (let i = 0; i < IDLE_CONTAINERS; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, IDLE_CONTAINERS - i) }, (_, k) => runContainer(d, `pb-${String(i + k).padStart(2, '0')}`, ['sleep', '86400'])));
    }
    await agent.start();
    await relay.start();
    const pin = { fingerprint: agent.fingerprint, token: agent.token };
    const direct = `https://127.0.0.1:${agent.port}`;
    const relayed = `https://127.0.0.1:${relay.port}`;

    if (want('idle')) {
      // 1. Idle: the agent alone first (its rule engine, its engine connection), then watched.
      await sleep(5000);
      const alone = await measureWindow(agent, relay, WINDOW_MS / 2);
      // Requests are told to the relay from the first (so the streams' bytes are theirs); counted over the window.
      const requests = countRequests(relay);
      const watcher = await watchLikeTheTui(relayed, pin);
      open.push(watcher);
      await sleep(10_000); // the first samples, the journal read, the JIT: not idle
      const routes0 = new Map(relay.byRoute);
      const counts0 = new Map(requests.counts);
      const watched = await measureWindow(agent, relay, WINDOW_MS);
      requests.stop();
      for (const [route, n] of counts0) requests.counts.set(route, (requests.counts.get(route) ?? 0) - n);
      await watcher.close();
      open.splice(open.indexOf(watcher), 1);
      const windowS = WINDOW_MS / 1000;
      const byRoute = [...relay.byRoute]
        .map(([route, b]) => ({ route, requests: requests.counts.get(route) ?? 0, bytesPerS: round((b - (routes0.get(route) ?? 0)) / windowS) }))
        .filter((r) => r.bytesPerS > 0 || r.requests > 0)
        .sort((a, b) => b.bytesPerS - a.bytesPerS)
        .map((r) => ({ ...r, perSecond: round(r.requests / windowS, 2), bytesPerRequest: r.requests > 0 ? Math.round((r.bytesPerS * windowS) / r.requests) : null }));

      // The real TUI, in a 120×40 pty, with the peer added through the relay and no local engine.
      const home = join(dir, 'tui');
      mkdirSync(home, { recursive: true });
      const tuiEnv = { ...process.env, TERM: 'xterm-256color', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` };
      const add = spawnSync(process.execPath, ['dist/outpost.mjs', 'peers', 'add', relayed, '--name', 'peer', '--token', pin.token, '--fingerprint', pin.fingerprint], { env: tuiEnv, encoding: 'utf8', timeout: 30_000 });
      if (add.status !== 0) throw new Error(`peers: \`outpost peers add\` failed: ${add.stderr}`);
      pty = new PtyRun('dist/outpost.mjs', 120, 40, tuiEnv);
      await pty.waitForScreen((s) => s.some((l) => l.includes('pb-00')), 30_000);
      await sleep(10_000);
      const tuiPid = pty.innerPid();
      const tuiCpu0 = cpuSeconds(tuiPid);
      const tui = await measureWindow(agent, relay, WINDOW_MS);
      const tuiCpuS = cpuSeconds(tuiPid) - tuiCpu0;
      await pty.stop();
      pty = null;

      // What each part of the watching costs the agent alone (CPU), each over half a window.
      const component = async (label: string, p: Parameters<typeof watchLikeTheTui>[2]) => {
        const w = await watchLikeTheTui(relayed, pin, p);
        open.push(w);
        await sleep(5000);
        const f = await measureWindow(agent, relay, WINDOW_MS / 2);
        await w.close();
        open.splice(open.indexOf(w), 1);
        return { part: label, agentCpuPercent: f.agentCpuPercent, bytesPerS: f.bytesPerS };
      };
      const components = [
        await component('streams (model, events, engine status, journal, log tail) and the rule-agent check every 10 s', { streams: true }),
        await component(`stats of every running container every ${TUI.statsMs / 1000} s`, { stats: true }),
        await component(`host metrics every ${TUI.hostMs / 1000} s`, { host: true }),
      ];
      idle = {
        runningContainers: IDLE_CONTAINERS,
        windowS,
        agentAlone: { agentCpuPercent: alone.agentCpuPercent, windowS: windowS / 2 },
        watchedLikeTheTui: { agentCpuPercent: watched.agentCpuPercent, agentCpuS: watched.cpuS, bytesPerS: watched.bytesPerS, byRoute },
        realTui: { agentCpuPercent: tui.agentCpuPercent, agentCpuS: tui.cpuS, bytesPerS: tui.bytesPerS, tuiCpuPercent: round((tuiCpuS / windowS) * 100, 2) },
        components,
        targetCpuPercent: 1,
        targetBytesPerS: 1000,
      };
      console.log(`idle (${IDLE_CONTAINERS} running containers, ${windowS} s; targets ≤ 1 % of a core, ≤ 1000 B/s):`);
      console.log(`  agent alone                 ${alone.agentCpuPercent} % of a core`);
      console.log(`  watched as the TUI does     ${watched.agentCpuPercent} % of a core, ${watched.bytesPerS} B/s on the wire`);
      console.log(`  watched by the real TUI     ${tui.agentCpuPercent} % of a core, ${tui.bytesPerS} B/s on the wire (the TUI: ${idle.realTui.tuiCpuPercent} %)`);
      console.log('  bytes by route (both ways, TLS included):');
      for (const r of byRoute) console.log(`    ${r.route.padEnd(34)} ${String(r.bytesPerS).padStart(8)} B/s  ${String(r.requests).padStart(4)} requests (${r.perSecond}/s${r.bytesPerRequest !== null ? `, ${r.bytesPerRequest} B each` : ''})`);
      console.log('  the agent\'s CPU by part (each alone):');
      for (const c of components) console.log(`    ${String(c.agentCpuPercent).padStart(5)} %  ${String(c.bytesPerS).padStart(8)} B/s  ${c.part}`);
    }

    // The nodes the next parts time: straight to the agent (no relay in between), and the engine directly.
    const needNodes = want('events') || want('logs') || want('list');
    const remote = new RemoteNode({ name: 'peer', url: direct, fingerprint: pin.fingerprint, token: pin.token });
    const local = new LocalNode({ name: 'direct', endpoint: parseHostUrl(engine.dockerHost, 'DOCKER_HOST') });
    if (needNodes) {
      open.push(remote, local);
      await Promise.all([remote.connect(), local.connect()]);
    }

    if (want('events')) {
      // 2. pause/unpause on the engine, one at a time; the arrival of each change in both models.
      const target = await runContainer(d, 'pb-events', ['sleep', '86400']);
      const id = target.id;
      await until(() => remote.containers().some((c) => c.id === id) && local.containers().some((c) => c.id === id), 10_000, 'the events container in both models');
      let cur: { state: string; action: string; remote?: number; local?: number; eventMs?: number } | null = null;
      const onChange = (k: 'remote' | 'local') => (ch: ModelChange) => {
        const at = wall();
        if (cur && cur[k] === undefined && ch.kind === 'upsert' && ch.container.id === id && ch.container.state === cur.state) cur[k] = at;
      };
      const offs = [
        remote.watch(onChange('remote')),
        local.watch(onChange('local')),
        local.watchEvents((e: ContainerEvent) => {
          if (cur && cur.eventMs === undefined && e.id === id && e.action === cur.action) cur.eventMs = e.timeNano / 1e6;
        }),
      ];
      const fromEvent = { remote: [] as number[], local: [] as number[] };
      const fromCall: number[] = [];
      const callMs: number[] = [];
      const warm = 10;
      for (let i = 0; i < EVENT_ACTIONS + warm; i++) {
        const pause = i % 2 === 0;
        const c: { state: string; action: string; remote?: number; local?: number; eventMs?: number } = { state: pause ? 'paused' : 'running', action: pause ? 'pause' : 'unpause' };
        cur = c;
        const t0 = wall();
        await (pause ? target.pause() : target.unpause());
        const t1 = wall();
        await until(() => c.remote !== undefined && c.local !== undefined && c.eventMs !== undefined, 5000, `the ${c.action} event in both models`);
        if (i >= warm) {
          fromEvent.remote.push((c.remote as number) - (c.eventMs as number));
          fromEvent.local.push((c.local as number) - (c.eventMs as number));
          fromCall.push((c.remote as number) - t0);
          callMs.push(t1 - t0);
        }
        await sleep(20);
      }
      cur = null;
      offs.forEach((o) => o());
      const s = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const [r, l, fc] = [s(fromEvent.remote), s(fromEvent.local), s(fromCall)];
      events = {
        actions: EVENT_ACTIONS,
        measured: "the engine's event timestamp (timeNano) → the upsert in the model (same machine, same clock)",
        remoteP50Ms: round(percentile(r, 50)),
        remoteP99Ms: round(percentile(r, 99)),
        remoteMaxMs: round(r.at(-1) as number),
        directP50Ms: round(percentile(l, 50)),
        directP99Ms: round(percentile(l, 99)),
        fromEngineCallStart: { p50Ms: round(percentile(fc, 50)), p99Ms: round(percentile(fc, 99)), engineCallP50Ms: round(median(callMs)) },
        targetP99Ms: 50,
      };
      console.log(`events (${EVENT_ACTIONS} pause/unpause on the engine; target p99 ≤ 50 ms): engine event → remote model p50 ${events.remoteP50Ms} ms, p99 ${events.remoteP99Ms} ms (max ${events.remoteMaxMs}); → a LocalNode's model p50 ${events.directP50Ms}, p99 ${events.directP99Ms} ms`);
      console.log(`  from the start of the engine call: p50 ${events.fromEngineCallStart.p50Ms} ms, p99 ${events.fromEngineCallStart.p99Ms} ms (the call itself: p50 ${events.fromEngineCallStart.engineCallP50Ms} ms)`);
      await target.remove({ force: true });
    }

    if (want('logs')) {
      // 3. The same finished log read whole, alternately through the agent and from the engine;
      //    with each run's CPU by process, to see which side bounds it.
      const c = await runContainer(d, 'pb-logs', ['seq', '1', String(LOG_LINES)]);
      await c.wait();
      const enginePids = pidsMatching(engine.dir);
      const read = async (node: Node) => {
        const cpu0 = { agent: cpuSeconds(agent.pid), engine: cpuOfAll(enginePids), client: process.cpuUsage() };
        const t0 = performance.now();
        let lines = 0;
        const stream = await node.logs(c.id, { tail: 'all', follow: false });
        for await (const _ of stream) lines++;
        const ms = performance.now() - t0;
        if (lines !== LOG_LINES) throw new Error(`peers: ${node.name} gave ${lines} log lines of ${LOG_LINES}`);
        const client = process.cpuUsage(cpu0.client);
        const s = ms / 1000;
        // Each process's CPU over the read, in cores (1 = one core busy all along).
        const cores = { agent: (cpuSeconds(agent.pid) - cpu0.agent) / s, engine: (cpuOfAll(enginePids) - cpu0.engine) / s, client: (client.user + client.system) / 1e6 / s };
        return { rate: (lines / ms) * 1000, cores };
      };
      await read(remote);
      await read(local);
      const runs = { remote: [] as Awaited<ReturnType<typeof read>>[], local: [] as Awaited<ReturnType<typeof read>>[] };
      for (let i = 0; i < LOG_RUNS; i++) {
        if (i % 2 === 0) {
          runs.remote.push(await read(remote));
          runs.local.push(await read(local));
        } else {
          runs.local.push(await read(local));
          runs.remote.push(await read(remote));
        }
      }
      // Once more through the relay: the bytes on the wire per line (TLS records and chunk framing included).
      const relayedNode = new RemoteNode({ name: 'peer-relayed', url: relayed, fingerprint: pin.fingerprint, token: pin.token });
      const b0 = relay.bytes;
      const chunks0 = relay.chunks;
      await read(relayedNode);
      const wireBytesPerLine = round((relay.bytes - b0) / LOG_LINES, 1);
      const readsPerLine = round((relay.chunks - chunks0) / LOG_LINES, 3);
      await relayedNode.close();
      /** Each process's CPU per line, µs (cores busy / lines per second): the work the path costs, whatever the machine's load. */
      const cpuPerLine = (xs: Awaited<ReturnType<typeof read>>[]) => {
        const per = (k: 'agent' | 'engine' | 'client') => round(median(xs.map((x) => (x.cores[k] / x.rate) * 1e6)), 2);
        return { agent: per('agent'), engine: per('engine'), client: per('client') };
      };
      const cores = (xs: Awaited<ReturnType<typeof read>>[]) => ({
        agent: round(median(xs.map((x) => x.cores.agent)), 2),
        engine: round(median(xs.map((x) => x.cores.engine)), 2),
        client: round(median(xs.map((x) => x.cores.client)), 2),
        cpuUsPerLine: cpuPerLine(xs),
      });
      const rates = { remote: runs.remote.map((r) => r.rate), local: runs.local.map((r) => r.rate) };
      logs = {
        lines: LOG_LINES,
        runs: LOG_RUNS,
        measured: 'RemoteNode.logs (tail all, no follow) of a finished container against LocalNode.logs on the same container, alternating',
        remoteLinesPerS: Math.round(median(rates.remote)),
        directLinesPerS: Math.round(median(rates.local)),
        ratio: round(median(rates.remote) / median(rates.local), 2),
        remoteRuns: rates.remote.map((x) => Math.round(x)),
        directRuns: rates.local.map((x) => Math.round(x)),
        coresBusyThroughAgent: cores(runs.remote),
        coresBusyDirect: cores(runs.local),
        wireBytesPerLine,
        relayReadsPerLine: readsPerLine,
        target: 0.8,
      };
      console.log(`logs (${LOG_LINES} lines, medians of ${LOG_RUNS} interleaved; target ratio ≥ 0.8): through the agent ${logs.remoteLinesPerS} lines/s, from the engine ${logs.directLinesPerS} lines/s, ratio ${logs.ratio}`);
      const cb = logs.coresBusyThroughAgent;
      const cd = logs.coresBusyDirect;
      console.log(`  cores busy through the agent: agent ${cb.agent}, client ${cb.client}, engine ${cb.engine}; directly: client ${cd.client}, engine ${cd.engine}`);
      console.log(
        `  CPU per line through the agent: agent ${cb.cpuUsPerLine.agent} µs + client ${cb.cpuUsPerLine.client} µs + engine ${cb.cpuUsPerLine.engine} µs; directly: client ${cd.cpuUsPerLine.client} µs + engine ${cd.cpuUsPerLine.engine} µs (${(await import('node:os')).cpus().length} cores)`,
      );
      console.log(`  on the wire: ${wireBytesPerLine} bytes a line (the line itself: ${String(LOG_LINES).length} digits at most), ${readsPerLine} socket reads a line`);
      await c.remove({ force: true });
    }

    if (want('unreachable')) {
      // 4. A client as the TUI's (default back-off, stats and host sampled every 2 s).
      const marker = await runContainer(d, 'pb-marker', ['sleep', '86400']);
      const peerNode = (url: string) => {
        const n = new RemoteNode({ name: 'peer', url, fingerprint: pin.fingerprint, token: pin.token });
        const offs = [n.watchStats(() => undefined, { intervalMs: TUI.statsMs }), n.watchHost(() => undefined, { intervalMs: TUI.hostMs })];
        const close = async () => {
          for (const o of offs) o();
          await n.close();
        };
        return { node: n, close };
      };
      const markerState = (n: Node) => n.containers().find((c) => c.id === marker.id)?.state;
      /** Changes the marker on the engine while the peer is away: back means this change is in the model. */
      const toggleMarker = async (): Promise<string> => {
        if ((await marker.inspect()).State.Paused) {
          await marker.unpause();
          return 'running';
        }
        await marker.pause();
        return 'paused';
      };
      const online = (n: Node) => n.status().state === 'online';

      const killed: { outageS: number; markMs: number; agentListeningMs: number; backMs: number }[] = [];
      {
        const p = peerNode(direct);
        open.push(p);
        await p.node.connect();
        for (const outage of OUTAGES_S) {
          await until(() => online(p.node) && markerState(p.node) !== undefined, 15_000, 'the peer online');
          const marked = whenNode(p.node, () => !online(p.node), 30_000);
          const t0 = wall();
          await agent.stop('SIGKILL');
          const at = await marked;
          if (at === null) throw new Error('peers: a killed agent was not marked unreachable within 30 s');
          const state = await toggleMarker();
          await sleep(outage * 1000);
          const back = whenNode(p.node, () => online(p.node) && markerState(p.node) === state, 60_000);
          const t1 = wall();
          await agent.start();
          const listening = wall();
          const backAt = await back;
          if (backAt === null) throw new Error('peers: the restarted agent was not seen back within 60 s');
          killed.push({ outageS: outage, markMs: round(at - t0), agentListeningMs: round(listening - t1), backMs: round(backAt - t1) });
        }
        await p.close();
        open.splice(open.indexOf(p), 1);
      }
      const cut: { markMs: number; backMs: number }[] = [];
      {
        const p = peerNode(relayed);
        open.push(p);
        await p.node.connect();
        for (let i = 0; i < CUTS; i++) {
          await until(() => online(p.node), 15_000, 'the peer online');
          await sleep(3000);
          const marked = whenNode(p.node, () => !online(p.node), 90_000);
          const t0 = wall();
          relay.cut();
          const at = await marked;
          const state = await toggleMarker();
          const back = whenNode(p.node, () => online(p.node) && markerState(p.node) === state, 60_000);
          const t1 = wall();
          relay.restore();
          const backAt = await back;
          if (backAt === null) throw new Error('peers: the peer was not seen back within 60 s of the link restored');
          cut.push({ markMs: at === null ? -1 : round(at - t0), backMs: round(backAt - t1) });
          if (at === null) break; // never marked within 90 s: once is enough to say so
        }
        await p.close();
        open.splice(open.indexOf(p), 1);
      }
      await marker.remove({ force: true });
      const stat = (xs: number[]) => ({ medianMs: round(median(xs)), maxMs: round(Math.max(...xs)) });
      unreachable = {
        measured: 'a RemoteNode as the TUI has one (default reconnect back-off 250 ms → 5 s, stats and host every 2 s); back = online with a change made on the engine while away in its model',
        killed: { runs: killed, mark: stat(killed.map((k) => k.markMs)), backFromRestart: stat(killed.map((k) => k.backMs)) },
        cut: { runs: cut, mark: cut.some((c) => c.markMs < 0) ? { medianMs: null, maxMs: null, note: 'not marked within 90 s' } : stat(cut.map((c) => c.markMs)), backFromRestore: stat(cut.map((c) => c.backMs)) },
        targetMs: 5000,
      };
      console.log('unreachable (target ≤ 5000 ms each):');
      for (const k of killed) console.log(`  agent killed: marked in ${k.markMs} ms; down ${k.outageS} s more; restarted: listening in ${k.agentListeningMs} ms, back and resynced ${k.backMs} ms after the restart`);
      for (const c of cut) console.log(`  link cut: marked in ${c.markMs < 0 ? '(not within 90 s)' : `${c.markMs} ms`}; restored: back and resynced in ${c.backMs} ms`);
      console.log(`  killed: mark median ${unreachable.killed.mark.medianMs} / max ${unreachable.killed.mark.maxMs} ms, back median ${unreachable.killed.backFromRestart.medianMs} / max ${unreachable.killed.backFromRestart.maxMs} ms`);
      console.log(`  cut: mark median ${unreachable.cut.mark.medianMs} / max ${unreachable.cut.mark.maxMs} ms, back median ${unreachable.cut.backFromRestore.medianMs} / max ${unreachable.cut.backFromRestore.maxMs} ms`);
      // The nodes of this run were connected to the agent before it was killed: they must be back too.
      if (needNodes) await until(() => online(remote), 30_000, 'the timing node back online');
    }

    if (want('list')) {
      // 5. 500 containers: those running, and created ones (busybox `sleep`, no network) to make up the number.
      const have = (await d.listContainers({ all: true })).length;
      for (let i = 0; i < LIST_SIZE - have; i += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, LIST_SIZE - have - i) }, (_, k) =>
            d.createContainer({ name: `pb-c-${String(i + k).padStart(3, '0')}`, Image: TEST_IMAGE, Cmd: ['sleep', '86400'], HostConfig: { NetworkMode: 'none' } }),
          ),
        );
      }
      const once = async (node: Node) => {
        const t0 = performance.now();
        const all = await node.list({ all: true });
        const ms = performance.now() - t0;
        if (all.length !== LIST_SIZE) throw new Error(`peers: ${node.name} listed ${all.length} containers, not ${LIST_SIZE}`);
        return ms;
      };
      for (let i = 0; i < 20; i++) {
        await once(remote);
        await once(local);
      }
      // The engine's own list (one request, no inspect): what LocalNode.list adds to it is an inspect of each container.
      const engineList = async () => {
        const t0 = performance.now();
        const rows = await d.listContainers({ all: true });
        const ms = performance.now() - t0;
        if (rows.length !== LIST_SIZE) throw new Error(`peers: the engine listed ${rows.length} containers`);
        return ms;
      };
      const xs = { remote: [] as number[], local: [] as number[], engine: [] as number[] };
      for (let i = 0; i < LIST_RUNS; i++) {
        xs.remote.push(await once(remote));
        xs.local.push(await once(local));
        xs.engine.push(await engineList());
      }
      // The same 500 from the agent's live model (what a RemoteNode's model starts from): the first line of
      // GET /v1/model, each on a new pinned TLS connection (the stream's socket goes with it), handshake included.
      const client = new ApiClient({ name: 'peer', url: direct, fingerprint: pin.fingerprint, token: pin.token });
      const fromModel = async () => {
        const t0 = performance.now();
        const st = await client.stream<ModelChange>('model');
        const first = await st.items[Symbol.asyncIterator]().next();
        const ms = performance.now() - t0;
        st.close();
        const n = !first.done && first.value.kind === 'reset' ? first.value.containers.length : -1;
        if (n !== LIST_SIZE) throw new Error(`peers: the model stream began with ${n} containers`);
        return ms;
      };
      const m: number[] = [];
      try {
        for (let i = 0; i < 10; i++) await fromModel();
        for (let i = 0; i < LIST_RUNS / 3; i++) m.push(await fromModel());
      } finally {
        client.destroy();
      }
      const r = [...xs.remote].sort((a, b) => a - b);
      const l = [...xs.local].sort((a, b) => a - b);
      const e = [...xs.engine].sort((a, b) => a - b);
      m.sort((a, b) => a - b);
      list = {
        containers: LIST_SIZE,
        runs: LIST_RUNS,
        measured: 'RemoteNode.list({all: true}) on a kept-alive pinned TLS connection (request, agent → engine list, JSON both ways), against LocalNode.list on the engine socket, alternating',
        remoteP50Ms: round(percentile(r, 50)),
        remoteP99Ms: round(percentile(r, 99)),
        directP50Ms: round(percentile(l, 50)),
        directP99Ms: round(percentile(l, 99)),
        engineListP50Ms: round(percentile(e, 50)),
        engineListP99Ms: round(percentile(e, 99)),
        agentOverheadP50Ms: round(percentile(r, 50) - percentile(l, 50)),
        agentModelResetNewConnection: { runs: m.length, p50Ms: round(percentile(m, 50)), p99Ms: round(percentile(m, 99)) },
        targetP99Ms: 20,
      };
      console.log(`list (${LIST_SIZE} containers, ${LIST_RUNS} runs; target p99 ≤ 20 ms): through the agent p50 ${list.remoteP50Ms} ms, p99 ${list.remoteP99Ms} ms; LocalNode.list on the engine p50 ${list.directP50Ms} ms, p99 ${list.directP99Ms} ms`);
      console.log(`  the engine's own list (GET /containers/json?all=1, no inspects): p50 ${list.engineListP50Ms} ms, p99 ${list.engineListP99Ms} ms; the agent adds ${list.agentOverheadP50Ms} ms at p50 to LocalNode.list`);
      console.log(`  the same 500 from the agent's live model (GET /v1/model's reset, new TLS connection each): p50 ${list.agentModelResetNewConnection.p50Ms} ms, p99 ${list.agentModelResetNewConnection.p99Ms} ms`);
    }

    const file = saveResult('peers', { cores: (await import('node:os')).cpus().length, idle, events, logs, unreachable, list });
    console.log(`saved ${file}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}
