import { describe, expect, it } from 'vitest';
import { inert } from '../../tui/presentation/inert.js';
import { fitHints, logsHeader } from '../../tui/app/logs-screen.js';
import { summaryFromInspect } from '../../core/docker/mapping.js';
import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { keysFor, parsePalette } from '../../tui/app/keymap.js';
import { validatePrefs, DEFAULT_PREFS, loadPrefs } from '../../tui/app/prefs.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingBuffer } from '../../tui/logs/ring-buffer.js';
import { compileSearch, filterWithContext, highlight, nextMatch } from '../../tui/logs/search.js';
import { containerLine, headerLine, layoutColumns, layoutFor, listPercent } from '../../tui/presentation/container-line.js';
import { filterContainers, groupLine, listRows, sortContainers, windowTop } from '../../tui/presentation/container-list.js';
import { frameSize, headerPieces, mainHeights, mainHints } from '../../tui/presentation/main-layout.js';
import { listState } from '../../tui/presentation/container-row.js';
import { wrapText } from '../../tui/presentation/format.js';
import { agentMarks, entryDetail, wrapEntry } from '../../tui/app/rules-panel.js';
import { History, sparkline } from '../../tui/presentation/sparkline.js';

function c(name: string, extra: Partial<ContainerSummary> = {}): ContainerSummary {
  return { ...summaryFromInspect({ Id: `${name}-id`, Name: `/${name}`, State: { Status: 'running', StartedAt: '2024-01-01T00:00:00Z' }, Config: { Image: 'busybox' } }, 'local', 0), ...extra };
}

describe('sparkline', () => {
  it('scales to a fixed max and pads on the left', () => {
    expect(sparkline([0, 50, 100, 1], 6, 100)).toBe('  ▁▄█▁');
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 4, 8)).toBe('▅▆▇█');
    expect(sparkline([0.6, 0.6, 0.3], 3, 100)).toBe('▁▁▁');
    expect(sparkline([150, 50], 2, 100)).toBe('█▄');
    expect(sparkline([], 3, 100)).toBe('   ');
    expect(sparkline([NaN, -1, Infinity], 3, 100)).toBe('▁▁▁');
  });
  it('keeps a bounded history', () => {
    const h = new History(3);
    for (let i = 0; i < 10; i++) h.push(i);
    expect(h.values()).toEqual([7, 8, 9]);
  });
});

