import { describe, expect, it } from 'vitest';
import { formatIssue, parseRules, parseSize, ruleFromLabels } from '../../core/rules/parse.js';

const F = '/etc/outpost/rules.yaml';

function only(text: string) {
  const r = parseRules(text, F);
  return { ...r, lines: r.issues.map(formatIssue) };
}

describe('parseRules: valid files', () => {
  it('compiles every condition and action of a full file', () => {
    const { ruleSet, issues } = only(`
version: 1
interval: 2s
webhook: https://hooks.example/outpost
defaults:
  budget: 5/30m
rules:
  - name: web-unhealthy
    match: {name: "web*", image: ["nginx:*", "*/nginx:*"], label: [tier=front, managed], project: shop}
    when: {unhealthy: 30s}
    then: restart
    backoff: 10s-5m
    budget: 3/10m
    priority: 10
  - name: crash
    when: {exit: nonzero, oom: true}
    then: restart
  - name: hot
    when: {cpu: {above: 90, samples: 5}}
    then: {kill: TERM}
  - name: fat
    when: {memory: {above: 90%, for: 1m}}
    then: stop
    cooldown: 5m
  - name: fat2
    when: {memory: {above: 512MiB}}
    then: {notify: "too much memory"}
  - name: panic
    when: {log: {match: "panic|FATAL", stream: stderr, ignore-case: true}}
    then: {exec: "kill -HUP 1"}
  - name: flappy
    when: {restarts: {more-than: 5, within: 10m}}
    then: notify
  - name: shed
    match: {label: outpost.sheddable}
    when: {host: {disk-above: 95, for: 2m}}
    then: stop
`);
    expect(issues).toEqual([]);
    expect(ruleSet.sampleIntervalMs).toBe(2000);
    expect(ruleSet.webhook).toBe('https://hooks.example/outpost');
    const [web, crash, hot, fat, fat2, panic, flappy, shed] = ruleSet.rules;
    expect(web).toMatchObject({
      name: 'web-unhealthy',
      priority: 10,
      match: { names: ['web*'], images: ['nginx:*', '*/nginx:*'], labels: [{ key: 'tier', value: 'front' }, { key: 'managed' }], projects: ['shop'] },
      triggers: [{ kind: 'unhealthy', forMs: 30_000 }],
      guards: { backoff: { minMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 }, budget: { max: 3, withinMs: 600_000 } },
    });
    expect(crash?.triggers).toEqual([{ kind: 'exit', code: 'nonzero' }, { kind: 'oom' }]);
    expect(crash?.guards.budget).toEqual({ max: 5, withinMs: 1_800_000 }); // from defaults
    expect(hot?.action).toEqual({ kind: 'kill', signal: 'SIGTERM' });
    expect(hot?.triggers[0]).toEqual({ kind: 'cpu', abovePercent: 90, sustain: { samples: 5 } });
    expect(fat?.triggers[0]).toEqual({ kind: 'memory', above: { percent: 90 }, sustain: { forMs: 60_000 } });
    expect(fat?.guards.cooldownMs).toBe(300_000);
    expect(fat2?.triggers[0]).toEqual({ kind: 'memory', above: { bytes: 512 * 1024 * 1024 }, sustain: null });
    expect(fat2?.action).toEqual({ kind: 'notify', message: 'too much memory' });
    expect(fat2?.guards.backoff).toBeNull(); // notifications are paced by a cooldown, not a back-off
    expect(panic?.triggers[0]).toEqual({ kind: 'log', pattern: 'panic|FATAL', flags: 'i', stream: 'stderr' });
    expect(panic?.action).toEqual({ kind: 'exec', command: ['sh', '-c', 'kill -HUP 1'] });
    expect(flappy?.triggers[0]).toEqual({ kind: 'restarts', moreThan: 5, withinMs: 600_000 });
    expect(shed?.triggers[0]).toEqual({ kind: 'host', metric: 'disk', threshold: { percent: 95 }, sustain: { forMs: 120_000 } });
  });

  it('accepts JSON', () => {
    const { ruleSet, issues } = only('{"rules":[{"name":"j","when":{"exit":"any"},"then":"restart"}]}');
    expect(issues).toEqual([]);
    expect(ruleSet.rules[0]?.triggers).toEqual([{ kind: 'exit', code: 'any' }]);
  });

  it('treats an empty file as no rules', () => {
    expect(only('').issues).toEqual([]);
    expect(only('# nothing yet\n').ruleSet.rules).toEqual([]);
  });
});

