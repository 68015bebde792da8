import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { LogsScreen } from '../../tui/app/logs-screen.js';
import { useKeys, type KeyHandler } from '../../tui/app/use-keys.js';
import { useRef } from 'react';
import { makeTheme } from '../../tui/app/theme.js';
import { LogSession, type LogEntry } from '../../tui/logs/log-session.js';

const sessions: LogSession[] = [];
afterEach(() => sessions.splice(0).forEach((s) => s.close()));

/** A session with no live source: the test fills its buffer as a container would. */
function sessionWith(lines: Partial<LogEntry>[], names = ['web'], nodes: string[] = []): LogSession {
  // The screen asks a target's node only its name and whether it is this machine (the session does not follow).
  const nodeOf = (i: number) => ({ name: nodes[i] ?? 'local', isThisMachine: (nodes[i] ?? 'local') === 'local' }) as never;
  const s = new LogSession(
    names.map((name, i) => ({ node: nodeOf(i), id: name, name })),
    { capacity: 1000, tail: 0, follow: false },
  );
  sessions.push(s);
  for (const l of lines) s.buffer.push({ source: 0, stream: 'stdout', timestamp: '2024-05-01T10:00:00.000000000Z', text: '', ...l });
  return s;
}

const tick = () => new Promise((r) => setTimeout(r, 30));
const strip = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');

/** The screen behind the same key router the app uses. */
function Routed(props: { session: LogSession; saveDir: string; onBack: () => void; width?: number }) {
  const keys = useRef<KeyHandler | null>(null);
  useKeys((input, key) => keys.current?.(input, key), { isActive: true });
  return <LogsScreen session={props.session} width={props.width ?? 60} height={12} theme={makeTheme({ NO_COLOR: '1' })} keys={keys} saveDir={props.saveDir} onBack={props.onBack} onHelp={() => {}} />;
}

function screen(session: LogSession, saveDir = tmpdir(), width?: number) {
  let back = 0;
  const r = render(<Routed session={session} saveDir={saveDir} onBack={() => back++} width={width} />);
  return { ...r, backs: () => back };
}