describe('RingBuffer', () => {
  it('drops the oldest once full and numbers everything pushed', () => {
    const r = new RingBuffer<number>(3);
    for (let i = 0; i < 5; i++) r.push(i);
    expect(r.slice()).toEqual([2, 3, 4]);
    expect(r.size).toBe(3);
    expect(r.pushed).toBe(5);
    expect(r.firstSeq).toBe(2);
    expect(r.at(0)).toBe(2);
    expect(r.at(3)).toBeUndefined();
    r.clear();
    expect(r.size).toBe(0);
  });
  it('stays at its capacity under a million pushes', () => {
    const r = new RingBuffer<string>(1000);
    for (let i = 0; i < 1_000_000; i++) r.push('x');
    expect(r.size).toBe(1000);
  });
  it('rejects a nonsense capacity', () => {
    expect(() => new RingBuffer(0)).toThrow(/positive whole number/);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});

describe('log search', () => {
  it('treats plain text as a case-insensitive literal and /x/ as a regex', () => {
    expect(compileSearch('a.b')?.test('A.B')).toBe(true);
    expect(compileSearch('a.b')?.test('axb')).toBe(false);
    expect(compileSearch('/err(or)?\\d/')?.source).toBe('err(or)?\\d');
    expect(compileSearch('  ')).toBeNull();
  });
  it('reports a broken regex instead of throwing something obscure', () => {
    expect(() => compileSearch('/(unclosed/')).toThrow(/Not a valid regular expression/);
  });
  it('highlights every match, skipping empty ones', () => {
    expect(highlight('an error and ERROR', compileSearch('error'))).toEqual([
      { text: 'an ', match: false },
      { text: 'error', match: true },
      { text: ' and ', match: false },
      { text: 'ERROR', match: true },
    ]);
    expect(highlight('abc', compileSearch('/x*/'))).toEqual([{ text: 'abc', match: false }]);
  });
  it('filters with context like grep -C and finds next/previous matches with wrap-around', () => {
    const lines = ['a', 'b', 'ERR', 'c', 'd', 'e', 'ERR', 'f'];
    const re = compileSearch('err') as RegExp;
    expect(filterWithContext(lines, re, 0)).toEqual([2, 6]);
    expect(filterWithContext(lines, re, 1)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(filterWithContext(lines, re, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(nextMatch(lines, re, 2, 1)).toBe(6);
    expect(nextMatch(lines, re, 6, 1)).toBe(2);
    expect(nextMatch(lines, re, 2, -1)).toBe(6);
    expect(nextMatch(['x'], re, 0, 1)).toBe(-1);
  });
});

describe('container list', () => {
  const list = [c('web', { composeProject: 'shop' }), c('db', { composeProject: 'shop', state: 'exited', exitCode: 1 }), c('solo'), c('cache', { composeProject: 'aux' })];
  it('groups by compose project, projects sorted, loose containers last', () => {
    const rows = listRows(list);
    // Containers of no project have a heading of their own: not drawn as members of the last project.
    expect(rows.map((r) => (r.kind === 'group' ? `[${r.loose ? '-' : r.project} ${r.running}/${r.count}]` : r.container.name))).toEqual(['[aux 1/1]', 'cache', '[shop 1/2]', 'web', 'db', '[- 1/1]', 'solo']);
    const loose = rows.at(-2);
    expect(loose?.kind === 'group' && groupLine(loose, (p) => p)).toBe('▾ no compose project  1/1 running');
    // With no project at all, no heading and no indent.
    const flat = listRows(list.filter((c) => !c.composeProject));
    expect(flat.every((r) => r.kind === 'container' && !r.grouped)).toBe(true);
  });
  it('filters by substring or regex, and a half-typed regex hides nothing', () => {
    expect(filterContainers(list, 'shop').map((x) => x.name)).toEqual(['web', 'db']);
    expect(filterContainers(list, '/^(web|solo)$/').map((x) => x.name)).toEqual(['web', 'solo']);
    expect(filterContainers(list, '/(').length).toBe(4);
    expect(filterContainers(list, '/^we').map((x) => x.name)).toEqual(['web']);
    expect(filterContainers(list, 'exited').map((x) => x.name)).toEqual(['db']);
  });
  it('sorts by state (trouble first) and by cpu', () => {
    const stats = new Map<string, ContainerStats>([['web-id', { cpuPercent: 5 } as ContainerStats], ['solo-id', { cpuPercent: 50 } as ContainerStats]]);
    expect(sortContainers(list, 'state', stats)[0]?.name).toBe('db');
    expect(sortContainers(list, 'cpu', stats).map((x) => x.name).slice(0, 2)).toEqual(['solo', 'web']);
  });
  it('keeps the selection inside the window, moving it as little as possible', () => {
    expect(windowTop(0, 10, 5, 0)).toBe(0);
    expect(windowTop(15, 10, 100, 0)).toBe(6);
    expect(windowTop(12, 10, 100, 6)).toBe(6);
    expect(windowTop(3, 10, 100, 6)).toBe(3);
    expect(windowTop(99, 10, 100, 0)).toBe(90);
  });
  it('lays rows out to the terminal width, dropping the image below 70 columns', () => {
    for (const width of [40, 80, 120, 200]) {
      expect(headerLine(width).length).toBeLessThanOrEqual(width);
      expect(containerLine(list[0] as ContainerSummary, undefined, 1000, width, { marked: true, indent: true }).length).toBeLessThanOrEqual(width);
    }
    expect(layoutColumns(60).image).toBe(0);
    expect([0, 0.04, 0.9, 1.4, 99.6, 250].map(listPercent)).toEqual(['0%', '<1%', '<1%', '1%', '100%', '250%']);
    expect(layoutColumns(120).image).toBeGreaterThan(0);
    expect(containerLine(c('evil\x1b[2Jname'), undefined, 0, 120, { marked: false, indent: false })).toContain('evil\\x1b[2Jname');
  });
});

describe('keys and palette', () => {
  it('hides every mutating key in read-only mode', () => {
    const all = keysFor('main', false).map((k) => k.keys);
    const ro = keysFor('main', true).map((k) => k.keys);
    for (const k of ['r', 's', 'K', 'd', 'e', 'p']) {
      expect(all).toContain(k);
      expect(ro).not.toContain(k);
    }
  });
  it('parses palette commands and rejects unknown ones with the list', () => {
    expect(parsePalette('restart web')).toEqual({ kind: 'action', action: 'restart', target: 'web' });
    expect(parsePalette('rm')).toEqual({ kind: 'action', action: 'remove', target: null });
    expect(parsePalette('logs  db ')).toEqual({ kind: 'logs', target: 'db' });
    expect(parsePalette('q')).toEqual({ kind: 'quit' });
    expect(parsePalette('journal')).toEqual({ kind: 'journal' });
    expect(parsePalette('rules')).toEqual({ kind: 'journal' });
    expect(parsePalette('node')).toMatchObject({ kind: 'error' });
    expect(parsePalette('frob')).toMatchObject({ kind: 'error', message: expect.stringContaining('unknown command `frob`') });
  });
});

describe('journal lines', () => {
  it('formats each kind with its time, and keeps hostile reasons inert', async () => {
    const { entryLine, entryColor, agentLine } = await import('../../tui/app/rules-panel.js');
    const base = { seq: 1, ts: new Date(2026, 0, 2, 3, 4, 5).getTime(), node: 'local', reason: 'restarted web\x1b]0;pwned\x07' };
    expect(entryLine({ ...base, kind: 'act' })).toBe('01-02 03:04:05 act     restarted web\\x1b]0;pwned\\x07');
    expect(entryLine({ ...base, kind: 'outcome', ok: false })).toMatch(/^01-02 03:04:05 FAILED {2}/);
    expect(entryColor({ ...base, kind: 'give-up' })).toBe('bad');
    expect(entryColor({ ...base, kind: 'outcome', ok: true })).toBe('muted');
    expect(agentLine({ running: false, record: null, reason: 'gone' }, 'gw-2', false).text).toContain('no agent enforces rules on gw-2: gone — start one there with `outpost agent`');
  });
});

describe('preferences', () => {
  it('merges valid values over the defaults', () => {
    expect(validatePrefs({ logBufferLines: 500 }).prefs).toEqual({ ...DEFAULT_PREFS, logBufferLines: 500 });
    expect(validatePrefs(undefined)).toEqual({ prefs: DEFAULT_PREFS, problems: [] });
  });
  it('names each bad value and keeps the default for it', () => {
    const { prefs, problems } = validatePrefs({ logBufferLines: -5, statsIntervalMs: 'fast', colour: 'pink', saveDir: '' });
    expect(prefs).toEqual(DEFAULT_PREFS);
    expect(problems).toEqual([
      '`logBufferLines` must be a whole number from 100 to 1000000, got -5',
      '`statsIntervalMs` must be a whole number from 500 to 60000, got "fast"',
      'unknown preference `colour` (known: logBufferLines, statsIntervalMs, hostIntervalMs, saveDir, confirmKill)',
      '`saveDir` must be a directory path, got ""',
    ]);
    expect(validatePrefs([1, 2]).problems).toEqual(['preferences must be a JSON object']);
    // K asks unless the file turns the question off; anything but a boolean is named.
    expect(DEFAULT_PREFS.confirmKill).toBe(true);
    expect(validatePrefs({ confirmKill: false }).prefs.confirmKill).toBe(false);
    expect(validatePrefs({ confirmKill: 'no' })).toEqual({ prefs: DEFAULT_PREFS, problems: ['`confirmKill` must be true or false, got "no"'] });
  });
  it('reads the store, and reports a broken file without touching it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-prefs-'));
    writeFileSync(join(dir, 'tui.json'), JSON.stringify({ logBufferLines: 2000, statsIntervalMs: 5 }));
    const ok = await loadPrefs(dir);
    expect(ok.prefs.logBufferLines).toBe(2000);
    expect(ok.prefs.statsIntervalMs).toBe(DEFAULT_PREFS.statsIntervalMs);
    expect(ok.problems).toEqual([`${join(dir, 'tui.json')}: \`statsIntervalMs\` must be a whole number from 500 to 60000, got 5`]);

    const broken = '{"logBufferLines": 20';
    writeFileSync(join(dir, 'tui.json'), broken);
    const bad = await loadPrefs(dir);
    expect(bad.prefs).toEqual(DEFAULT_PREFS);
    expect(bad.problems[0]).toMatch(/cannot read .*tui\.json/);
    expect(readFileSync(join(dir, 'tui.json'), 'utf8')).toBe(broken);
  });
});

describe('what each width shows (30, 45, 80, 200 columns)', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  const crashed = c('crashed-with-a-long-name', { state: 'exited', exitCode: 137, finishedAt: now - 61_000, restartCount: 2, health: 'unhealthy' });
  it('keeps whole columns, never cut in their middle; the state is never cut', () => {
    const cols = (w: number) => layoutColumns(w).cols.map((x) => x.title);
    expect(cols(30)).toEqual(['STATE']);
    expect(cols(45)).toEqual(['STATE', 'HEALTH', 'RST']);
    expect(cols(80)).toEqual(['STATE', 'HEALTH', 'RST', 'CPU', 'MEM']);
    // The image only when it fits whole beside the whole name.
    expect(layoutColumns(80, { name: 12, image: 11, ports: 0 }).image).toBe(11);
    expect(layoutColumns(80, { name: 24, image: 24, ports: 0 }).image).toBe(0);
    expect(layoutColumns(45).image).toBe(0);
    for (const w of [30, 45, 80, 200]) {
      const line = containerLine(crashed, undefined, now, w, { marked: false, indent: true });
      expect(line.length).toBeLessThanOrEqual(w);
      expect(line).toContain('exited (137) 1m');
      expect(headerLine(w).length).toBeLessThanOrEqual(w);
    }
    expect(listState(crashed, now)).toBe('exited (137) 1m');
    expect(listState({ ...crashed, oomKilled: true }, now)).toBe('OOM-killed 1m');
    for (const s of [listState(crashed, now), listState({ ...crashed, exitCode: 255, finishedAt: now - 47 * 3600_000 }, now), listState(crashed, now, true)]) expect(s.length).toBeLessThanOrEqual(16);
  });
  it('marks the sort column, counts the agent restarts in RST and marks a give-up', () => {
    expect(headerLine(80, 'name')).toMatch(/^ {2}NAME▲/);
    expect(headerLine(80, 'cpu')).toContain('CPU▼');
    expect(headerLine(80, 'memory')).toContain('MEM▼');
    expect(headerLine(80, 'state')).toContain('STATE▲');
    expect(headerLine(80, 'uptime')).toContain('UPTIME▲');
    expect(headerLine(80, 'cpu')).not.toContain('NAME▲');
    const line = containerLine(crashed, undefined, now, 80, { marked: false, indent: false, agent: { restarts: 3, gaveUp: true } });
    expect(line).toMatch(/gave up \(137\) 1m/);
    expect(line).toMatch(/\s5\s/); // 2 by the engine + 3 by the agent
    const entries = [
      { seq: 1, ts: now - 5000, node: 'local', kind: 'act', container: crashed.name, containerId: crashed.id, action: { kind: 'restart' }, reason: 'r1' },
      { seq: 2, ts: now - 4000, node: 'local', kind: 'act', container: crashed.name, containerId: 'an-earlier-one', action: { kind: 'restart' }, reason: 'old' },
      { seq: 3, ts: now - 3000, node: 'local', kind: 'give-up', container: crashed.name, containerId: crashed.id, reason: 'gave up' },
      { seq: 4, ts: now - 3000, node: 'local', kind: 'give-up', container: 'other', reason: 'gave up' },
    ] as Parameters<typeof agentMarks>[0];
    expect(agentMarks(entries, [crashed]).get(crashed.id)).toEqual({ restarts: 1, gaveUp: true });
    const reset = [...entries, { seq: 5, ts: now, node: 'local', kind: 'reset', container: crashed.name, reason: 'reset' }] as Parameters<typeof agentMarks>[0];
    expect(agentMarks(reset, [crashed]).get(crashed.id)).toEqual({ restarts: 1, gaveUp: false });
    expect(entryDetail(entries[0] as never).join('\n')).toMatch(/action: +\{"kind":"restart"\}/);
  });
  it('fits the header: counts are never cut, the key reminder goes first', () => {
    const text = (w: number, extra: Partial<Parameters<typeof headerPieces>[0]> = {}) =>
      headerPieces({ nodes: [{ name: 'local', state: 'online', running: 7, total: 10 }], nodeIndex: 0, readOnly: false, rulesAgent: false, width: w, ...extra })
        .map((p) => p.text)
        .join('');
    expect(text(200)).toBe('Outpost  ● local 7/10  no rules agent  ? help  q quit');
    expect(text(45)).toContain('local 7/10');
    expect(text(45).length).toBeLessThanOrEqual(45);
    expect(text(30)).toContain('local 7/10');
    expect(text(30).length).toBeLessThanOrEqual(30);
    expect(text(16, { nodes: [{ name: 'a-very-long-node-name', state: 'online', running: 7, total: 10 }] })).toMatch(/… 7\/10 $/);
  });
  it('never makes a frame wider or taller than the terminal, and drops the detail pane below 9 rows', () => {
    expect(frameSize(30, 10)).toEqual({ width: 30, height: 9 });
    expect(frameSize(200, 60)).toEqual({ width: 200, height: 59 });
    const small = mainHeights(frameSize(30, 10).height);
    expect(3 + small.tableHeight + small.detailHeight).toBeLessThanOrEqual(9);
    expect(mainHeights(6)).toEqual({ tableHeight: 3, detailHeight: 0 });
  });
  it('wraps text without losing any of it', () => {
    const t = 'problem one is quite long and goes on; a-word-longer-than-the-width-itself here';
    const lines = wrapText(t, 20);
    expect(lines.every((l) => l.length <= 20)).toBe(true);
    expect(lines.join(' ').replace(/\s+/g, '')).toBe(t.replace(/\s+/g, ''));
    expect(wrapText('a\nb', 10)).toEqual(['a', 'b']);
    expect(wrapText('act     kept spaces', 80)).toEqual(['act     kept spaces']);
    expect(wrapText('', 5)).toEqual(['']);
  });
});

describe('key hints', () => {
  it('fit the width and keep `? help` last', () => {
    for (const w of [30, 45, 80, 200]) {
      const h = mainHints(false, w, 'sort: name  ');
      expect(h.length).toBeLessThanOrEqual(w);
      expect(h.endsWith('? help')).toBe(true);
    }
    expect(mainHints(false, 200, 'sort: name  ')).toBe('sort: name  enter logs  r restart  s stop/start  d remove  e shell  / filter  : palette  ? help');
    expect(mainHints(true, 200)).not.toMatch(/restart|remove|shell/);
  });
});

describe('journal lines', () => {
  it('wrap under their reason, every word kept', () => {
    const e = { seq: 1, ts: Date.parse('2024-05-01T10:00:00Z'), node: 'local', kind: 'give-up', reason: 'gave up on flaky: exited with code 1; 2 restarts within 10m already (budget 2/10m)' } as Parameters<typeof wrapEntry>[0];
    const rows = wrapEntry(e, 50);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.every((r) => r.length <= 50)).toBe(true);
    expect(rows.slice(1).every((r) => r.startsWith(' '.repeat(23)))).toBe(true);
    expect(rows.join(' ').replace(/\s+/g, ' ')).toContain('2 restarts within 10m already (budget 2/10m)');
  });
});

