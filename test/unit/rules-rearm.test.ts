/**
 * The rule engine's guards against what users found: re-arming a container
 * whose condition still holds, give-ups that clear only without trouble,
 * exits nobody saw, precedence and durations in explain, one rule that
 * floods. Pure: a fake clock, no Docker.
 */
import { describe, expect, it } from 'vitest';
import { RuleEngine, MAX_RULE_ACTIONS_PER_MINUTE, type Decision } from '../../core/rules/engine.js';
import { parseRules } from '../../core/rules/parse.js';
import { summary } from '../harness/summary.js';
import type { ContainerEvent, ContainerStats, ContainerSummary, HostMetrics } from '../../core/model/types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;
const M = 60 * S;

function container(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return summary({ created: T0 - M, startedAt: T0 - M, ...over });
}

function ev(action: string, at: number, over: Partial<ContainerEvent> = {}): ContainerEvent {
  return { node: 'local', id: 'id-web', name: 'web', image: 'nginx:1.25', action, timeNano: at * 1e6, attributes: {}, ...over };
}

function engineWith(yaml: string, containers: ContainerSummary[] = [container()], now = T0): RuleEngine {
  const { ruleSet, issues } = parseRules(yaml, 'rules.yaml');
  expect(issues).toEqual([]);
  const e = new RuleEngine();
  e.setRules(ruleSet);
  e.onModel({ kind: 'reset', containers }, now);
  return e;
}

const stat = (over: Partial<ContainerStats>): ContainerStats => ({
  id: 'id-web', name: 'web', at: 0, cpuPercent: 1, memoryBytes: 10 * 1048576, memoryLimitBytes: 1 << 30, memoryPercent: 5,
  netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, pids: 1, source: 'cgroup-v2', ...over,
});

const host = (disk: number): HostMetrics => ({
  node: 'local', at: 0, hostname: 'h', cpuPercent: 0, cores: 1, load: [0, 0, 0], memTotalBytes: 1, memAvailableBytes: 1, memUsedPercent: 0,
  swapTotalBytes: 0, swapUsedBytes: 0, disks: [{ mount: '/', fs: 'ext4', sizeBytes: 100, usedBytes: disk, usePercent: disk }],
  temperatureC: null, netRxBytesPerSec: 0, netTxBytesPerSec: 0, uptimeSeconds: 1,
});

/** Runs the engine's timer from `from` to `to` in 100 ms steps, as the agent would; returns what it decided. */
function runTicks(e: RuleEngine, from: number, to: number): Decision[] {
  const out: Decision[] = [];
  for (let now = from; now <= to; now += 100) {
    const wake = e.nextWake();
    if (wake !== null && wake <= now) out.push(...e.tick(now));
  }
  return out;
}

const kinds = (ds: Decision[]) => ds.map((d) => d.kind);

