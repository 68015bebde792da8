/**
 * Text that did not come from Outpost (container output, engine messages,
 * labels) reaches the terminal inert on every CLI path, decided per stream:
 * in a real terminal (tmux), neither the title nor the clipboard changes,
 * the screen is not cleared, and the text shows as `\x1b…`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../harness/cli.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';
import { Tmux } from '../harness/tmux.js';

const P = 'tty-';
const EVIL = '\\033]0;pwned\\007\\033]52;c;aGFjaw==\\007\\033[6n\\033[c';
let dir: string;
let tmux: Tmux | null = null;
let fake: Server | null = null;

/** Runs `command` (a shell line; $OUTPOST is the CLI) in a fresh tmux pane and waits for `done` on screen. */
async function inTerminal(command: string, done: RegExp, env: Record<string, string> = {}): Promise<{ screen: string; title: string; clipboard: string }> {
  tmux = new Tmux();
  tmux.start(`sh -c '${command.replace(/'/g, `'\\''`)}; echo __END__; sleep 60'`, {
    cols: 160,
    rows: 30,
    env: { DOCKER_HOST: dockerHost(), HOME: dir, XDG_STATE_HOME: join(dir, 'state'), TERM: 'xterm-256color', PATH: process.env.PATH ?? '', OUTPOST: `${process.execPath} ${join(process.cwd(), BIN)}`, ...env },
  });
  const screen = await tmux.waitFor((s) => done.test(s), String(done));
  return { screen, title: tmux.paneTitle(), clipboard: tmux.clipboard() };
}

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'op-tty-'));
  const d = docker();
  await makeContainer(d, { name: `${P}evil`, cmd: `printf 'out-line\\n'; printf 'A${EVIL}B\\n' >&2; sleep 3600` });
  // An entrypoint whose name the engine quotes back in its error.
  await d.createContainer({ name: `${P}badentry`, Image: TEST_IMAGE, Cmd: ['/no\u001b]0;pwned\u0007such'], HostConfig: { NetworkMode: 'none' } });
  await makeContainer(d, { name: `${P}label`, cmd: 'sleep 3600', labels: { 'outpost.restart-on': 'x\u001b]0;pwned\u0007\u001b]52;c;aGFjaw==\u0007' } });
});

afterEach(() => {
  tmux?.kill();
  tmux = null;
});

afterAll(async () => {
  fake?.close();
  rmSync(dir, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

describe('the CLI in a real terminal', () => {
  it('the check can fail: --raw lets the sequences act (title and clipboard change)', async () => {
    const r = await inTerminal(`$OUTPOST logs --raw ${P}evil | cat >/dev/null`, /__END__/);
    expect(r.title).toBe('pwned');
    expect(r.clipboard).toBe('hack');
  });

  it('`logs NAME | cat` keeps stderr, still on the terminal, inert', async () => {
    const r = await inTerminal(`$OUTPOST logs ${P}evil | cat >/dev/null`, /__END__/);
    expect(r.screen).toContain('A\\x1b]0;pwned\\x07\\x1b]52;c;aGFjaw==\\x07\\x1b[6n\\x1b[cB');
    expect(r.title).not.toBe('pwned');
    expect(r.clipboard).toBe('');
  });

  it('`logs NAME 2>/dev/null` (stdout on the terminal, stderr not) prints stdout, and stderr raw into the file', async () => {
    const file = join(dir, 'err.log');
    const r = await inTerminal(`$OUTPOST logs ${P}evil 2>${file}; od -c ${file} | head -3`, /__END__/);
    expect(r.screen).toContain('out-line');
    expect(r.screen).toMatch(/033\s+\]\s+0/); // the file has the raw bytes, as `docker logs` would write
    expect(r.title).not.toBe('pwned');
  });

  it('an engine error quoting the entrypoint (`start NAME`) is inert', async () => {
    const r = await inTerminal(`$OUTPOST start ${P}badentry`, /__END__/);
    expect(r.screen).toMatch(/Error: tty-badentry:/);
    expect(r.screen).toContain('\\x1b]0;pwned\\x07');
    expect(r.title).not.toBe('pwned');
  });

  it("`info` shows the engine's version and OS strings inert, and its JSON stays valid", async () => {
    const socket = join(dir, 'fake.sock');
    const evil = 'v1\u001b]0;pwned\u0007\u001b]52;c;aGFjaw==\u0007\u009b2J';
    fake = createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url?.endsWith('/version')) res.end(JSON.stringify({ Version: evil, ApiVersion: '1.41', Os: evil, Arch: 'amd64' }));
      else if (req.url?.endsWith('/info')) res.end(JSON.stringify({ NCPU: 2, OSType: evil, Architecture: evil }));
      else res.writeHead(404).end('{"message":"no"}');
    });
    await new Promise<void>((r) => fake?.listen(socket, r));
    const r = await inTerminal(`$OUTPOST info; $OUTPOST info --json | cat > ${dir}/info.json; $OUTPOST info --json`, /__END__/, { DOCKER_HOST: `unix://${socket}` });
    expect(r.screen).toContain('v1\\x1b]0;pwned\\x07');
    expect(r.title).not.toBe('pwned');
    expect(r.clipboard).toBe('');
    const onTerminal = r.screen.slice(r.screen.indexOf('{'), r.screen.lastIndexOf('}') + 1);
    expect(() => JSON.parse(onTerminal.replace(/\n/g, ''))).not.toThrow();
  });

  it("the agent's log of a hostile label value is inert", async () => {
    const r = await inTerminal(`$OUTPOST agent --rules ${dir}/none.yaml --state-dir ${dir}/agent-state`, /label rule is ignored/);
    expect(r.screen).toContain('\\x1b]0;pwned\\x07');
    expect(r.title).not.toBe('pwned');
    expect(r.clipboard).toBe('');
  });
});