describe('logs view header and hints', () => {
  const o = { state: 'following', trouble: null, modes: ['timestamps', 'wrap'], size: 197, capacity: 10_000, received: null };
  const text = (h: ReturnType<typeof logsHeader>) => `${h.title}${h.names}${h.status}`;
  it('keep the state and the count whole at every width', () => {
    expect(text(logsHeader('chatty', 200, o))).toBe('logs chatty  following · timestamps · wrap · 197/10000 lines');
    for (const w of [30, 45, 80]) {
      const t = text(logsHeader('chatty', w, o));
      expect(t.length).toBeLessThanOrEqual(w);
      expect(t).toContain('following');
      expect(t).toMatch(/ 197\/10(000 lines|k)$/);
    }
    const stopped = text(logsHeader('web, db, cache', 45, { ...o, trouble: 'web not running, waiting', troubleShort: 'web stopped' }));
    expect(stopped).toMatch(/web (not running, waiting|stopped)/);
    expect(stopped.length).toBeLessThanOrEqual(45);
  });
  it('hints keep the last one (help, back) whatever the width', () => {
    expect(fitHints('', ['f follow/pause', '/ search', '? help'], 22)).toBe('f follow/pause  ? help');
    expect(fitHints('', ['f follow/pause', '/ search', '? help'], 21)).toBe('? help');
    expect(fitHints('search: x  1/3  ', ['n/N next/prev', 'esc back'], 30)).toBe('search: x  1/3  esc back');
  });
});