describe('re-arming a container whose condition still holds (issue item 4)', () => {
  it('unhealthy for a duration: gives up while it stays unhealthy, and acts again once it held for the duration after a reset', () => {
    const e = engineWith('rules:\n  - {name: sick, when: {unhealthy: 30s}, then: restart, backoff: off, budget: 1/1h}\n');
    e.onEvent(ev('health_status: unhealthy', T0), T0);
    const first = runTicks(e, T0, T0 + 65 * S);
    // It acted once, the restart did not help (it stayed unhealthy), so the next time it held 30 s the budget gave up.
    expect(kinds(first)).toEqual(['act', 'give-up']);
    expect(e.reset('web', undefined, T0 + 70 * S)).toEqual(['sick']);
    // Must hold again for its whole duration after the reset: nothing before T0+100s, then the restart.
    expect(runTicks(e, T0 + 70 * S, T0 + 99 * S)).toEqual([]);
    const again = runTicks(e, T0 + 99 * S, T0 + 101 * S);
    expect(kinds(again)).toEqual(['act']);
    expect(again[0]?.reason).toMatch(/^restarted web: unhealthy for 1m40s; 1st restart in 1h/);
  });

  it('unhealthy at once (`true`): a reset of a container still unhealthy makes it act again', () => {
    const e = engineWith('rules:\n  - {name: sick, when: {unhealthy: true}, then: restart, backoff: off, budget: 1/1h}\n');
    expect(kinds(e.onEvent(ev('health_status: unhealthy', T0), T0))).toEqual(['act']);
    // Docker sends no second health_status while it stays unhealthy: the engine re-checks it itself.
    expect(kinds(runTicks(e, T0, T0 + 20 * S))).toEqual(['give-up', 'skip']);
    e.reset('web', undefined, T0 + 30 * S);
    expect(kinds(runTicks(e, T0 + 30 * S, T0 + 31 * S))).toEqual(['act']);
  });

  it('CPU for a duration: after a reset it must hold the whole duration again, then acts', () => {
    const e = engineWith('rules:\n  - {name: hot, when: {cpu: {above: 80, for: 10s}}, then: restart, backoff: off, budget: 1/1h}\n');
    const out: Decision[] = [];
    for (let t = T0; t <= T0 + 30 * S; t += 2 * S) out.push(...e.onStats([stat({ cpuPercent: 95 })], t));
    expect(kinds(out)).toEqual(['act', 'give-up']);
    e.reset('web', undefined, T0 + 31 * S);
    const after: { t: number; d: Decision }[] = [];
    for (let t = T0 + 32 * S; t <= T0 + 46 * S; t += 2 * S) for (const d of e.onStats([stat({ cpuPercent: 95 })], t)) after.push({ t, d });
    expect(after.map((x) => x.d.kind)).toEqual(['act']);
    expect(after[0]?.t).toBe(T0 + 42 * S);
  });

  it('memory for N samples, a log line and a host condition act again after a reset', () => {
    const mem = engineWith('rules:\n  - {name: fat, when: {memory: {above: 90%, samples: 3}}, then: restart, backoff: off, budget: 1/1h}\n');
    const m: Decision[] = [];
    for (let i = 0; i < 6; i++) m.push(...mem.onStats([stat({ memoryPercent: 95 })], T0 + i * 5 * S));
    expect(kinds(m)).toEqual(['act', 'give-up']);
    mem.onStats([stat({ memoryPercent: 95 })], T0 + 30 * S);
    mem.reset('web', undefined, T0 + 31 * S);
    expect(mem.onStats([stat({ memoryPercent: 95 })], T0 + 35 * S)).toEqual([]);
    expect(mem.onStats([stat({ memoryPercent: 95 })], T0 + 40 * S)).toEqual([]);
    expect(kinds(mem.onStats([stat({ memoryPercent: 95 })], T0 + 45 * S))).toEqual(['act']);

    const log = engineWith('rules:\n  - {name: panic, when: {log: "^panic"}, then: restart, backoff: off, budget: 1/1h}\n');
    expect(kinds(log.onLog('id-web', { stream: 'stderr', text: 'panic: a' }, T0))).toEqual(['act']);
    expect(kinds(log.onLog('id-web', { stream: 'stderr', text: 'panic: b' }, T0 + S))).toEqual(['give-up']);
    log.reset('web', undefined, T0 + 2 * S);
    expect(kinds(log.onLog('id-web', { stream: 'stderr', text: 'panic: c' }, T0 + 3 * S))).toEqual(['act']);

    const disk = engineWith('rules:\n  - {name: full, when: {host: {disk-above: 90}}, then: stop, backoff: off, budget: 1/1h}\n');
    expect(kinds(disk.onHost(host(95), T0))).toEqual(['act']);
    expect(kinds(disk.onHost(host(95), T0 + 5 * S))).toEqual(['give-up']);
    disk.reset('web', undefined, T0 + 6 * S);
    expect(kinds(disk.onHost(host(95), T0 + 10 * S))).toEqual(['act']);
  });

  it('after a give-up expires (it ran reset-after without trouble), the condition acts again when it holds again', () => {
    const e = engineWith('rules:\n  - {name: sick, when: {unhealthy: 10s}, then: restart, backoff: off, budget: 1/1h}\n');
    e.onEvent(ev('health_status: unhealthy', T0), T0);
    expect(kinds(runTicks(e, T0, T0 + 25 * S))).toEqual(['act', 'give-up']);
    e.onEvent(ev('health_status: healthy', T0 + 30 * S), T0 + 30 * S);
    // Ten minutes without trouble, then unhealthy again: a new streak, the budget is whole again.
    const later = T0 + 30 * S + 11 * M;
    e.onEvent(ev('health_status: unhealthy', later), later);
    const ds = runTicks(e, later, later + 11 * S);
    expect(kinds(ds)).toEqual(['act']);
    expect(ds[0]?.reason).toMatch(/1st restart in 1h/);
  });
});

