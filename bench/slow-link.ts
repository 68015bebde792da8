/**
 * A peer behind a slow link (the defects issue: 300 ms round trip, 64 kbit/s;
 * a shell's prompt took 5–10 s, full-screen logs 8–25 s). The built agent on
 * a private engine, reached through a relay in this process that delays each
 * chunk by half the round trip and passes at most 8,000 bytes a second each
 * way (a serialising queue, as a modem's). No loss: this kernel has no netem,
 * and a relay above TCP cannot lose packets; loss adds TCP's retransmissions
 * on top of what is measured here.
 *
 * Measured through RemoteNode, as the TUI reaches a peer: the first line and
 * the newest line of a log with 1,000 lines of history (tail 1000, as the
 * logs view asks), plain and gzip-compressed; the first byte of a shell; each
 * on a cold connection (a new node: TCP's and TLS's handshakes first) and a
 * warm one (the node connected, a request made a few seconds before).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { RemoteNode } from '../core/remote/remote-node.js';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { freePort, median, round, runContainer, saveResult, sleep } from './lib.js';

const RTT_MS = 300;
const RATE_BYTES_PER_S = 8000;
const ROUNDS = Number(process.env.BENCH_SLOW_ROUNDS ?? 3);

/** A relay that delays every chunk by half the round trip and serialises each direction at a rate. */
class ShapedLink {
  port = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  constructor(target: number) {
    this.#server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      this.#sockets.add(client).add(upstream);
      const shape = (from: Socket, to: Socket) => {
        let busyUntil = 0;
        from.on('data', (d: Buffer) => {
          const now = performance.now();
          const start = Math.max(now, busyUntil);
          busyUntil = start + (d.length / RATE_BYTES_PER_S) * 1000;
          setTimeout(() => to.destroyed || to.write(d), busyUntil + RTT_MS / 2 - now);
        });
      };
      shape(client, upstream);
      shape(upstream, client);
      const end = () => setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, RTT_MS);
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }
  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as { port: number }).port;
  }
  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.#server.close();
  }
}

async function startAgent(env: NodeJS.ProcessEnv, port: number): Promise<{ child: ChildProcess; token: string; fingerprint: string }> {
  const child = spawn(process.execPath, ['dist/outpost.mjs', 'agent', '--listen', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`slow-link: the agent did not start:\n${out}`)), 30_000);
    const look = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
      const token = /admin token: (\S+)/.exec(out)?.[1];
      const fingerprint = /certificate fingerprint \(SHA-256\): (\S+)/.exec(out)?.[1];
      if (!/api: listening on https:/.test(out) || !token || !fingerprint) return;
      clearTimeout(timer);
      resolve({ child, token, fingerprint });
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
  });
}

export async function runSlowLinkBench(): Promise<void> {
  const engine = await startPrivateEngine('bench-slow');
  const dir = mkdtempSync(join(tmpdir(), 'op-bench-slow-'));
  let agent: { child: ChildProcess; token: string; fingerprint: string } | null = null;
  const link = { current: null as ShapedLink | null };
  try {
    await importTestImage(engine.dockerHost);
    const d = new Docker({ socketPath: engine.socket });
    await runContainer(d, 'slow-history', ['sh', '-c', 'i=0; while [ $i -lt 1000 ]; do i=$((i+1)); echo "$i GET /api/items?page=$i 200 12ms"; done; sleep 3600']);
    await runContainer(d, 'slow-shell', ['sleep', '3600']);
    const port = await freePort();
    agent = await startAgent({ ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), DOCKER_HOST: engine.dockerHost }, port);
    const shaped = new ShapedLink(port);
    link.current = shaped;
    await shaped.start();
    const url = `https://127.0.0.1:${shaped.port}`;
    const node = (compressLogs: boolean) => new RemoteNode({ name: 'far', url, fingerprint: agent!.fingerprint, token: agent!.token, timeoutMs: 30_000, compressLogs });

    const logsOnce = async (n: RemoteNode) => {
      const t0 = performance.now();
      const s = await n.logs('slow-history', { tail: 1000, follow: true, timestamps: true });
      let first = 0;
      let newest = 0;
      for await (const l of s) {
        if (!first) first = performance.now() - t0;
        if (l.text.startsWith('1000 ')) {
          newest = performance.now() - t0;
          break;
        }
      }
      s.close();
      return { first, newest };
    };
    const shellOnce = async (n: RemoteNode) => {
      const t0 = performance.now();
      const session = await n.exec('slow-shell', { cmd: ['sh'], tty: true, cols: 80, rows: 24, env: ['TERM=xterm'] });
      const firstByte = await new Promise<number>((resolve) => {
        const off = session.onOutput(() => {
          off();
          resolve(performance.now() - t0);
        });
        session.write(Buffer.from('\n'));
      });
      session.close();
      return firstByte;
    };

    const rows: Record<string, number[]> = {};
    const add = (k: string, v: number) => (rows[k] ??= []).push(v);
    for (let r = 0; r < ROUNDS; r++) {
      for (const compress of [false, true]) {
        // Cold: a new node, nothing connected yet (TCP's and TLS's handshakes first).
        const cold = node(compress);
        const c = await logsOnce(cold);
        add(`logs ${compress ? 'gzip' : 'plain'}, cold: first line`, c.first);
        add(`logs ${compress ? 'gzip' : 'plain'}, cold: newest line`, c.newest);
        await cold.close();
        // Warm: connected, a request a few seconds before (its connection kept alive).
        const warm = node(compress);
        await warm.connect();
        await warm.info();
        await sleep(3000);
        const w = await logsOnce(warm);
        add(`logs ${compress ? 'gzip' : 'plain'}, warm: first line`, w.first);
        add(`logs ${compress ? 'gzip' : 'plain'}, warm: newest line`, w.newest);
        if (compress) {
          await warm.info();
          await sleep(3000);
          add('shell, warm: first byte', await shellOnce(warm));
        }
        await warm.close();
      }
      const cold = node(false);
      add('shell, cold: first byte', await shellOnce(cold));
      await cold.close();
    }
    const figures = Object.entries(rows).map(([what, ms]) => ({ what, medianMs: round(median(ms)), maxMs: round(Math.max(...ms)), rounds: ms.length }));
    console.log(`a peer behind a ${RTT_MS} ms round trip at ${RATE_BYTES_PER_S * 8 / 1000} kbit/s (no loss), medians of ${ROUNDS}:`);
    for (const f of figures) console.log(`  ${f.what.padEnd(36)} ${String(f.medianMs).padStart(8)} ms  (max ${f.maxMs})`);
    const file = saveResult('slow-link', { rttMs: RTT_MS, rateBytesPerS: RATE_BYTES_PER_S, figures });
    console.log(`saved ${file}`);
  } finally {
    link.current?.close();
    agent?.child.kill('SIGTERM');
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