describe('hostile text from labels on the list', () => {
  it('a compose project label with escape sequences is shown inert in its heading', () => {
    const rows = listRows([c('a', { composeProject: 'evil\x1b[2J\x1b]0;t\x07' }), c('b')]);
    const heading = rows[0];
    const text = heading?.kind === 'group' ? groupLine(heading, inert) : '';
    expect(text).toBe('▾ evil\\x1b[2J\\x1b]0;t\\x07  1/1 running');
    expect(text).not.toMatch(/\x1b/);
  });
});

describe('the empty list of a node that does not answer', () => {
  it('says the node is unreachable and when it was last seen, not that it has no containers', async () => {
    const { emptyListText } = await import('../../tui/app/main-view.js');
    const off = { state: 'offline' as const, since: 1_000, reason: 'ECONNREFUSED', retryInMs: 1000 };
    expect(emptyListText([off], '', 91_000, 'gw-2')).toBe('gw-2 is unreachable (last seen 90s ago): its containers are not known');
    expect(emptyListText([off], 'db', 91_000, 'gw-2')).toMatch(/^gw-2 is unreachable/);
    expect(emptyListText([off, off], '', 91_000, null)).toBe('no node is reachable (last seen 90s ago): their containers are not known');
    // A node that never answered has no "last seen" (it said "last seen 0s ago" at start-up).
    const never = { ...off, neverReached: true };
    expect(emptyListText([never], '', 91_000, 'gw-2')).toBe('gw-2 is unreachable (not reached yet, trying for 90s): its containers are not known');
    expect(emptyListText([never, off], '', 91_000, null)).toBe('no node is reachable (last seen 90s ago): their containers are not known');
    expect(emptyListText([{ state: 'online', since: 0 }], '', 0, 'local')).toBe('no containers on this node');
    expect(emptyListText([{ state: 'connecting' }], '', 0, 'local')).toBe('connecting to the engine…');
  });
});