describe('a give-up clears only after reset-after WITHOUT trouble (issue item 5)', () => {
  it('memory that never drops under the line keeps the rule given up; once it ran 10 minutes below, it acts again', () => {
    const e = engineWith('rules:\n  - {name: leak, when: {memory: {above: 90%}}, then: restart, backoff: off, budget: 2/5m}\n');
    const out: Decision[] = [];
    let t = T0;
    for (; t <= T0 + 40 * M; t += 5 * S) out.push(...e.onStats([stat({ memoryPercent: 95 })], t));
    expect(kinds(out).filter((k) => k !== 'skip')).toEqual(['act', 'act', 'give-up']);
    expect(e.explain(t, 'web')[0]?.state).toBe('given-up');
    // Below the line for 11 minutes, then above: a new streak.
    for (; t <= T0 + 51 * M; t += 5 * S) expect(e.onStats([stat({ memoryPercent: 50 })], t)).toEqual([]);
    const back = e.onStats([stat({ memoryPercent: 95 })], t);
    expect(kinds(back)).toEqual(['act']);
    expect(back[0]?.reason).toMatch(/1st restart in 5m/);
  });

  it('the time of the last trouble survives a restart of the agent (state file and journal)', () => {
    const yaml = 'rules:\n  - {name: leak, when: {memory: {above: 90%}}, then: restart, backoff: off, budget: 1/5m}\n';
    const e = engineWith(yaml);
    const journal: Decision[] = [];
    let t = T0;
    for (; t <= T0 + 9 * M; t += 5 * S) journal.push(...e.onStats([stat({ memoryPercent: 95 })], t));
    const snap = e.snapshot();
    const again = engineWith(yaml, [container()], t);
    again.load(JSON.parse(JSON.stringify(snap)));
    // Still above, a minute later (11 minutes after the give-up): still given up.
    for (; t <= T0 + 12 * M; t += 5 * S) expect(kinds(again.onStats([stat({ memoryPercent: 95 })], t)).filter((k) => k !== 'skip')).toEqual([]);
    expect(again.explain(t, 'web')[0]?.state).toBe('given-up');
  });
});

describe('exits nobody saw (issue item 26)', () => {
  const rules = 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart}\n';
  it('an exit after the last moment an agent watched goes through the rules; older, seen or asked-for ones do not', () => {
    const exited = (over: Partial<ContainerSummary>) => container({ state: 'exited', exitCode: 1, startedAt: T0 - 5 * S, finishedAt: T0 - 2 * S, ...over });
    const e = engineWith(rules, [exited({})], T0);
    const ds = e.reconcile(T0 - 3 * S, T0);
    expect(kinds(ds)).toEqual(['act']);
    expect(ds[0]?.reason).toMatch(/^restarted web: exited with code 1; 1st restart/);
    expect(ds[0]?.trigger.eventTime).toBe(T0 - 2 * S);
    // Seen once, not twice: neither by a second reconcile nor by the engine replaying the die.
    expect(e.reconcile(T0 - 3 * S, T0 + 1)).toEqual([]);
    expect(e.onEvent(ev('die', T0 - 2 * S + 3, { exitCode: 1 }), T0 + 2)).toEqual([]);
    // Before the watermark (history), exit 0, or a stop asked for (143/137 without OOM): nothing.
    expect(engineWith(rules, [exited({})]).reconcile(T0 - S, T0)).toEqual([]);
    expect(engineWith(rules, [exited({ exitCode: 0 })]).reconcile(T0 - 3 * S, T0)).toEqual([]);
    expect(engineWith(rules, [exited({ exitCode: 143 })]).reconcile(T0 - 3 * S, T0)).toEqual([]);
    expect(kinds(engineWith('rules:\n  - {name: o, when: {oom: true}, then: restart}\n', [exited({ exitCode: 137, oomKilled: true })]).reconcile(T0 - 3 * S, T0))).toEqual(['act']);
    // Running again (Docker's policy or a person restarted it): nothing.
    expect(engineWith(rules, [exited({ state: 'running' })]).reconcile(T0 - 3 * S, T0)).toEqual([]);
  });

  it('a reconciled exit counts for the budget and the back-off like one seen live', () => {
    const e = engineWith('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: 10s-1m, budget: 1/10m}\n', [container()]);
    expect(kinds(e.onEvent(ev('die', T0, { exitCode: 1 }), T0))).toEqual(['act']);
    e.onEvent(ev('start', T0 + 100), T0 + 100);
    e.onModel({ kind: 'reset', containers: [container({ state: 'exited', exitCode: 1, startedAt: T0 + 100, finishedAt: T0 + 20 * S })] }, T0 + 30 * S);
    expect(kinds(e.reconcile(T0 + 10 * S, T0 + 30 * S))).toEqual(['give-up']);
  });
});

