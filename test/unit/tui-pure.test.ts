import { describe, expect, it } from 'vitest';
import { summaryFromInspect } from '../../core/docker/mapping.js';
import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { keysFor, parsePalette } from '../../tui/app/keymap.js';
import { validatePrefs, DEFAULT_PREFS, loadPrefs } from '../../tui/app/prefs.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingBuffer } from '../../tui/logs/ring-buffer.js';
import { compileSearch, filterWithContext, highlight, nextMatch } from '../../tui/logs/search.js';
import { containerLine, headerLine, layoutColumns, listPercent } from '../../tui/presentation/container-line.js';
import { filterContainers, listRows, sortContainers, windowTop } from '../../tui/presentation/container-list.js';
import { History, sparkline } from '../../tui/presentation/sparkline.js';

function c(name: string, extra: Partial<ContainerSummary> = {}): ContainerSummary {
  return { ...summaryFromInspect({ Id: `${name}-id`, Name: `/${name}`, State: { Status: 'running', StartedAt: '2024-01-01T00:00:00Z' }, Config: { Image: 'busybox' } }, 'local', 0), ...extra };
}

describe('sparkline', () => {
  it('scales to a fixed max and pads on the left', () => {
    expect(sparkline([0, 50, 100, 1], 6, 100)).toBe('  ▁▄█▁');
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 4)).toBe('▅▆▇█');
    expect(sparkline([], 3)).toBe('   ');
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
    expect(rows.map((r) => (r.kind === 'group' ? `[${r.project} ${r.running}/${r.count}]` : r.container.name))).toEqual(['[aux 1/1]', 'cache', '[shop 1/2]', 'web', 'db', 'solo']);
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
    expect(entryLine({ ...base, kind: 'outcome', ok: false })).toMatch(/^01-02 03:04:05 FAILED  /);
    expect(entryColor({ ...base, kind: 'give-up' })).toBe('bad');
    expect(entryColor({ ...base, kind: 'outcome', ok: true })).toBe('muted');
    expect(agentLine({ running: false, record: null, reason: 'gone' }).text).toContain('no agent enforces rules on this node: gone');
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
      'unknown preference `colour` (known: logBufferLines, statsIntervalMs, hostIntervalMs, saveDir)',
      '`saveDir` must be a directory path, got ""',
    ]);
    expect(validatePrefs([1, 2]).problems).toEqual(['preferences must be a JSON object']);
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