describe('outpost info values', () => {
  it('prints labels and lists as text, never [object Object]', async () => {
    const { infoValue } = await import('../../tui/cli/program.js');
    expect(infoValue({ zone: 'line-2', gpu: 'yes' })).toBe('zone=line-2, gpu=yes');
    expect(infoValue({})).toBe('-');
    expect(infoValue(null)).toBe('-');
    expect(infoValue(['a', 'b'])).toBe('a, b');
    expect(infoValue(4)).toBe('4');
    expect(infoValue({ nested: { a: 1 } })).toBe('nested=a=1');
  });
});

describe('actions on marked containers, said with their nodes', () => {
  const on = (name: string, node: string, state: ContainerSummary['state'] = 'running') => ({ ...c(name), node, state });
  it('asks once, naming each target node/name; one container as before', async () => {
    const { confirmQuestion } = await import('../../tui/presentation/container-ref.js');
    expect(confirmQuestion('restart', [on('a', 'local'), on('b', 'local'), on('web', 'gw-2')], true)).toBe('Restart 3 marked containers: local/a, local/b, gw-2/web? y/N');
    expect(confirmQuestion('remove', [on('a', 'local'), on('b', 'gw-2', 'exited')], true)).toBe('Remove 2 marked containers (1 running: killed first): local/a, gw-2/b? y/N');
    expect(confirmQuestion('kill', [on('web', 'gw-2')], false)).toBe('Kill gw-2/web (SIGKILL)? y/N');
    expect(confirmQuestion('remove', [on('web', 'gw-2')], false)).toBe('Remove gw-2/web (running: it will be killed)? y/N');
  });
  it('says the outcome of each, and which failed', async () => {
    const { outcomeText } = await import('../../tui/app/use-container-actions.js');
    expect(outcomeText('restart', [on('web', 'gw-2')], [])).toEqual({ text: 'restarted gw-2/web', kind: 'info' });
    expect(outcomeText('stop', [on('a', 'local'), on('b', 'local')], [])).toEqual({ text: 'stopped 2: local/a, local/b', kind: 'info' });
    expect(outcomeText('stop', [on('a', 'local')], [{ c: on('b', 'gw-2'), error: 'gone' }])).toEqual({ text: 'stopped 1 of 2 (local/a); stop gw-2/b failed: gone', kind: 'error' });
  });
  it('the hints say how many are marked and that the keys act on them', () => {
    expect(mainHints(false, 120, 'sort: name  ', 3)).toMatch(/^sort: name {2}3 marked: r s p K d enter act on them {2}esc clears {2}.*\? help$/);
    expect(mainHints(false, 45, '', 3)).toMatch(/^3 marked: .*\? help$/);
    expect(mainHints(false, 120, 'sort: name  ', 0)).not.toContain('marked');
  });
});