describe('parseRules: malformed files name the file, the rule and the field', () => {
  it('wrong types', () => {
    const { lines, ruleSet } = only(`
rules:
  - name: web
    when: {cpu: {above: high}}
    then: restart
  - name: ok
    when: {exit: nonzero}
    then: restart
`);
    expect(lines).toEqual([`${F}:4:25: rule 1 "web": when.cpu.above: expected the CPU percentage (of one core) as a number from 0 to 100000, got "high"`]);
    expect(ruleSet.rules.map((r) => r.name)).toEqual(['ok']); // the good rule survives
  });

  it('unknown keys, with a suggestion', () => {
    const { lines } = only('rules:\n  - name: web\n    when: {exit: nonzero}\n    thn: restart\n');
    expect(lines[0]).toContain('rule 1 "web": thn: unknown key `thn` (did you mean `then`?)');
    expect(lines[0]).toMatch(/:4:10:/);
    expect(lines.some((l) => l.includes('then: missing: an action'))).toBe(true);
  });

  it('bad durations, budgets and back-offs', () => {
    const { lines } = only(`
rules:
  - name: a
    when: {unhealthy: soon}
    then: restart
    budget: three/10m
    backoff: 5m-10s
    cooldown: 10
`);
    expect(lines).toContain(`${F}:4:23: rule 1 "a": when.unhealthy: expected how long it must stay unhealthy as a duration like 30s, 10m or 1h, got "soon"`);
    expect(lines.find((l) => l.includes('budget'))).toContain('expected a budget as N/DURATION like 3/10m');
    expect(lines.find((l) => l.includes('backoff'))).toContain('back-off maximum 10s is shorter than its minimum 5m');
    expect(lines.find((l) => l.includes('cooldown'))).toContain('expected the cooldown as a duration like 30s, 10m or 1h, got number 10');
  });

  it('bad regular expressions', () => {
    const { lines } = only('rules:\n  - name: r\n    when: {log: "(unclosed"}\n    then: notify\n');
    expect(lines[0]).toMatch(/rule 1 "r": when\.log: not a valid regular expression \(RE2 syntax: no look-around or back-references\): missing closing \)/);
  });

  it('YAML syntax errors carry line and column', () => {
    const { lines, ruleSet } = only('rules:\n  - name: a\n    when: {exit: nonzero\n    then: restart\n');
    expect(ruleSet.rules).toEqual([]);
    expect(lines[0]).toMatch(new RegExp(`^${F.replace(/\//g, '\\/')}:\\d+:\\d+: \\(syntax\\): `));
  });

  it('duplicate keys and duplicate rule names', () => {
    expect(only('rules:\n  - name: a\n    name: b\n    when: {exit: any}\n    then: restart\n').lines[0]).toContain('(syntax)');
    const dup = only('rules:\n  - {name: a, when: {exit: any}, then: restart}\n  - {name: a, when: {oom: true}, then: restart}\n');
    expect(dup.lines).toEqual([`${F}:3:12: rule 2 "a": name: the name "a" is already used by rule 1`]);
  });

  it('a top level that is not a mapping, rules that are not a list, rules that are not mappings', () => {
    expect(only('- a\n- b\n').lines[0]).toContain('expected a mapping with `rules:` at the top, got a list');
    expect(only('rules: 5\n').lines[0]).toContain('rules: expected a list of rules, got number 5');
    expect(only('rules: [hello]\n').lines[0]).toContain('rule 1: (the rule): expected a rule (a mapping with when and then), got "hello"');
  });

  it('huge files are refused before parsing', () => {
    const big = `rules:\n${'  - {name: x, when: {exit: any}, then: restart}\n'.repeat(30_000)}`;
    const { lines } = only(big);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/the file is 1\.\d MiB; a rules file may be at most 1 MiB/);
  });

  it('alias bombs are refused', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const { lines } = only(bomb.join('\n'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/alias|resource/i);
  });

  it('start only with exit, oom or host conditions, and the message names all three (defect 4)', () => {
    expect(only('rules:\n  - {name: s, when: {cpu: {above: 5}}, then: start}\n').lines[0]).toContain('`start` only makes sense with `exit`, `oom` or `host` conditions');
    for (const when of ['{exit: nonzero}', '{oom: true}', '{host: {disk-above: 95}}']) {
      expect(only(`rules:\n  - {name: s, when: ${when}, then: start}\n`).lines, when).toEqual([]);
    }
  });
});

