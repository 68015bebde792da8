/** The TUI in a real terminal with a hostile preferences file: it opens, says what is wrong, and quits. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('many problems at 80×24: the status says how many and that all are printed on quit; after q they are on stderr, inert', async () => {
    const home = mkdtempSync(join(tmpdir(), 'op-hprefs-'));
    dirs.push(home);
    mkdirSync(join(home, '.config', 'outpost'), { recursive: true });
    const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel\u001b]0;pwned\u0007'];
    writeFileSync(join(home, '.config', 'outpost', 'tui.json'), JSON.stringify(Object.fromEntries(keys.map((k) => [k, 1]))));
    const errFile = join(home, 'stderr.txt');
    tmux = new Tmux();
    tmux.start(`sh -c '${process.execPath} ${join(process.cwd(), BIN)} 2>${errFile}'`, {
      cols: 80,
      rows: 24,
      env: { DOCKER_HOST: dockerHost(), HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
    });
    await tmux.waitFor((t) => t.includes(`${P}web`) && /preferences: 8 problem\(s\), all printed when you quit/.test(t), 'the count of problems');
    tmux.type('q');
    const deadline = Date.now() + 3000;
    while (!tmux.dead() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(tmux.dead()).toBe(true);
    const err = readFileSync(errFile, 'utf8');
    for (const k of ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf']) expect(err).toContain(`unknown preference \`${k}\``);
    expect(err).not.toContain('\u001b]0;');
    expect(err.split('\n').filter((l) => l.startsWith('preferences: ')).length).toBe(8);
  });
});