describe('LogsScreen', () => {
  it('says the log is being opened before its first lines arrive (a slow link), not an empty screen', async () => {
    const s = sessionWith([]);
    const r = screen(s, tmpdir(), 100);
    await tick();
    expect(strip(r.lastFrame())).toContain('opening the log…');
    s.buffer.push({ source: 0, stream: 'stdout', timestamp: '2024-05-01T10:00:00.000000000Z', text: 'first' });
    r.unmount();
  });

  it('shows the newest lines, following, and escape sequences inert', async () => {
    const s = sessionWith([{ text: 'first' }, { text: 'evil \x1b[2J\x1b]0;title\x07 end' }, { text: 'last', stream: 'stderr' }]);
    const r = screen(s);
    await tick();
    const frame = strip(r.lastFrame());
    expect(frame).toContain('following');
    expect(frame).toContain('evil \\x1b[2J\\x1b]0;title\\x07 end');
    expect(frame.indexOf('first')).toBeLessThan(frame.indexOf('last'));
    expect(r.lastFrame()).not.toMatch(/\x1b\[2J|\x1b\]0;/);
  });

  it('searches with highlight, jumps with n, and filters with context', async () => {
    const s = sessionWith(['a', 'b', 'ERROR one', 'c', 'd', 'e', 'f', 'error two', 'g'].map((text) => ({ text })));
    const r = screen(s);
    await tick();
    r.stdin.write('/');
    await tick();
    r.stdin.write('error');
    await tick();
    r.stdin.write('\r');
    await tick();
    // (Highlight segments are unit-tested; frames here carry no colour codes.)
    expect(strip(r.lastFrame())).toContain('search: error');
    r.stdin.write('F');
    await tick();
    let body = strip(r.lastFrame()).split('\n').slice(1, -1).filter((l) => l.trim() !== '');
    expect(body).toEqual(['ERROR one', 'error two']);
    r.stdin.write('+');
    await tick();
    body = strip(r.lastFrame()).split('\n').slice(1, -1).filter((l) => l.trim() !== '');
    expect(body).toEqual(['b', 'ERROR one', 'c', 'f', 'error two', 'g']);
    expect(strip(r.lastFrame())).toContain('filter ±1');
    // Every match is on screen: n moves the mark (2 of 2), not the view.
    r.stdin.write('n');
    await tick();
    expect(strip(r.lastFrame())).toContain('2/2');
  });

  it('reports a broken regex instead of failing', async () => {
    const r = screen(sessionWith([{ text: 'x' }]));
    await tick();
    r.stdin.write('/');
    await tick();
    r.stdin.write('/(oops/');
    await tick();
    r.stdin.write('\r');
    await tick();
    expect(strip(r.lastFrame())).toMatch(/Not a valid regular expression/);
  });

  it('pauses and scrolls, G follows again, t shows timestamps, q goes back', async () => {
    const s = sessionWith(Array.from({ length: 50 }, (_, i) => ({ text: `line ${i}` })));
    const r = screen(s);
    await tick();
    expect(strip(r.lastFrame())).toContain('line 49');
    r.stdin.write('kkk');
    await tick();
    expect(strip(r.lastFrame())).toContain('paused (3 newer)');
    expect(strip(r.lastFrame())).not.toContain('line 49');
    // New lines do not move a paused view; the count of newer ones grows.
    const before = strip(r.lastFrame()).split('\n').slice(1, -1).join('\n');
    s.buffer.push({ source: 0, stream: 'stdout', timestamp: '', text: 'line 50' });
    r.stdin.write('t'); // any redraw
    await tick();
    expect(strip(r.lastFrame())).toContain('paused (4 newer)');
    r.stdin.write('t');
    await tick();
    expect(strip(r.lastFrame()).split('\n').slice(1, -1).join('\n')).toBe(before);
    r.stdin.write('G');
    await tick();
    expect(strip(r.lastFrame())).toContain('line 50');
    r.stdin.write('t');
    await tick();
    expect(strip(r.lastFrame())).toContain('2024-05-01T10:00:00.000 line 49');
    expect(strip(r.lastFrame())).toContain('line 50');
    r.stdin.write('q');
    await tick();
    expect(r.backs()).toBe(1);
  });

  it('keeps a 1 MB line on one row unless wrap is on', async () => {
    const r = screen(sessionWith([{ text: 'x'.repeat(1_000_000) }, { text: 'after' }]));
    await tick();
    const rows = strip(r.lastFrame()).split('\n');
    expect(rows.every((l) => l.length <= 60)).toBe(true);
    expect(rows.some((l) => l.includes('after'))).toBe(true);
    r.stdin.write('w');
    await tick();
    const wrapped = strip(r.lastFrame()).split('\n');
    expect(wrapped.filter((l) => /^x+$/.test(l.trim())).length).toBeGreaterThan(5);
  });

  it('saves the buffer to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-save-'));
    const r = screen(sessionWith([{ text: 'one' }, { text: 'two', stream: 'stderr' }]), dir);
    await tick();
    r.stdin.write('S');
    await tick();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    // As shown (timestamps off); a file has no colour, so the stderr line keeps its `!` mark.
    expect(readFileSync(join(dir, files[0] as string), 'utf8')).toBe('one\n! two\n');
    expect(strip(r.lastFrame())).toContain('saved 2 lines');
  });

  it('S saves what is shown: the filtered lines, timestamps as shown, and says how many and where', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-save-'));
    const r = screen(sessionWith(['a', 'ERROR one', 'b', 'error two', 'c'].map((text) => ({ text }))), dir);
    await tick();
    for (const k of ['/', 'error', '\r', 'F', 'S']) {
      r.stdin.write(k);
      await tick();
    }
    let files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(readFileSync(join(dir, files[0] as string), 'utf8')).toBe('ERROR one\nerror two\n');
    expect(strip(r.lastFrame()).replace(/\n/g, '')).toContain(`saved 2 lines (filtered) to ${dir}/`);
    await new Promise((res) => setTimeout(res, 5));
    r.stdin.write('t');
    await tick();
    r.stdin.write('S');
    await tick();
    files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(readFileSync(join(dir, files[1] as string), 'utf8')).toBe('2024-05-01T10:00:00.000 ERROR one\n2024-05-01T10:00:00.000 error two\n');
  });

  it('pads merged names to the longest, on screen and in the saved file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-save-'));
    const s = sessionWith([], ['api', 'logger']);
    s.buffer.push({ source: 0, stream: 'stdout', timestamp: '2024-05-01T10:00:00.000000000Z', text: 'from api' });
    s.buffer.push({ source: 1, stream: 'stdout', timestamp: '2024-05-01T10:00:01.000000000Z', text: 'from logger' });
    const r = screen(s, dir);
    await tick();
    const frame = strip(r.lastFrame());
    expect(frame).toContain('api    │ from api');
    expect(frame).toContain('logger │ from logger');
    r.stdin.write('S');
    await tick();
    const files = readdirSync(dir);
    expect(readFileSync(join(dir, files[0] as string), 'utf8')).toBe('api    │ from api\nlogger │ from logger\n');
  });

  it('a merge across nodes names each line\'s node (two nodes may each have a `web`), on screen and in the saved file\'s name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-save-'));
    const s = sessionWith([], ['web', 'web'], ['local', 'gw-2']);
    s.buffer.push({ source: 0, stream: 'stdout', timestamp: '2024-05-01T10:00:00.000000000Z', text: 'here' });
    s.buffer.push({ source: 1, stream: 'stdout', timestamp: '2024-05-01T10:00:01.000000000Z', text: 'there' });
    const r = screen(s, dir, 120);
    await tick();
    const frame = strip(r.lastFrame());
    expect(frame).toContain('local/web │ here');
    expect(frame).toContain('gw-2/web  │ there');
    expect(frame.split('\n')[0]).toContain('local/web, gw-2/web');
    r.stdin.write('S');
    await tick();
    expect(readdirSync(dir)[0]).toMatch(/^outpost-local_web\+gw-2_web-/);
    // One peer's container alone: named with its node too.
    const one = screen(sessionWith([{ text: 'x' }], ['db'], ['gw-2']), dir, 120);
    await tick();
    expect(strip(one.lastFrame()).split('\n')[0]).toContain('gw-2/db');
  });

  it('a saveDir that does not exist is said plainly, with where it is set', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'op-save-')), 'nope');
    const r = screen(sessionWith([{ text: 'one' }]), dir, 80);
    await tick();
    r.stdin.write('S');
    await tick();
    expect(strip(r.lastFrame()).split('\n').at(-1)).toBe(`cannot save to ${dir}: no such directory (saveDir in tui.json)`);
    // Narrower, the folder is cut from its start: the reason and where it is set are kept.
    const narrow = screen(sessionWith([{ text: 'one' }]), join(dir, 'deeper'), 70);
    await tick();
    narrow.stdin.write('S');
    await tick();
    expect(strip(narrow.lastFrame()).split('\n').at(-1)).toMatch(/^cannot save to …[^ ]*\/nope\/deeper: no such directory \(saveDir in tui\.json\)$/);
  });
});

