/**
 * Hostile and malformed input to the rules parser, the duration parsers and
 * the state files: every problem reported in one run, nothing thrown, nothing
 * that a Date cannot hold, no pattern that can hold the agent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRules, formatIssue } from '../../core/rules/parse.js';
import { loadRulesFile } from '../../core/agent/agent.js';
import { RuleEngine } from '../../core/rules/engine.js';
import { GUARD_FILE, MAINTENANCE_FILE, readGuardState, readMaintenance } from '../../core/agent/store.js';
import { parseDuration, parseSince } from '../../core/model/duration.js';
import { summary } from '../harness/summary.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'outpost-hostile-'));
  dirs.push(d);
  return d;
};

const lines = (yaml: string) => parseRules(yaml, 'r.yaml').issues.map(formatIssue);

describe('rules check reports every problem of a file in one run (issue item 9)', () => {
  it('a bad signal, a duplicate name on a rule with other problems, and `start` on a log condition with other problems', () => {
    const out = lines(`rules:
  - {name: a, when: {exit: nonzero}, then: {kill: SIGFOO}}
  - {name: a, when: {exit: nonzero, cpu: {above: lots}}, then: restart}
  - {name: b, when: {log: "x"}, then: start, priority: high}
  - {name: c, when: {exit: nonzero}, then: {kill: 99}}
  - {name: d, when: {exit: nonzero}, then: {kill: term}}
`);
    expect(out).toEqual([
      expect.stringMatching(/rule 1 "a": then\.kill: expected a signal name or number such as SIGTERM, HUP or 9, got "SIGFOO"$/),
      expect.stringMatching(/rule 2 "a": name: the name "a" is already used by rule 1$/),
      expect.stringMatching(/rule 2 "a": when\.cpu\.above: expected the CPU percentage/),
      expect.stringMatching(/rule 3 "b": priority: expected the priority as a whole number/),
      expect.stringMatching(/rule 3 "b": then: `start` only makes sense with `exit`, `oom` or `host` conditions/),
      expect.stringMatching(/rule 4 "c": then\.kill: expected a signal name or number .*, got number 99$/),
    ]);
    // A valid signal in any spelling is kept in its canonical form.
    const { ruleSet } = parseRules('rules:\n  - {name: d, when: {exit: nonzero}, then: {kill: term}}\n  - {name: e, when: {exit: nonzero}, then: {kill: 15}}\n', 'r.yaml');
    expect(ruleSet.rules.map((r) => r.action)).toEqual([{ kind: 'kill', signal: 'SIGTERM' }, { kind: 'kill', signal: '15' }]);
  });
});

describe('webhook URLs are checked by the parser fetch uses (issue item 25)', () => {
  it.each(['http://[::1', 'http://localhost:99999/hook', 'http://', 'https://exa mple.com/', 'ftp://example.com/x', 'http://a\u0000b/'])('%s is a problem, never an exception', (url) => {
    let result: ReturnType<typeof parseRules> | undefined;
    expect(() => (result = parseRules(`webhook: ${JSON.stringify(url)}\nrules: []\n`, 'r.yaml'))).not.toThrow();
    expect(result?.issues.map(formatIssue)).toEqual([expect.stringMatching(/webhook: expected an http:\/\/ or https:\/\/ URL/)]);
  });

  it('a file with such a URL loads as issues (what the agent, check and explain all read)', () => {
    const d = tmp();
    const file = join(d, 'rules.yaml');
    writeFileSync(file, 'webhook: "http://[::1"\nrules: []\n');
    const loaded = loadRulesFile(file);
    expect(loaded.issues).toHaveLength(1);
    expect(() => new URL(loaded.ruleSet.webhook ?? 'http://ok/')).not.toThrow();
  });
});

describe('log patterns cannot backtrack catastrophically (issue item 27)', () => {
  it('`^(\\w+\\s?)+$` against a line of a\'s and a ! answers at once', () => {
    const { ruleSet, issues } = parseRules(`rules:\n  - {name: words, when: {log: '^(\\w+\\s?)+$'}, then: notify}\n`, 'r.yaml');
    expect(issues).toEqual([]);
    const e = new RuleEngine();
    e.setRules(ruleSet);
    e.onModel({ kind: 'reset', containers: [summary()] }, 0);
    const started = performance.now();
    // 2^30 paths for a backtracking engine (minutes); RE2 is linear in the line.
    expect(e.onLog('id-web', { stream: 'stdout', text: `${'a'.repeat(30)}!` }, 1)).toEqual([]);
    const long = e.onLog('id-web', { stream: 'stdout', text: `${'ab '.repeat(20_000)}!` }, 2);
    expect(long).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(e.onLog('id-web', { stream: 'stdout', text: 'all words here' }, 3).map((d) => d.kind)).toEqual(['act']);
  });

  it('syntax RE2 does not have (look-behind, back-references) is a problem in the file, named', () => {
    expect(lines('rules:\n  - {name: r, when: {log: "(a)\\\\1"}, then: notify}\n')).toEqual([
      expect.stringMatching(/rule 1 "r": when\.log: not a valid regular expression \(RE2 syntax: no look-around or back-references\)/),
    ]);
    expect(lines('rules:\n  - {name: r, when: {log: "(?<=a)b"}, then: notify}\n')).toHaveLength(1);
  });
});

describe('durations and times are bounded (issue items 28 and 32)', () => {
  it('the rules file: huge cooldowns, zero budget windows and the like are problems', () => {
    const out = lines(`interval: 400d
rules:
  - {name: a, when: {exit: nonzero}, then: restart, cooldown: 100000000000000000000000000000000000s}
  - {name: b, when: {exit: nonzero}, then: restart, budget: 5/0s}
  - {name: c, when: {exit: nonzero}, then: restart, budget: {max: 2, within: 0ms}}
  - {name: d, when: {unhealthy: 99999999999d}, then: restart}
  - {name: e, when: {exit: nonzero}, then: restart, backoff: {min: 1s, max: 1e400d}}
  - {name: f, when: {exit: nonzero}, then: restart, backoff: {min: 1s, max: 2s, reset-after: 0s}}
`);
    expect(out).toEqual([
      expect.stringMatching(/interval: expected a sample interval of at most 1d/),
      expect.stringMatching(/rule 1 "a": cooldown: expected the cooldown of at most 10 years/),
      expect.stringMatching(/rule 2 "b": budget: expected the budget window of at least 1s, got "0s"/),
      expect.stringMatching(/rule 3 "c": budget\.within: expected the budget window of at least 1s/),
      expect.stringMatching(/rule 4 "d": when\.unhealthy: expected how long it must stay unhealthy of at most 10 years/),
      expect.stringMatching(/rule 5 "e": backoff\.max: expected back-off maximum as a duration/),
      expect.stringMatching(/rule 6 "f": backoff\.reset-after: expected reset-after of at least 1s/),
    ]);
  });

  it('parseDuration refuses what a Date cannot hold; parseSince keeps to 1970..9999', () => {
    expect(() => parseDuration('99999999999d', '--for')).toThrow(/--for `99999999999d` is too long; at most 10 years/);
    expect(() => parseDuration('', '--for')).toThrow(/is not a duration/);
    expect(parseDuration('3650d')).toBe(3650 * 86_400_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(() => parseSince('99999999999999999999', now)).toThrow(/--since `99999999999999999999` is out of range/);
    expect(() => parseSince('1e400', now)).toThrow(/neither a duration/);
    expect(() => parseSince('99999999999d', now)).toThrow(/neither a duration/);
    expect(parseSince('253402300799', now)).toBe(253_402_300_799_000);
    expect(parseSince('3650d', now)).toBe(now - 3650 * 86_400_000);
  });

  it('a maintenance or guard state file out of range is reported and ignored, never fatal', () => {
    const d = tmp();
    writeFileSync(join(d, MAINTENANCE_FILE), JSON.stringify({ node: { until: 1e300 }, containers: { web: { until: 8.64e15 + 1 }, db: { until: Date.now() + 60_000 } } }));
    const m = readMaintenance(d);
    expect(m.problem).toMatch(/ignored 2 pause\(s\) with a time out of range/);
    expect(m.maintenance.node).toBeNull();
    expect(Object.keys(m.maintenance.containers ?? {})).toEqual(['db']);
    writeFileSync(
      join(d, GUARD_FILE),
      JSON.stringify({
        seq: 5,
        savedAt: Date.now(),
        guards: [
          { rule: 'r', container: 'web', level: 1, lastActionAt: 1e300, actions: [], gaveUpAt: null, troubleAt: null, pending: null },
          { rule: 'r', container: 'db', level: 2, lastActionAt: 1000, actions: [1000], gaveUpAt: 2000, troubleAt: 2000, pending: null },
        ],
        exits: { web: 'soon' },
      }),
    );
    const g = readGuardState(d);
    expect(g.problem).toMatch(/ignored 2 damaged or out-of-range record/);
    expect(g.state?.snapshot.guards.map((x) => x.container)).toEqual(['db']);
    // An engine fed what is left, and a journal with out-of-range times, still explains.
    const e = new RuleEngine();
    e.setRules(parseRules('rules:\n  - {name: r, when: {exit: nonzero}, then: restart}\n', 'r.yaml').ruleSet);
    e.setMaintenance(m.maintenance);
    e.load(g.state!.snapshot);
    e.restore([{ kind: 'give-up', ts: 1e300, rule: 'r', container: 'web' }, { kind: 'defer', ts: 1, rule: 'r', container: 'web', at: Infinity }]);
    e.onModel({ kind: 'reset', containers: [summary({ name: 'web' }), summary({ id: 'id-db', name: 'db' })] }, Date.now());
    expect(() => e.explain(Date.now())).not.toThrow();
    writeFileSync(join(d, GUARD_FILE), '{"seq": 1, "savedAt": 1e999, "guards": []}');
    expect(readGuardState(d)).toMatchObject({ state: null, problem: expect.stringMatching(/not a guard state file/) });
  });
});

describe('times out of range in the journal and the agent record are not fatal (issue item 28, siblings)', () => {
  it('a journal line with a time no Date holds is skipped as unreadable; an agent record with one is no agent', async () => {
    const { readJournal } = await import('../../core/agent/journal.js');
    const { agentStatus } = await import('../../core/agent/store.js');
    const d = tmp();
    writeFileSync(
      join(d, 'journal.jsonl'),
      `${JSON.stringify({ seq: 1, ts: 1e300, node: 'local', kind: 'act', reason: 'x' })}\n${JSON.stringify({ seq: 2, ts: 5, node: 'local', kind: 'act', reason: 'y' })}\n`,
    );
    const r = readJournal(d);
    expect(r.entries.map((e) => e.seq)).toEqual([2]);
    expect(r.unreadable).toBe(1);
    writeFileSync(join(d, 'agent.json'), JSON.stringify({ pid: process.pid, startedAt: 1e300 }));
    expect(agentStatus(d)).toMatchObject({ running: false, record: null });
  });
});

describe('FIFOs in the state directory hold no reader (issue item 31, siblings)', () => {
  it('agent.json, a reset request and a rotated journal file as FIFOs: status, reset and the journal answer at once', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readJournal } = await import('../../core/agent/journal.js');
    const { agentStatus, takeResetRequests, setMaintenance } = await import('../../core/agent/store.js');
    const d = tmp();
    for (const name of ['agent.json', 'reset-request.1.aa.json', 'journal.1.jsonl']) execFileSync('mkfifo', [join(d, name)]);
    writeFileSync(join(d, 'journal.jsonl'), `${JSON.stringify({ seq: 1, ts: 5, node: 'local', kind: 'agent', reason: 'x' })}\n`);
    expect(agentStatus(d).running).toBe(false);
    expect(readJournal(d).entries.map((e) => e.seq)).toEqual([1]);
    expect(takeResetRequests(d).problems).toEqual([expect.stringMatching(/ignored the damaged reset request reset-request\.1\.aa\.json: .*is not a regular file \(a FIFO\)/)]);
    // A pause until a time no Date holds is refused where it is written, too.
    expect(() => setMaintenance(d, { container: 'web' }, { pauseUntil: 1e300 })).toThrow(/out of range/);
  });
});