describe('what is not known yet is not shown as 0 (issue: RST 0 and CPU 0 % on the first frame)', () => {
  const stat = (cpuPercent: number | null) => ({ id: 'x', name: 'x', at: 0, cpuPercent, memoryBytes: 1048576, memoryLimitBytes: 1 << 30, memoryPercent: 0.1, netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, pids: 1, source: 'cgroup-v2' }) as ContainerStats;
  it('RST reads … while the restart count is unknown (the engine\'s list has none)', () => {
    const loop = c('loop', { state: 'restarting', restartCount: null });
    const cells = containerLine(loop, undefined, 0, 120, { marked: false, indent: false }).split(/\s+/);
    expect(cells).toContain('…');
    expect(cells).not.toContain('0');
    expect(containerLine({ ...loop, restartCount: 7 }, undefined, 0, 120, { marked: false, indent: false }).split(/\s+/)).toContain('7');
  });
  it('CPU reads … until the second sample gives a figure', () => {
    const run = c('burn');
    expect(containerLine(run, stat(null), 0, 120, { marked: false, indent: false })).not.toMatch(/\s0%\s/);
    expect(containerLine(run, stat(null), 0, 120, { marked: false, indent: false }).split(/\s+/)).toContain('…');
    expect(containerLine(run, stat(31), 0, 120, { marked: false, indent: false }).split(/\s+/)).toContain('31%');
  });
});

