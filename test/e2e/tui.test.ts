import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';
import { KEYS } from '../../tui/app/keymap.js';

const P = 'e2e-';
const BIN = join(process.cwd(), 'dist/outpost.mjs');
let tmux: Tmux;
let home: string;

function launch(cols = 120, rows = 40, args = '', host = dockerHost(), command = `${process.execPath} ${BIN} ${args}`): void {
  tmux = new Tmux();
  tmux.start(command, {
    cols,
    rows,
    env: { DOCKER_HOST: host, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
  });
}

/** Filters the list down to the db container and opens a shell in it (`e`), up to its prompt. */
async function openShellInDb(): Promise<void> {
  await tmux.waitFor((s) => row(s, `${P}db`) !== '', 'db listed');
  tmux.type(`/${P}db`);
  tmux.keys('Enter');
  await tmux.waitFor((s) => row(s, `${P}web`) === '', 'filtered');
  tmux.type('e');
  await tmux.waitFor((s) => /^\/ #\s*$/m.test(s), 'a shell prompt');
}

/** The row of the list that names the container (one that starts with spaces, then the name). */
function row(screen: string, name: string): string {
  return screen.split('\n').find((l) => new RegExp(`^\\s*\\*?\\s+${name}\\s`).test(l)) ?? '';
}

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  home = mkdtempSync(join(tmpdir(), 'op-home-'));
  const d = docker();
  await makeContainer(d, { name: `${P}web`, cmd: 'i=0; while :; do i=$((i+1)); echo "request $i ok"; [ $((i % 5)) = 0 ] && echo "needle $i" >&2; sleep 0.1; done', labels: { 'com.docker.compose.project': 'e2eshop' } });
  await makeContainer(d, { name: `${P}db`, cmd: 'trap "exit 0" TERM; sleep 3600 & wait', labels: { 'com.docker.compose.project': 'e2eshop' } });
  await makeContainer(d, { name: `${P}evil`, cmd: "printf 'A\\033[2J\\033]0;pwned\\007\\033]52;c;aGFjaw==\\007B\\n'; sleep 3600" });
});

afterEach(() => tmux?.kill());
afterAll(() => removeByPrefix(docker(), P));