describe('labels', () => {
  const c = (labels: Record<string, string>) => ({ id: 'abc', name: 'web', labels });

  it('compiles outpost.restart-on, restart-budget and backoff', () => {
    const { rule, issues } = ruleFromLabels(
      c({ 'outpost.restart-on': 'exit-nonzero, unhealthy,oom', 'outpost.restart-budget': '3/10m', 'outpost.backoff': '10s-5m' }),
    );
    expect(issues).toEqual([]);
    expect(rule).toMatchObject({
      name: 'label:web',
      match: { containerId: 'abc' },
      triggers: [{ kind: 'exit', code: 'nonzero' }, { kind: 'unhealthy', forMs: 0 }, { kind: 'oom' }],
      action: { kind: 'restart' },
      guards: { budget: { max: 3, withinMs: 600_000 }, backoff: { minMs: 10_000, maxMs: 300_000 } },
    });
  });

  it('rejects bad label values with the label named', () => {
    const { rule, issues } = ruleFromLabels(c({ 'outpost.restart-on': 'exit-nonzero,crash', 'outpost.restart-budget': 'lots' }));
    expect(rule).toBeNull();
    expect(issues.map((i) => `${i.field}: ${i.message}`)).toEqual([
      'outpost.restart-on: unknown condition "crash"; expected a comma list of exit-nonzero, exit-any, unhealthy, oom',
      'outpost.restart-budget: expected a budget as N/DURATION like 3/10m (or off), got "lots"',
    ]);
  });

  it('says when a budget label has nothing to limit', () => {
    expect(ruleFromLabels(c({ 'outpost.backoff': '1s-2s' })).issues[0]?.message).toContain('has no effect without outpost.restart-on');
  });
});

describe('parseSize', () => {
  it('reads binary and decimal units', () => {
    expect(parseSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseSize('1.5GB')).toBe(1.5e9);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('12 parsecs')).toBeNull();
  });
});

describe('every unknown key of a mapping in one run (issue item 9, siblings)', () => {
  it('at the top, in a rule and in its parts: each one named', () => {
    const text = 'foo: 1\nbar: 2\nconstructor: 3\ntoString: 4\nrules:\n  - name: a\n    thn: restart\n    whn: x\n    when: {exit: nonzero}\n    then: restart\n    backoff: {min: 1s, mix: 2s, maks: 3s}\n';
    const { issues } = parseRules(text, 'rules.yaml');
    const fields = issues.map((i) => i.field);
    // Fields within a rule are named from the rule (its issue says which rule).
    expect(fields).toEqual(['foo', 'bar', 'constructor', 'toString', 'thn', 'whn', 'backoff.mix', 'backoff.maks']);
  });
});
