/**
 * Guard state across an agent restart (issue items 20 and 21): the
 * per-minute limit is kept with the other guard state, and times that lie in
 * the future (a clock that ran ahead and was set back) are capped to now.
 * Pure but for a temp directory: a fake clock, no Docker.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RuleEngine, MAX_RULE_ACTIONS_PER_MINUTE, type Decision } from '../../core/rules/engine.js';
import { parseRules } from '../../core/rules/parse.js';
import { readGuardState, writeGuardState } from '../../core/agent/store.js';
import { restoreEngine } from '../../core/agent/restore.js';
import { LocalRules } from '../../core/agent/local-rules.js';
import { words } from '../../core/rules/wording.js';
import { ago } from '../../tui/app/main-screen.js';
import { ageOf } from '../../tui/cli/placement-commands.js';
import { summary } from '../harness/summary.js';
import type { ContainerSummary } from '../../core/model/types.js';
import type { PastDecision } from '../../core/rules/decisions.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-guards-'));
  dirs.push(d);
  return d;
}

function engineWith(yaml: string, containers: ContainerSummary[] = [summary({ created: T0 - 60_000, startedAt: T0 - 60_000 })]): RuleEngine {
  const { ruleSet, issues } = parseRules(yaml, 'rules.yaml');
  expect(issues).toEqual([]);
  const e = new RuleEngine();
  e.setRules(ruleSet);
  e.onModel({ kind: 'reset', containers }, T0);
  return e;
}

const chatty = 'rules:\n  - {name: chatty, when: {log: "line"}, then: notify, cooldown: 0s}\n';
const line = (i: number) => ({ stream: 'stdout' as const, text: `line ${i}` });

describe(`the ${MAX_RULE_ACTIONS_PER_MINUTE}-a-minute limit across agent restarts (issue item 20)`, () => {
  it('is kept in guards.json, and the journal after it counts too: a restarted agent acts only up to the limit', () => {
    const a = engineWith(chatty);
    const out: Decision[] = [];
    for (let i = 0; i < 50; i++) out.push(...a.onLog('id-web', line(i), T0 + i * 100));
    const acts = out.filter((d) => d.kind === 'act');
    expect(acts).toHaveLength(50);
    // The state file was written after the 40th action; the last 10 are only in the journal.
    const b0 = engineWith(chatty);
    for (let i = 0; i < 40; i++) b0.onLog('id-web', line(i), T0 + i * 100);
    const dir = tmp();
    writeGuardState(dir, { seq: 40, savedAt: T0 + 4000, snapshot: b0.snapshot() });
    const b = engineWith(chatty);
    const saved = readGuardState(dir);
    expect(saved.problem).toBe(null);
    b.load(saved.state?.snapshot ?? { guards: [], exits: {} });
    b.restore(acts.slice(40) as unknown as PastDecision[]);
    const after: Decision[] = [];
    for (let i = 0; i < 30; i++) after.push(...b.onLog('id-web', line(100 + i), T0 + 6000 + i * 100));
    expect(after.filter((d) => d.kind === 'act')).toHaveLength(MAX_RULE_ACTIONS_PER_MINUTE - 50);
    expect(after.find((d) => d.kind === 'skip')?.reason).toMatch(/rule chatty already acted on it 60 times in the last minute/);
    // A minute after the first actions, it may act again.
    expect(b.onLog('id-web', line(999), T0 + 60_000 + 4000).map((d) => d.kind)).toEqual(['act']);
  });
});

describe('times from state files that lie in the future (issue item 21)', () => {
  const crash = 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: 10s-5m, budget: 10/10m}\n';
  const YEAR = 365 * 86_400_000;

  it('are capped to now and said: a guard record a year ahead delays a crash loop by its back-off, not by a year', () => {
    const dir = tmp();
    const ahead = T0 + YEAR;
    writeGuardState(dir, {
      seq: 0,
      savedAt: ahead,
      snapshot: {
        guards: [{ rule: 'crash', container: 'web', level: 2, lastActionAt: ahead, actions: [ahead - 10_000, ahead], gaveUpAt: null, troubleAt: ahead, pending: null, recentActs: [ahead] }],
        exits: { web: ahead },
      },
    });
    const e = engineWith(crash);
    const r = restoreEngine(e, dir, T0);
    expect(r.future).toMatch(new RegExp(`^\\d+ time\\(s\\) in ${dir.replace(/[/.]/g, '\\$&')}/guards\\.json lay in the future \\(up to 365d ahead: the clock ran ahead and was set back\\?\\); counted from now instead$`));
    expect(r.lastWrite).toBe(T0);
    // An exit a second later is new (the exit seen "a year ahead" would have hidden it), and waits out the back-off from now.
    const ds = e.onEvent({ node: 'local', id: 'id-web', name: 'web', image: 'nginx:1.25', action: 'die', timeNano: (T0 + 1000) * 1e6, attributes: {}, exitCode: 1 }, T0 + 1000);
    expect(ds.map((d) => d.reason)).toEqual(['will restart web in 19s: exited with code 1; back-off 20s after the 2nd restart']);
  });

  it('a deferred action from a journal written under a clock a year ahead keeps its wait, counted from now', () => {
    const dir = tmp();
    const ahead = T0 + YEAR;
    const trigger = { kind: 'exit' as const, detail: 'exited with code 1', eventTime: ahead };
    writeJournalLines(dir, [
      { seq: 1, ts: ahead, node: 'local', kind: 'act', rule: 'crash', container: 'web', containerId: 'id-web', level: 1, trigger, action: { kind: 'restart' }, reason: 'restarted web' },
      { seq: 2, ts: ahead + 1000, node: 'local', kind: 'defer', rule: 'crash', container: 'web', containerId: 'id-web', at: ahead + 10_000, trigger, action: { kind: 'restart' }, reason: 'will restart web in 9s' },
    ]);
    const e = engineWith(crash);
    const r = restoreEngine(e, dir, T0);
    expect(r.future).toMatch(/^4 time\(s\) in .*journal lay in the future/);
    expect(e.nextWake()).toBe(T0 + 9000);
    // Every face reads it among the problems (the agent journals it at start).
    const local = new LocalRules({ name: 'local', containers: () => [], list: async () => [], statsOnce: async () => [] }, { rulesFile: join(dir, 'none.yaml'), stateDir: dir }, { now: () => T0 });
    expect(local.explainNow([], null).problems.join('\n')).toMatch(/4 time\(s\) in .*journal lay in the future \(up to 365d ahead/);
  });
});

describe('durations in words carry their rounding (issue item 21)', () => {
  it.each([
    [7_170_000, '2h'],
    [7_140_000, '1h59m'],
    [31_535_999_000, '8760h'],
    [999.6, '1s'],
    [59_600, '1m'],
    [3_599_600, '1h'],
    [90_000, '1m30s'],
  ])('%d ms is %s', (ms, text) => {
    expect(words(ms)).toBe(text);
  });
});

function writeJournalLines(dir: string, lines: object[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'journal.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

describe('sibling duration formatters carry their rounding too (issue item 21)', () => {
  it.each([
    [7_170_000, '2h ago'],
    [7_140_000, '119m ago'],
    [119_000, '119s ago'],
  ])('ago(%d) is %s', (ms, text) => {
    expect(ago(ms)).toBe(text);
  });

  it.each([
    [7_170_000, '2h'],
    [171_000_000, '2d'],
    [3_000_000, '50m'],
  ])('the placement list age of %d ms is %s', (ms, text) => {
    expect(ageOf(T0 - ms, T0)).toBe(text);
  });
});
