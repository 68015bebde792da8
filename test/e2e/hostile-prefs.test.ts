/** The TUI in a real terminal with a hostile preferences file: it opens, says what is wrong, and quits. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../harness/cli.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';

const P = 'hprefs-';
let tmux: Tmux | null = null;
const dirs: string[] = [];

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  await makeContainer(docker(), { name: `${P}web`, cmd: 'sleep 3600' });
});
afterEach(() => {
  tmux?.kill();
  tmux = null;
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

describe('a hostile tui.json', () => {
  it.each([
    ['keys named like Object members', (f: string) => writeFileSync(f, '{"constructor": 1, "toString": 2, "__proto__": {"a": 1}}'), /unknown preference `constructor`/],
    ['a FIFO', (f: string) => execFileSync('mkfifo', [f]), /not a regular file/],
    ['/dev/zero', (f: string) => symlinkSync('/dev/zero', f), /not a regular file/],
  ])('%s: the UI opens, names the problem on its status line, and q exits', async (_what, make, message) => {
    const home = mkdtempSync(join(tmpdir(), 'op-hprefs-'));
    dirs.push(home);
    mkdirSync(join(home, '.config', 'outpost'), { recursive: true });
    make(join(home, '.config', 'outpost', 'tui.json'));
    tmux = new Tmux();
    tmux.start(`${process.execPath} ${join(process.cwd(), BIN)}`, {
      cols: 200,
      rows: 30,
      env: { DOCKER_HOST: dockerHost(), HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
    });
    const s = await tmux.waitFor((t) => t.includes(`${P}web`) && message.test(t), 'the list and the problem');
    expect(s).not.toMatch(/TypeError|at .*\.js:\d+/);
    tmux.type('q');
    const deadline = Date.now() + 3000;
    while (!tmux.dead() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(tmux.dead()).toBe(true);
  });
});
