/**
 * An engine that takes the connection and never answers (a hung dockerd, a
 * stuck tunnel): every command must give up at its deadline and say which
 * engine did not answer; the TUI must say so too, and `q` must always exit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, outpost } from '../harness/cli.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';

const P = 'hung-';
let dir: string;
let socket: string;
let server: Server;
const held: Socket[] = [];
let tmux: Tmux | null = null;

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'op-hung-'));
  socket = join(dir, 'docker.sock');
  // Accepts, reads, never writes a byte.
  server = createServer((s) => {
    held.push(s);
    s.on('error', () => undefined);
    s.resume();
  });
  await new Promise<void>((r) => server.listen(socket, r));
  await makeContainer(docker(), { name: `${P}quiet`, cmd: 'echo one; sleep 3600' });
});

afterEach(() => {
  tmux?.kill();
  tmux = null;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

describe('a hung engine', () => {
  const env = () => ({ DOCKER_HOST: `unix://${socket}`, OUTPOST_ENGINE_TIMEOUT: '1', XDG_STATE_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config') });

  it.each([
    [['ps']],
    [['info']],
    [['logs', 'web']],
    [['logs', '-f', 'web']],
    [['restart', 'web']],
    [['inspect', 'web']],
    [['rules', 'explain']],
  ])('outpost %j gives up at the deadline and names the engine', async (args) => {
    const started = Date.now();
    const r = await outpost(args, env());
    const took = Date.now() - started;
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`unix://${socket}`);
    expect(r.stderr).toMatch(/did not answer GET \/[a-z/]+ within 1 s/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(took).toBeLessThan(15_000);
  });

  it('a bad OUTPOST_ENGINE_TIMEOUT is named, exit 2', async () => {
    for (const bad of ['abc', '0', '-5', '1e9', '99999']) {
      const r = await outpost(['ps'], { ...env(), OUTPOST_ENGINE_TIMEOUT: bad });
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('OUTPOST_ENGINE_TIMEOUT');
    }
  });

  it('does not cut a followed stream that is merely quiet (the deadline covers the answer, not the silence)', async () => {
    const { spawn } = await import('node:child_process');
    const { dockerHost } = await import('../harness/fixtures.js');
    const child = spawn(process.execPath, [BIN, 'logs', '-f', `${P}quiet`], {
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', DOCKER_HOST: dockerHost(), OUTPOST_ENGINE_TIMEOUT: '0.5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    await new Promise((r) => setTimeout(r, 2500));
    const stillRunning = child.exitCode === null;
    child.kill('SIGINT');
    await exited;
    expect(err).toBe('');
    expect(out).toBe('one\n');
    expect(stillRunning).toBe(true);
  });

  it('the TUI says the engine does not answer, and q exits at once', async () => {
    tmux = new Tmux();
    tmux.start(`${process.execPath} ${join(process.cwd(), BIN)}`, {
      cols: 100,
      rows: 24,
      env: { ...env(), HOME: dir, TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
    });
    const s = await tmux.waitFor((t) => /did not answer/.test(t), 'the timeout on screen', 20_000);
    expect(s).toMatch(/^Outpost/);
    tmux.type('q');
    await waitUntil(() => tmux?.dead() === true, 'the TUI to exit after q', 3000);
  });

  it('q exits at once while a request to the engine is still waiting for its answer', async () => {
    tmux = new Tmux();
    tmux.start(`${process.execPath} ${join(process.cwd(), BIN)}`, {
      cols: 100,
      rows: 24,
      env: { ...env(), OUTPOST_ENGINE_TIMEOUT: '60', HOME: dir, TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
    });
    await tmux.waitFor((t) => /^Outpost/.test(t) && /connecting/.test(t), 'the UI, still connecting', 20_000);
    tmux.type('q');
    await waitUntil(() => tmux?.dead() === true, 'the TUI to exit after q', 3000);
  });
});

async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