describe('LogsScreen search prompt', () => {
  it('Esc closes the prompt (dropping what was typed) and stays in the view; a second Esc backs out', async () => {
    const s = sessionWith(['a', 'ERROR one', 'b'].map((text) => ({ text })));
    const r = screen(s);
    await tick();
    r.stdin.write('/');
    await tick();
    r.stdin.write('err');
    await tick();
    expect(strip(r.lastFrame())).toContain('/err');
    r.stdin.write('\x1b');
    await tick();
    expect(r.backs()).toBe(0);
    const frame = strip(r.lastFrame());
    expect(frame).not.toContain('/err');
    expect(frame).not.toContain('search: err');
    expect(frame).toContain('? help');
    r.stdin.write('\x1b');
    await tick();
    expect(r.backs()).toBe(1);
  });
});

describe('LogsScreen search, top and save', () => {
  it('counts the matches, and the first Enter goes to the first one', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => ({ text: i % 20 === 3 ? `needle ${i}` : `hay ${i}` }));
    const r = screen(sessionWith(lines));
    await tick();
    r.stdin.write('/');
    await tick();
    r.stdin.write('needle');
    await tick();
    r.stdin.write('\r');
    await tick();
    let frame = strip(r.lastFrame());
    expect(frame).toContain('1/3');
    expect(frame).toContain('needle 3');
    expect(frame).toContain('paused');
    r.stdin.write('n');
    await tick();
    frame = strip(r.lastFrame());
    expect(frame).toContain('2/3');
    expect(frame).toContain('needle 23');
    r.stdin.write('N');
    await tick();
    r.stdin.write('N');
    await tick();
    expect(strip(r.lastFrame())).toContain('3/3');
    // A hostile query is shown inert, and a query without matches says so.
    r.stdin.write('/');
    await tick();
    r.stdin.write('\x15'); // ctrl-u clears
    await tick();
    r.stdin.write('zz\x07\x08');
    await tick();
    r.stdin.write('\r');
    await tick();
    expect(strip(r.lastFrame())).toMatch(/no match for zz|0 matches/);
  });

  it('g in wrap mode reaches the first line, from its beginning', async () => {
    const r = screen(sessionWith([{ text: `FIRST${'y'.repeat(400)}` }, ...Array.from({ length: 30 }, (_, i) => ({ text: `${'z'.repeat(100)} ${i}` }))]));
    await tick();
    r.stdin.write('w');
    await tick();
    r.stdin.write('g');
    await tick();
    const body = strip(r.lastFrame()).split('\n').slice(1, -1);
    expect(body[0]).toMatch(/^FIRSTy+/);
    r.stdin.write('j');
    await tick();
    expect(strip(r.lastFrame()).split('\n')[1]).toMatch(/^z+/);
    r.stdin.write('k');
    await tick();
    expect(strip(r.lastFrame()).split('\n')[1]).toMatch(/^FIRST/);
  });

  it('S saves the text as shown (escapes inert) where the person started, and prints the absolute path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-start-'));
    const saved = process.env.OUTPOST_START_DIR;
    process.env.OUTPOST_START_DIR = dir;
    try {
      const r = screen(sessionWith([{ text: 'red \x1b[31mtext\x1b[0m \x1b]0;title\x07' }]), '.');
      await tick();
      r.stdin.write('S');
      await tick();
      const files = readdirSync(dir);
      expect(files).toHaveLength(1);
      const body = readFileSync(join(dir, files[0] as string), 'utf8');
      expect(body).not.toMatch(/\x1b/);
      expect(body).toContain('red \\x1b[31mtext\\x1b[0m \\x1b]0;title\\x07');
      expect(strip(r.lastFrame()).replace(/\n/g, '')).toContain(`saved 1 line to ${dir}/`);
    } finally {
      if (saved === undefined) delete process.env.OUTPOST_START_DIR;
      else process.env.OUTPOST_START_DIR = saved;
    }
  });
});