describe('outpost TUI in a real terminal', () => {
  it('starts, lists, filters, opens logs and searches', async () => {
    launch();
    await tmux.waitFor((s) => s.includes(`${P}web`) && s.includes('e2eshop'), 'the list');
    tmux.type(`/${P}db`);
    tmux.keys('Enter');
    const filtered = await tmux.waitFor((s) => row(s, `${P}db`) !== '' && row(s, `${P}web`) === '', 'the filter');
    expect(filtered).toContain(`filter: ${P}db`);
    tmux.keys('Escape');
    tmux.type(`/${P}web`);
    tmux.keys('Enter');
    await tmux.waitFor((s) => row(s, `${P}db`) === '' && row(s, `${P}web`) !== '', 'web alone');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.includes(`logs ${P}web`) && /request \d+ ok/.test(s), 'the logs view');
    // Followed for a while (the screen scrolls a region as lines come): the stdout lines on screen
    // must be consecutive, with nothing doubled, lost or left over.
    const start = Number(/request (\d+) ok/.exec(tmux.screen())?.[1] ?? 0);
    await tmux.waitFor((s) => [...s.matchAll(/request (\d+) ok/g)].some((m) => Number(m[1]) > start + 25), 'more lines followed');
    const seen = [...tmux.screen().matchAll(/request (\d+) ok/g)].map((m) => Number(m[1]));
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((n, i) => i === 0 || n === (seen[i - 1] as number) + 1)).toBe(true);
    tmux.type('/needle');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.includes('search: needle'), 'the search');
    tmux.type('F');
    const only = await tmux.waitFor((s) => s.includes('filter') && !/request \d+ ok/.test(s.split('\n').slice(1, -2).join('\n')), 'filter mode');
    expect(only).toMatch(/needle \d+/);
    // Help over the logs view, and back to it with its filter still on.
    tmux.type('?');
    await tmux.waitFor((s) => s.includes('Keys — logs view'), 'the logs help');
    tmux.type('x');
    await tmux.waitFor((s) => s.startsWith(`logs ${P}web`) && s.includes('filter'), 'the logs view as it was');
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.startsWith(`logs ${P}web`) && !s.includes('search: needle'), 'the search cleared');
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.includes('NAME') && s.includes('STATE'), 'back on the list');
    tmux.type('q');
    await tmux.waitFor(() => tmux.dead(), 'the program to exit');
  });

  it('Esc in the logs search prompt closes the prompt and stays in the logs view; a second Esc backs out', async () => {
    launch();
    await tmux.waitFor((s) => row(s, `${P}web`) !== '', 'the list');
    tmux.type(`/${P}web`);
    tmux.keys('Enter');
    await tmux.waitFor((s) => row(s, `${P}db`) === '' && row(s, `${P}web`) !== '', 'web alone');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.startsWith(`logs ${P}web`) && /request \d+ ok/.test(s), 'the logs view');
    // Esc in the prompt drops what is typed; Esc after a search clears it; neither leaves the view.
    tmux.type('/needl');
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.startsWith(`logs ${P}web`) && !s.includes('/needl') && !s.includes('search: needl') && s.includes('esc back'), 'the logs view without the prompt');
    tmux.type('/needle');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.includes('search: needle') && s.includes('esc clear'), 'the search');
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.startsWith(`logs ${P}web`) && !s.includes('search: needle') && s.includes('esc back'), 'the search cleared, in the logs view');
    tmux.keys('Escape');
    await tmux.waitFor((s) => s.includes('NAME') && s.includes('STATE'), 'back on the list');
  });

  it('at 30×10 a long agent notification takes one row, cut with …, and the list keeps its rows', async () => {
    const { Journal } = await import('../../core/agent/journal.js');
    const saved = home;
    home = mkdtempSync(join(tmpdir(), 'op-home-ro-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, '.config', 'outpost'), { recursive: true });
    writeFileSync(join(home, '.config', 'outpost', 'rules.yaml'), `rules:\n  - {name: tens, match: {name: "${P}web"}, when: {log: "needle"}, then: notify}\n`);
    const { journal } = Journal.open(join(home, '.local', 'state', 'outpost'));
    try {
      launch(30, 10);
      const first = await tmux.waitFor((s) => row(s, `${P}db`) !== '' && row(s, `${P}web`) !== '', 'the list');
      const listed = first.split('\n').filter((l) => l.includes(P)).length;
      // Appended again until shown: the UI starts following the journal a moment after it is up.
      let appended = 0;
      const shown = await tmux.waitFor((s) => {
        if (s.includes('⚑')) return true;
        if (Date.now() - appended > 1000) {
          appended = Date.now();
          journal.append({ ts: appended, node: 'local', kind: 'notify', rule: 'tens', container: `${P}web`, reason: `${P}web hit a tens line (${P}web: logged "err line 2350") ZZEND` });
        }
        return false;
      }, 'the notification');
      const lines = shown.split('\n');
      const at = lines.findIndex((l) => l.includes('⚑'));
      expect(lines.slice(at + 1).join('').trim()).toBe('');
      expect(lines[at]).toMatch(/…\s*$/);
      expect(shown).not.toContain('ZZEND');
      expect(lines.filter((l) => l.includes(P)).length - 1).toBeGreaterThanOrEqual(listed - 1);
    } finally {
      journal.close();
      home = saved;
    }
  });

  it('read-only: K, d, r, s, p and e say they are off, and the header separates read-only from the rules word', async () => {
    launch(80, 24, '--read-only');
    const first = await tmux.waitFor((s) => row(s, `${P}db`) !== '' && /agent|✓/.test(s.split('\n')[0] ?? ''), 'the list');
    expect(first.split('\n')[0]).toMatch(/read-only · (rules ✓|no rules agent)/);
    for (const [k, word] of [['K', 'kill'], ['d', 'remove'], ['r', 'restart'], ['s', 'stop'], ['p', 'pause'], ['e', 'shell']] as const) {
      tmux.type(k);
      await tmux.waitFor((s) => s.includes(`read-only: ${word} is off`), `the refusal of ${k}`);
    }
  });

  it('with NO_COLOR, stderr lines in the logs view carry a `!` gutter (stdout lines none), and ? says so', async () => {
    launch(120, 40, '', dockerHost(), `env NO_COLOR=1 ${process.execPath} ${BIN}`);
    await tmux.waitFor((s) => row(s, `${P}web`) !== '', 'the list');
    tmux.type(`/${P}web`);
    tmux.keys('Enter');
    await tmux.waitFor((s) => row(s, `${P}db`) === '' && row(s, `${P}web`) !== '', 'web alone');
    tmux.keys('Enter');
    const s = await tmux.waitFor((x) => x.startsWith(`logs ${P}web`) && /^! needle \d+/m.test(x) && /^request \d+ ok/m.test(x), 'stderr lines marked');
    expect(s).not.toMatch(/^! request/m);
    expect(s).not.toMatch(/^needle \d+/m);
    tmux.type('?');
    await tmux.waitFor((x) => x.includes('Keys — logs view') && x.includes('! (gutter)') && x.includes('stderr'), 'the logs help');
  });

  it('paints the list first, keeps keys typed before the UI has loaded, and leaves no trace of them', async () => {
    launch();
    // The first frame (painted before the UI's code loads) already names the containers…
    const first = await tmux.waitFor((s) => s.includes(`${P}web`) && /^Outpost/.test(s), 'the first frame');
    const title = (s: string) => s.split('\n').find((l) => l.startsWith(' logs '))?.split('─')[1]?.trim();
    const selectedFirst = title(first);
    expect(selectedFirst).toBeTruthy();
    // …and keys typed at once are neither echoed nor lost: the UI answers them when it is up.
    tmux.type('j?');
    const help = await tmux.waitFor((s) => s.includes('Keys — main view'), 'the help screen');
    expect(help).not.toMatch(/j\?/);
    tmux.keys('Escape');
    const back = await tmux.waitFor((s) => /sort: name/.test(s) && s.includes(`${P}web`), 'the main view again');
    // `j` moved the selection off the first row before `?` opened the help.
    expect(title(back)).not.toBe(selectedFirst);
    expect(back.split('\n').filter((l) => l.startsWith('Outpost'))).toHaveLength(1);
  });

  it('marks are the targets: g, space ×3, enter, esc, r asks once for the three marked, not the cursor, and restarts them', async () => {
    const d = docker();
    for (const n of ['m1', 'm2', 'm3', 'm4']) await makeContainer(d, { name: `${P}${n}`, cmd: 'trap "exit 0" TERM; sleep 3600 & wait', labels: { 'com.docker.compose.project': 'e2emarks' } });
    try {
      launch();
      await tmux.waitFor((s) => row(s, `${P}m4`) !== '', 'the project listed');
      tmux.type(`/${P}m`);
      tmux.keys('Enter');
      await tmux.waitFor((s) => row(s, `${P}web`) === '' && row(s, `${P}m1`) !== '', 'filtered to the project');
      const before = new Map<string, number>();
      for (const n of ['m1', 'm2', 'm3', 'm4']) before.set(n, Date.parse((await d.getContainer(`${P}${n}`).inspect()).State.StartedAt));
      tmux.type('g');
      tmux.type(' ');
      tmux.type(' ');
      tmux.type(' ');
      const marked = await tmux.waitFor((s) => s.includes('3 marked: r s p K d enter act on them') && / ─ local\/e2e-m4/.test(s), 'three marked, the cursor on the fourth');
      expect(['m1', 'm2', 'm3'].every((n) => row(marked, `${P}${n}`).startsWith('*'))).toBe(true);
      tmux.keys('Enter');
      await tmux.waitFor((s) => s.startsWith(`logs ${P}m1, ${P}m2, ${P}m3`), 'their merged logs');
      tmux.keys('Escape');
      await tmux.waitFor((s) => s.includes('3 marked'), 'back on the list, still marked');
      tmux.type('r');
      await tmux.waitFor((s) => s.includes(`Restart 3 marked containers: local/${P}m1, local/${P}m2, local/${P}m3? y/N`), 'one question naming each');
      tmux.type('y');
      await tmux.waitFor((s) => s.includes(`restarted 3: local/${P}m1, local/${P}m2, local/${P}m3`), 'the outcome', 30_000);
      for (const n of ['m1', 'm2', 'm3']) expect(Date.parse((await d.getContainer(`${P}${n}`).inspect()).State.StartedAt)).toBeGreaterThan(before.get(n) as number);
      expect(Date.parse((await d.getContainer(`${P}m4`).inspect()).State.StartedAt)).toBe(before.get('m4'));
    } finally {
      for (const n of ['m1', 'm2', 'm3', 'm4']) await d.getContainer(`${P}${n}`).remove({ force: true }).catch(() => undefined);
    }
  });

  it('restarts with r, stops and starts with s, removes after confirming', async () => {
    await makeContainer(docker(), { name: `${P}victim`, cmd: 'trap "exit 0" TERM; sleep 3600 & wait' });
    launch();
    await tmux.waitFor((s) => row(s, `${P}victim`) !== '', 'victim listed');
    tmux.type(`/${P}victim`);
    tmux.keys('Enter');
    // Wait a little so its uptime is visibly not zero before the restart.
    await tmux.waitFor((s) => /up [1-9]\d*s/.test(row(s, `${P}victim`)), 'uptime ticking', 20_000);
    tmux.type('r');
    await tmux.waitFor((s) => s.includes(`restarted local/${P}victim`), 'restart outcome');
    await tmux.waitFor((s) => /up [0-2]s/.test(row(s, `${P}victim`)), 'uptime starting again');
    tmux.type('s');
    await tmux.waitFor((s) => /exited \(\d+\)/.test(row(s, `${P}victim`)), 'stopped');
    tmux.type('s');
    await tmux.waitFor((s) => /up \d+s/.test(row(s, `${P}victim`)), 'started again');
    tmux.type('d');
    await tmux.waitFor((s) => s.includes(`Remove local/${P}victim (running: it will be killed)? y/N`), 'confirmation');
    tmux.type('y');
    await tmux.waitFor((s) => s.includes(`removed local/${P}victim`) && row(s, `${P}victim`) === '', 'removed');
    await eventually(async () => !(await docker().listContainers({ all: true })).some((c) => c.Names?.includes(`/${P}victim`)), 5000, 'gone from the engine');
  });

  it('opens a shell, runs a command, and comes back intact', async () => {
    launch();
    await openShellInDb();
    // The banner names the container with its node (several nodes may each run a db).
    expect(tmux.screen()).toContain(`Outpost: shell in local/${P}db (exit to return)`);
    tmux.type('echo answer-$((6*7))');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.includes('answer-42'), 'command output');
    tmux.type('exit');
    tmux.keys('Enter');
    const back = await tmux.waitFor((s) => s.includes(`shell in local/${P}db ended`) && s.includes('STATE'), 'the TUI back');
    expect(back.split('\n')[0]).toMatch(/^Outpost/);
    expect(back).not.toContain('answer-42');
  });

  it('redraws to fit after a resize, and fits 80×24', async () => {
    launch(120, 40);
    await tmux.waitFor((s) => s.includes(`${P}web`), 'the list');
    // Redrawn for 80 columns: the table header is laid out again (narrower name column), drawn
    // once, under one title line, with the status line still on screen.
    const header80 = (s: string) => s.split('\n').filter((l) => /^\s+NAME▲?\s+STATE/.test(l));
    tmux.resize(80, 24);
    const small = await tmux.waitFor((s) => {
      const h = header80(s);
      return h.length === 1 && (h[0] as string).indexOf('STATE') < 30 && s.split('\n')[0]?.startsWith('Outpost') === true && /sort: name/.test(s);
    }, 'an 80-column layout');
    expect(small.split('\n').filter((l) => l.startsWith('Outpost'))).toHaveLength(1);
    expect(small.split('\n').filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(24);
    tmux.resize(150, 45);
    // Wide again: the names fit, so the room goes to the columns that come back (the image, the age).
    await tmux.waitFor((s) => {
      const h = header80(s);
      return h.length === 1 && /IMAGE/.test(h[0] as string) && s.split('\n').filter((l) => l.startsWith('Outpost')).length === 1;
    }, 'the wide layout again');
  });

  it('on a terminal too small for the first frame, with no engine, still opens and says why', async () => {
    // The start file's list request fails while no frame is painted: that must reach the UI's
    // offline screen, not end the process as an unhandled rejection.
    launch(36, 9, '', 'unix:///tmp/op-e2e-nowhere.sock');
    // Wrapped at 36 columns: the reason and its remedy are whole, over several rows.
    const screen = await tmux.waitFor((s) => s.startsWith('Outpost') && /offline \(not reached yet\),\s+retrying/.test(s), 'the offline line');
    expect(screen).not.toContain('Node.js');
    await new Promise((r) => setTimeout(r, 600));
    expect(tmux.screen()).toMatch(/offline \(not reached yet\),\s+retrying/);
    tmux.type('q');
  });

  it('shows escape sequences from a container as text and lets none act', async () => {
    launch();
    await tmux.waitFor((s) => row(s, `${P}evil`) !== '', 'evil listed');
    const titleBefore = tmux.paneTitle();
    tmux.type(`/${P}evil`);
    tmux.keys('Enter');
    tmux.keys('Enter');
    const s = await tmux.waitFor((x) => x.includes('A\\x1b[2J\\x1b]0;pwned\\x07'), 'the inert line');
    expect(s).toContain('\\x1b]52;c;aGFjaw==\\x07B');
    expect(s.split('\n')[0]).toMatch(/^logs /); // the screen was not cleared under us
    expect(tmux.paneTitle()).toBe(titleBefore);
    expect(tmux.paneTitle()).not.toContain('pwned');
  });

  it('stays responsive while a container floods its log, and shows a 1 MB line cut to the screen', async () => {
    await makeContainer(docker(), { name: `${P}flood`, cmd: "head -c 1000000 /dev/zero | tr '\\0' x; echo; i=0; while :; do i=$((i+1)); echo \"flood $i\"; done" });
    launch();
    await tmux.waitFor((s) => row(s, `${P}flood`) !== '', 'flood listed');
    tmux.type(`/${P}flood`);
    tmux.keys('Enter');
    tmux.keys('Enter');
    await tmux.waitFor((s) => /flood \d+/.test(s), 'flood lines');
    tmux.type('t');
    await tmux.waitFor((s) => s.includes('timestamps'), 'the key answered during the flood');
    tmux.type('g');
    const top = await tmux.waitFor((s) => s.includes('paused'), 'paused at the top');
    expect(top.split('\n').every((l) => [...l].length <= 120)).toBe(true);
    tmux.keys('Escape');
    tmux.type('q');
    await tmux.waitFor(() => tmux.dead(), 'exit');
    await docker().getContainer(`${P}flood`).remove({ force: true });
  });

  it('refuses to start without a terminal, with a clear message', () => {
    let out = '';
    let code = 0;
    try {
      execFileSync(process.execPath, [BIN], { env: { DOCKER_HOST: dockerHost(), PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      code = e.status;
      out = e.stderr.toString();
    }
    expect(code).toBe(2);
    expect(out).toMatch(/needs a terminal/);
  });
});

describe('outpost TUI in a real terminal: restarts, redraws, shells, widths', () => {
  it('a following logs view goes on after its container is killed and started, and marks the gap', async () => {
    const c = await makeContainer(docker(), { name: `${P}ticker`, cmd: 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done' });
    launch();
    await tmux.waitFor((s) => row(s, `${P}ticker`) !== '', 'ticker listed');
    tmux.type(`/${P}ticker`);
    tmux.keys('Enter');
    await tmux.waitFor((s) => row(s, `${P}web`) === '', 'filtered');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.startsWith(`logs ${P}ticker`) && /tick [3-9]/.test(s), 'the logs view');
    await c.kill();
    await tmux.waitFor((s) => s.includes('not running, waiting'), 'the header says the container stopped');
    await c.start();
    const after = await tmux.waitFor((s) => {
      const lines = s.split('\n');
      const mark = lines.findIndex((l) => /— container restarted \d\d:\d\d:\d\d —/.test(l));
      return mark > 0 && lines.slice(mark + 1).filter((l) => /^tick \d+/.test(l)).length >= 2;
    }, 'the gap marked and new lines after it');
    expect(after.split('\n')[0]).toContain('following');
    expect(after.split('\n')[0]).not.toContain('waiting');
    tmux.type('q');
    await c.remove({ force: true });
  });

  it('Ctrl-C quits from the logs view too, and the terminal is given back', async () => {
    launch(100, 30);
    await tmux.waitFor((s) => row(s, `${P}web`) !== '', 'the list');
    tmux.type(`/${P}web`);
    tmux.keys('Enter');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.split('\n')[0]?.startsWith('logs') === true, 'the logs view');
    tmux.keys('C-c');
    await eventually(() => tmux.dead(), 5000, 'the TUI to exit on Ctrl-C');
  });

  it('Ctrl-L repaints a garbled screen and stays on the list', async () => {
    launch(100, 30);
    await tmux.waitFor((s) => row(s, `${P}web`) !== '', 'the list');
    const tty = execFileSync('tmux', ['-L', tmux.socket, 'display-message', '-t', tmux.session, '-p', '#{pane_tty}'], { encoding: 'utf8' }).trim();
    // Something else writes on the terminal (a wall message, a background job).
    // On the column titles' row, which no sample changes: only a repaint of everything clears it.
    writeFileSync(tty, '\x1b[3;1HGARBAGE-GARBAGE-GARBAGE');
    await tmux.waitFor((s) => s.includes('GARBAGE-GARBAGE'), 'the garbage on screen');
    tmux.keys('C-l');
    const clean = await tmux.waitFor((s) => !s.includes('GARBAGE'), 'the screen repainted');
    expect(clean.split('\n')[0]).toMatch(/^Outpost/);
    expect(clean.split('\n')[2]).toMatch(/^\s+NAME/);
    // Still the main view (its help, not the logs view's).
    tmux.type('?');
    await tmux.waitFor((s) => s.includes('Keys — main view'), 'the main view\'s help');
  });

  it('says how the shell ended, and after q the terminal shows what was there before, not the shell', async () => {
    launch(100, 30, '', dockerHost(), `sh -c 'echo BEFORE-OUTPOST-MARKER; exec ${process.execPath} ${BIN}'`);
    await openShellInDb();
    tmux.type('echo answer-$((6*7)); exit 3');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.includes(`shell in local/${P}db ended (exit 3)`), 'the exit code');
    tmux.type('q');
    await tmux.waitFor(() => tmux.dead(), 'exit');
    // The main screen and its scrollback: the shell's output must be in neither.
    const after = execFileSync('tmux', ['-L', tmux.socket, 'capture-pane', '-t', tmux.session, '-p', '-S', '-'], { encoding: 'utf8' });
    expect(after).toContain('BEFORE-OUTPOST-MARKER');
    expect(after).not.toContain('answer-42');
    expect(after).not.toContain('Outpost: shell in');
  });

  for (const [cols, rows] of [[30, 10], [45, 15], [80, 24], [200, 60]] as const) {
    it(`fits ${cols}×${rows}: one header with whole counts, whole columns, nothing overlapping`, async () => {
      await makeContainer(docker(), { name: `${P}crash`, cmd: 'exit 3' }).catch(() => undefined);
      launch(cols, rows);
      // Wait for the rules agent's word too: the header is at its longest then.
      const s = await tmux.waitFor((x) => Number(/local \d+\/(\d+)/.exec(x)?.[1] ?? 0) >= 4 && x.includes('NAME') && /agent|✓/.test(x.split('\n')[0] ?? ''), 'the list');
      const lines = s.split('\n');
      // Whole words and whole counts, whatever fits: nothing cut in its middle.
      expect(lines[0]).toMatch(/^(Outpost {2})?[ ]?● local \d+\/\d+ {1,2}(no rules agent|no agent|rules ✓|✓)( {2}\? help {2}q quit)?\s*$/);
      const total = Number(/local \d+\/(\d+)/.exec(lines[0] as string)?.[1]);
      expect(total).toBeGreaterThanOrEqual(4);
      expect(lines.filter((l) => /local \d+\/\d+/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /^\s+NAME/.test(l))).toHaveLength(1);
      expect(lines.every((l) => [...l].length <= cols)).toBe(true);
      tmux.type(`/${P}crash`);
      tmux.keys('Enter');
      const f = await tmux.waitFor((x) => row(x, `${P}crash`) !== '' && row(x, `${P}web`) === '', 'the crashed one alone');
      expect(row(f, `${P}crash`)).toMatch(/exited \(3\) \d+[smhd]( |$)/);
      // The status line is the last line drawn, under everything else (nothing wrapped onto it).
      const drawn = f.split('\n').filter((l) => l.trim() !== '');
      expect(drawn.at(-1)).toMatch(/filter: |sort: /);
      expect(f.split('\n').filter((l) => /^Outpost|local \d+\//.test(l))).toHaveLength(1);
      // Every key of the help can be read at this size (it scrolls; nothing is cut off).
      tmux.type('?');
      let help = await tmux.waitFor((x) => x.includes('Keys — main view'), 'the help');
      const seen = new Set<string>();
      for (let i = 0; i < 80; i++) {
        for (const l of help.split('\n')) seen.add(l.trim());
        if (/^\s+q( \/ Ctrl-C)?\s+quit\s*$/m.test(help) || (/^\s+q( \/ Ctrl-C)?\s*$/m.test(help) && /^\s+quit\s*$/m.test(help))) break;
        const before = help;
        tmux.type('j');
        help = await tmux.waitFor((x) => x !== before, 'the help to scroll');
      }
      const all = [...seen].join('\n');
      for (const k of KEYS.main) expect(all).toContain(k.keys);
      expect(all).toMatch(/quit/);
      tmux.keys('Escape');
      await tmux.waitFor((x) => x.includes('NAME'), 'the list again');
      // The logs view at this size: its state and line count whole, its hints ending with help.
      tmux.keys('Enter');
      const logs = await tmux.waitFor((x) => /following/.test(x.split('\n')[0] ?? '') && !x.includes('NAME'), 'the logs view');
      // (The container has exited: once its backlog is read, the header says it waits for it.)
      const said = await tmux.waitFor((x) => /(e2e-crash not running, waiting|stopped) · /.test(x.split('\n')[0] ?? ''), 'the header to say it stopped');
      expect(said.split('\n')[0]).toMatch(/following · (e2e-crash not running, waiting|stopped) · \d+\/10(000 lines|k)\s*$/);
      expect(logs.split('\n')[0]).toMatch(/following( · [^·]+)? · \d+\/10(000 lines|k)\s*$/);
      expect(logs.split('\n').filter((l) => l.trim() !== '').at(-1)).toMatch(/\? help\s*$/);
      tmux.keys('Escape');
      await tmux.waitFor((x) => x.includes('NAME'), 'the list again');
      tmux.type('q');
      await tmux.waitFor(() => tmux.dead(), 'exit');
    });
  }

  it('`npm start` saves logs with S into the folder it was started from, and says the absolute path', async () => {
    // `npm start` installs when node_modules is not from this lock file; a test must not do that
    // (npm ci under the other tests' feet): `npm test` has run ensure-node-deps.sh just before.
    const stamp = join(process.cwd(), 'node_modules/.outpost-lock.sha256');
    const lock = createHash('sha256').update(readFileSync(join(process.cwd(), 'package-lock.json'))).digest('hex');
    expect(existsSync(stamp) && readFileSync(stamp, 'utf8').trim(), 'node_modules is installed from this package-lock.json (scripts/ensure-node-deps.sh)').toBe(lock);
    const here = mkdtempSync(join(tmpdir(), 'op-npm-start-'));
    const npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
    launch(160, 30, '', dockerHost(), `sh -c 'cd ${here} && exec ${npm} --prefix ${process.cwd()} --silent --no-update-notifier start'`);
    await tmux.waitFor((s) => row(s, `${P}web`) !== '', 'the list through npm start', 120_000);
    tmux.type(`/${P}web`);
    tmux.keys('Enter');
    await tmux.waitFor((s) => row(s, `${P}db`) === '', 'web alone');
    tmux.keys('Enter');
    await tmux.waitFor((s) => /request \d+ ok/.test(s), 'the logs view');
    tmux.type('S');
    const saved = await tmux.waitFor((s) => /saved \d+ lines to /.test(s), 'the saved message');
    expect(saved).toContain(`lines to ${here}/outpost-${P}web-`);
    expect(readdirSync(here).filter((f) => f.startsWith(`outpost-${P}web-`))).toHaveLength(1);
    expect(readdirSync(process.cwd()).filter((f) => f.startsWith(`outpost-${P}web-`))).toHaveLength(0);
    tmux.keys('Escape');
    tmux.type('q');
  }, 180_000);
});