describe('explain says what the engine knows (issue item 10)', () => {
  it('counts unhealthy from the health log, adds no duration to exit rules, and names the rule that takes precedence', () => {
    const sick = container({ health: 'unhealthy', unhealthySince: T0 - 2 * M, startedAt: T0 - 10 * M });
    const e = engineWith(
      `rules:
  - {name: crash, when: {exit: nonzero}, then: restart}
  - {name: sick, when: {unhealthy: 5m}, then: restart}
  - {name: tell, when: {exit: nonzero}, then: notify}
  - {name: tell-any, when: {exit: any}, then: notify}
`,
      [sick],
    );
    const st = Object.fromEntries(e.explain(T0, 'web').map((s) => [s.rule, s]));
    expect(st.sick?.detail).toMatch(/unhealthy for 2m$/);
    expect(st.crash?.detail).toBe('armed: would restart on an exit with a non-zero code');
    expect(st.tell?.state).toBe('superseded');
    expect(st.tell?.detail).toBe('never acts on web: rule crash takes precedence on the same condition (earlier in the file); give crash `notify: true` to be told as well');
    // exit: any also fires on exit 0, which `crash` does not take: it can act.
    expect(st['tell-any']?.state).toBe('armed');
  });

  it('an unhealthy rule fires by the health log too: a container unhealthy for 2 minutes when the agent starts meets `unhealthy: 1m` at once', () => {
    const e = engineWith('rules:\n  - {name: sick, when: {unhealthy: 1m}, then: restart}\n', [container({ health: 'unhealthy', unhealthySince: T0 - 2 * M, startedAt: T0 - 10 * M })]);
    expect(e.nextWake()).toBe(T0 - M);
    expect(kinds(e.tick(T0))).toEqual(['act']);
  });
});

describe('one rule cannot flood the journal (issue item 30)', () => {
  it(`acts at most ${MAX_RULE_ACTIONS_PER_MINUTE} times a minute on one container, and says so once`, () => {
    const e = engineWith('rules:\n  - {name: chatty, when: {log: "line"}, then: notify, cooldown: 0s}\n');
    const out: Decision[] = [];
    for (let i = 0; i < 1000; i++) out.push(...e.onLog('id-web', { stream: 'stdout', text: `line ${i}` }, T0 + i * 10));
    expect(out.filter((d) => d.kind === 'act')).toHaveLength(MAX_RULE_ACTIONS_PER_MINUTE);
    const skips = out.filter((d) => d.kind === 'skip');
    expect(skips).toHaveLength(1);
    expect(skips[0]?.reason).toMatch(/rule chatty already acted on it 60 times in the last minute/);
    // Per container: a crash of many containers at once is not cut short by another one's chatter.
    const many = engineWith(
      'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart}\n',
      Array.from({ length: 100 }, (_, i) => container({ id: `id-${i}`, name: `c${i}` })),
    );
    const acts = Array.from({ length: 100 }, (_, i) => many.onEvent(ev('die', T0, { id: `id-${i}`, name: `c${i}`, exitCode: 1 }), T0)).flat();
    expect(acts.filter((d) => d.kind === 'act')).toHaveLength(100);
  });
});