describe('the list uses the width it has, and cuts no column in its middle (issue: image cut, name cut before the image)', () => {
  const now = Date.parse('2024-01-01T01:00:00Z');
  const long = c('crashed-with-a-long-name', { image: 'registry.example.com/team/app-server:1.2.3', command: 'app-server --port 80', ports: [{ privatePort: 80, publicPort: 8080, ip: '0.0.0.0', protocol: 'tcp' }], created: now - 3 * 86_400_000 });
  const short = c('db', { image: 'postgres:16' });
  const rows = [long, short];
  const lineOf = (x: ContainerSummary, w: number, extra: Partial<Parameters<typeof containerLine>[4]> = {}) => containerLine(x, undefined, now, w, { marked: false, indent: false, layout: layoutFor(rows, w), ...extra });
  const headOf = (w: number) => headerLine(w, 'name', layoutFor(rows, w));

  it('shows an image whole or not at all, at every width', () => {
    for (let w = 30; w <= 260; w += 5) {
      for (const x of rows) {
        const line = lineOf(x, w);
        expect(line.length, `${w}`).toBeLessThanOrEqual(w);
        // The image is whole or absent (a name may be cut on a narrow terminal: the fixed columns keep 10 cells of it).
        if (headOf(w).includes('IMAGE')) expect(line, `${w}`).toContain(x.image);
        else expect(line, `${w}`).not.toContain(x.image.slice(0, 6));
      }
    }
    expect(headOf(100)).not.toMatch(/IMAGE/); // the long image does not fit whole beside the name at 100
  });

  it('the name comes first: whole at 80 columns, the image dropped before the name is cut', () => {
    expect(lineOf(long, 80)).toContain('crashed-with-a-long-name ');
    expect(headOf(80)).not.toContain('IMAGE');
    expect(headOf(120)).toContain('IMAGE');
    expect(lineOf(long, 120)).toContain('registry.example.com/team/app-server:1.2.3');
  });

  it('a wide terminal shows more: ports, age and command at 250 columns', () => {
    const h = headOf(250);
    expect(h).toContain('PORTS');
    expect(h).toContain('CREATED');
    expect(h).toContain('COMMAND');
    expect(lineOf(long, 250)).toContain(long.command);
    expect(lineOf(long, 250)).toContain('0.0.0.0:8080->80/tcp');
    expect(lineOf(long, 250)).toMatch(/\b3d\b/);
    expect(lineOf(long, 250).length).toBeLessThanOrEqual(250);
  });

  it('a transient state (restarting…) and an unreachable node\'s age go in the STATE column, not over the image', () => {
    const busy = lineOf(long, 120, { busy: 'restarting…' });
    expect(busy).toContain('restarting…');
    expect(busy).toContain('registry.example.com/team/app-server:1.2.3');
    expect(busy).not.toMatch(/…: restarting/);
    const seen = lineOf(long, 120, { seen: 'last seen 40s' });
    expect(seen).toContain('last seen 40s');
    expect(seen).toContain('registry.example.com/team/app-server:1.2.3');
  });
});
