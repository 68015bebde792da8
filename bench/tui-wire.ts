/**
 * What the real TUI pulls from a peer on the wire while it shows it (the
 * defects issue: 374 B/s for an idle view, 832 B/s with a container
 * selected, on 64 kbit/s links of 8,000 B/s in all; targets 150 and 300).
 *
 * The built `outpost agent --listen` on a private engine with 10 quiet
 * containers, the real TUI in a 120×40 pty with the agent as its only peer
 * (no local engine), and a TCP relay between them that counts every byte
 * both ways (TCP payload: TLS records included, IP and TCP headers not).
 * Views measured, each over a window after it settled: the main list (the
 * first container selected, its log tail below), the rules tab, the stats
 * tab. A second pass runs the agent over plain HTTP on loopback
 * (--insecure-http) behind a relay that reads the request lines, to say
 * which route the bytes are.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { freePort, round, runContainer, saveResult, sleep } from './lib.js';
import { PtyRun } from './pty.js';

const CONTAINERS = 10;
const WINDOW_MS = Number(process.env.BENCH_WIRE_WINDOW_MS ?? 30_000);
const SETTLE_MS = 8_000;

/** A relay that counts bytes both ways; with `http`, by the route of the request each connection carries now. */
class CountingRelay {
  port = 0;
  bytes = 0;
  readonly byRoute = new Map<string, number>();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: number, http: boolean) {
    this.#server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      this.#sockets.add(client).add(upstream);
      let route = http ? '(before a request)' : '(all)';
      const count = (n: number) => {
        this.bytes += n;
        this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + n);
      };
      client.on('data', (d: Buffer) => {
        if (http) {
          const m = /^(GET|POST|PUT|DELETE|PATCH) (\S+) HTTP\/1\.1\r\n/.exec(d.toString('latin1', 0, Math.min(d.length, 600)));
          if (m) route = `${m[1]} ${(m[2] ?? '').split('?')[0]?.replace(/^\/v1\/containers\/[^/]+/, '/v1/containers/:ref')}${/upgrade: websocket/i.test(d.toString('latin1')) ? ' (ws)' : ''}`;
        }
        count(d.length);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        count(d.length);
        client.write(d);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as { port: number }).port;
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/** The built agent; resolves with its token (and fingerprint over HTTPS) once it listens. */
async function startAgent(env: NodeJS.ProcessEnv, port: number, http: boolean): Promise<{ child: ChildProcess; token: string; fingerprint: string | null }> {
  const child = spawn(process.execPath, ['dist/outpost.mjs', 'agent', '--listen', `127.0.0.1:${port}`, ...(http ? ['--insecure-http'] : [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tui-wire: the agent did not start within 30 s:\n${out}`)), 30_000);
    const look = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      if (!/api: listening on https?:\/\//.test(out)) return;
      const token = /admin token: (\S+)/.exec(out)?.[1];
      const fingerprint = /certificate fingerprint \(SHA-256\): (\S+)/.exec(out)?.[1] ?? null;
      if (!token || (!http && !fingerprint)) return;
      clearTimeout(timer);
      resolve({ child, token, fingerprint });
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => reject(new Error(`tui-wire: the agent exited (${code}):\n${out}`)));
  });
}

interface ViewFigure {
  view: string;
  bytesPerS: number;
  byRoute?: { route: string; bytesPerS: number }[];
}

/** The TUI against the agent through a relay; each view's bytes per second. */
async function measureViews(engineHost: string, dir: string, http: boolean): Promise<ViewFigure[]> {
  const agentHome = join(dir, http ? 'agent-http' : 'agent-tls');
  mkdirSync(agentHome, { recursive: true });
  const agentEnv = { ...process.env, HOME: agentHome, XDG_CONFIG_HOME: join(agentHome, 'config'), XDG_STATE_HOME: join(agentHome, 'state'), DOCKER_HOST: engineHost };
  const port = await freePort();
  const agent = await startAgent(agentEnv, port, http);
  const relay = new CountingRelay(port, http);
  await relay.start();
  const home = join(dir, http ? 'tui-http' : 'tui-tls');
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, TERM: 'xterm-256color', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` };
  const { spawnSync } = await import('node:child_process');
  const url = `${http ? 'http' : 'https'}://127.0.0.1:${relay.port}`;
  const add = spawnSync(process.execPath, ['dist/outpost.mjs', 'peers', 'add', url, '--name', 'peer', '--token', agent.token, '--fingerprint', agent.fingerprint ?? '00'.repeat(32) /* plain HTTP: nothing to pin, but the peers file wants one */], { env, encoding: 'utf8', timeout: 30_000 });
  if (add.status !== 0) throw new Error(`tui-wire: peers add failed: ${add.stderr}`);
  const pty = new PtyRun('node dist/outpost.mjs', 120, 40, env);
  const figures: ViewFigure[] = [];
  try {
    // The TUI opens on every node at once: the peer's containers, the first one selected.
    await pty.waitForScreen((s) => s.some((l) => /^peer\s+wire-00/.test(l)), 30_000);
    const measure = async (view: string) => {
      await sleep(SETTLE_MS);
      const b0 = relay.bytes;
      const r0 = new Map(relay.byRoute);
      await sleep(WINDOW_MS);
      const s = WINDOW_MS / 1000;
      const f: ViewFigure = { view, bytesPerS: round((relay.bytes - b0) / s) };
      if (http) {
        f.byRoute = [...relay.byRoute]
          .map(([route, b]) => ({ route, bytesPerS: round((b - (r0.get(route) ?? 0)) / s) }))
          .filter((r) => r.bytesPerS > 0)
          .sort((a, b) => b.bytesPerS - a.bytesPerS);
      }
      figures.push(f);
    };
    await measure('main list, first container selected (logs tab)');
    pty.type('\t'); // the detail pane's tabs: logs → stats → …
    await measure('stats tab');
    pty.type('\t\t'); // stats → inspect → rules
    await measure('rules tab');
  } finally {
    await pty.stop();
    await relay.close();
    agent.child.kill('SIGTERM');
  }
  return figures;
}

export async function runTuiWireBench(): Promise<void> {
  const engine = await startPrivateEngine('bench-wire');
  const dir = mkdtempSync(join(tmpdir(), 'op-bench-wire-'));
  try {
    await importTestImage(engine.dockerHost);
    const d = new Docker({ socketPath: engine.socket });
    for (let i = 0; i < CONTAINERS; i++) await runContainer(d, `wire-${String(i).padStart(2, '0')}`, ['sleep', '3600']);
    const tls = await measureViews(engine.dockerHost, dir, false);
    const http = await measureViews(engine.dockerHost, dir, true);
    console.log(`the TUI showing a peer (${CONTAINERS} quiet containers), bytes per second on the wire, both ways (targets: idle ≤ 150, a container selected ≤ 300):`);
    for (const f of tls) console.log(`  ${f.view.padEnd(50)} ${String(f.bytesPerS).padStart(7)} B/s over TLS`);
    console.log('  by route, over plain HTTP on loopback (same requests, no TLS records):');
    for (const f of http) {
      console.log(`    ${f.view}: ${f.bytesPerS} B/s`);
      for (const r of f.byRoute ?? []) console.log(`      ${r.route.padEnd(40)} ${String(r.bytesPerS).padStart(7)} B/s`);
    }
    const file = saveResult('tui-wire', { containers: CONTAINERS, windowS: WINDOW_MS / 1000, tls, http, targets: { idleBytesPerS: 150, selectedBytesPerS: 300 } });
    console.log(`saved ${file}`);
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