describe('guard state for the state file (issue item 30)', () => {
  it('a snapshot carries back-off, budget and give-up into another engine', () => {
    const yaml = 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: 10s-5m, budget: 1/10m}\n';
    const e = engineWith(yaml);
    e.onEvent(ev('die', T0, { exitCode: 1 }), T0);
    e.onEvent(ev('start', T0 + 100), T0 + 100);
    expect(kinds(e.onEvent(ev('die', T0 + 20 * S, { exitCode: 1 }), T0 + 20 * S))).toEqual(['give-up']);
    const f = engineWith(yaml);
    f.load(JSON.parse(JSON.stringify(e.snapshot())));
    expect(f.explain(T0 + 30 * S, 'web')[0]?.state).toBe('given-up');
  });
});

describe('the health log replaces a first guess (issue item 10)', () => {
  it('first seen unhealthy from a list row (no log), then inspected: the log says since when', () => {
    const e = engineWith('rules:\n  - {name: sick, when: {unhealthy: 5m}, then: restart}\n', [container({ health: 'unhealthy', startedAt: T0 - 10 * M })]);
    expect(e.explain(T0 + 17 * S, 'web')[0]?.detail).toMatch(/unhealthy for 17s$/);
    e.onModel({ kind: 'upsert', container: container({ health: 'unhealthy', unhealthySince: T0 - 2 * M, startedAt: T0 - 10 * M }) }, T0 + 17 * S);
    expect(e.explain(T0 + 17 * S, 'web')[0]?.detail).toMatch(/unhealthy for 2m17s$/);
  });
});

describe('a condition that holds without a break is never "without trouble" (issue item 5, when its duration is longer than reset-after)', () => {
  it('unhealthy for 5s with reset-after 2s and a budget of 1: the second firing gives up instead of a new "1st" action', () => {
    const e = engineWith('rules:\n  - {name: ur, when: {unhealthy: 5s}, then: {exec: "true"}, backoff: {min: 1s, max: 1s, reset-after: 2s}, budget: 1/10m}\n');
    e.onEvent(ev('health_status: unhealthy', T0), T0);
    const ds = runTicks(e, T0, T0 + 40 * S);
    const acts = ds.filter((d) => d.kind === 'act');
    expect(acts.length).toBe(1);
    expect(kinds(ds)).toContain('give-up');
  });

  it('CPU above for 5s with reset-after 2s and a budget of 1: one action, then a give-up, while it stays busy', () => {
    const e = engineWith('rules:\n  - {name: hot, when: {cpu: {above: 10, for: 5s}}, then: {exec: "true"}, backoff: {min: 1s, max: 1s, reset-after: 2s}, budget: 1/10m}\n');
    const ds: Decision[] = [];
    for (let t = T0; t <= T0 + 40 * S; t += S) ds.push(...e.onStats([stat({ cpuPercent: 50, at: t })], t), ...e.tick(t));
    expect(ds.filter((d) => d.kind === 'act').length).toBe(1);
    expect(kinds(ds)).toContain('give-up');
  });

  it('a break in the condition longer than reset-after does count: after it, the budget starts over', () => {
    const e = engineWith('rules:\n  - {name: hot, when: {cpu: {above: 10, for: 3s}}, then: {exec: "true"}, backoff: {min: 1s, max: 1s, reset-after: 5s}, budget: 1/10m}\n');
    const ds: Decision[] = [];
    const feed = (from: number, to: number, cpu: number) => {
      for (let t = from; t <= to; t += S) ds.push(...e.onStats([stat({ cpuPercent: cpu, at: t })], t), ...e.tick(t));
    };
    feed(T0, T0 + 4 * S, 50); // fires once
    feed(T0 + 5 * S, T0 + 20 * S, 1); // 15 s calm
    feed(T0 + 21 * S, T0 + 25 * S, 50); // fires again: a new streak, acted on
    expect(ds.filter((d) => d.kind === 'act').length).toBe(2);
    expect(kinds(ds)).not.toContain('give-up');
  });
});
