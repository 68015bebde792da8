/**
 * Defects found by a trial on a small site: a deferred action that outlived
 * a change of rules, explain calling a spent budget "armed", and label
 * problems that named no container.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { RuleEngine, type Decision } from '../../core/rules/engine.js';
import { parseRules } from '../../core/rules/parse.js';
import { ruleFromLabels } from '../../core/rules/labels.js';
import { summary } from '../harness/summary.js';
import type { ContainerEvent, ContainerSummary } from '../../core/model/types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const web = (over: Partial<ContainerSummary> = {}) => summary({ created: T0 - 60_000, startedAt: T0 - 60_000, ...over });
const ev = (action: string, at: number, over: Partial<ContainerEvent> = {}): ContainerEvent => ({
  node: 'local', id: 'id-web', name: 'web', image: 'nginx:1.25', action, timeNano: at * 1e6, attributes: {}, ...over,
});

function rules(yaml: string) {
  const { ruleSet, issues } = parseRules(yaml, 'rules.yaml');
  expect(issues).toEqual([]);
  return ruleSet;
}

describe('rule engine after a trial', () => {
  it('drops a deferred action when a rule added since takes precedence on the same condition', () => {
    const e = new RuleEngine();
    e.setRules(rules('rules:\n  - {name: low, when: {exit: nonzero}, then: restart, backoff: 10s-5m}\n'));
    e.onModel({ kind: 'reset', containers: [web({ state: 'exited', exitCode: 1 })] }, T0);
    expect(e.onEvent(ev('die', T0, { exitCode: 1 }), T0).map((d) => d.kind)).toEqual(['act']);
    const deferred = e.onEvent(ev('die', T0 + 1000, { exitCode: 1 }), T0 + 1000);
    expect(deferred.map((d) => d.kind)).toEqual(['defer']);
    // A higher-priority rule on the same condition arrives before the deferred restart is due.
    e.setRules(rules('rules:\n  - {name: low, when: {exit: nonzero}, then: restart, backoff: 10s-5m}\n  - {name: high, priority: 10, when: {exit: nonzero}, then: notify}\n'));
    const due: Decision[] = e.tick(T0 + 20_000);
    expect(due.map((d) => d.kind)).toEqual(['skip']);
    expect(due[0]?.reason).toBe('dropped the deferred restart of web: rule high now takes precedence on the same condition');
  });

  it('explain says a spent budget gives up next time, not plain "armed"', () => {
    const e = new RuleEngine();
    e.setRules(rules('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: off, budget: 1/10m}\n'));
    e.onModel({ kind: 'reset', containers: [web({ state: 'exited', exitCode: 1 })] }, T0);
    expect(e.onEvent(ev('die', T0, { exitCode: 1 }), T0).map((d) => d.kind)).toEqual(['act']);
    const [status] = e.explain(T0 + 1000, 'web');
    expect(status?.state).toBe('armed');
    expect(status?.detail).toContain('budget 1/1 used up in 10m: the next time it holds, the rule gives up instead');
  });

  it("a label rule's problem names its container", () => {
    const { rule, issues } = ruleFromLabels({ id: 'x', name: 'badlabel', labels: { 'outpost.restart-on': 'exit-sometimes' } });
    expect(rule).toBeNull();
    expect(issues[0]).toMatchObject({ container: 'badlabel', field: 'outpost.restart-on' });
  });
});

describe('the local rules port reads the rules the running agent enforces', () => {
  it('uses the rules file recorded by a running agent, unless one was asked for', async () => {
    const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { LocalRules } = await import('../../core/agent/local-rules.js');
    const { writeAgentRecord } = await import('../../core/agent/store.js');
    const dir = mkdtempSync(join(tmpdir(), 'op-lr-'));
    try {
      const state = join(dir, 'state');
      mkdirSync(state);
      const agentRules = join(dir, 'site-rules.yaml');
      writeFileSync(agentRules, 'rules:\n  - {name: crash-loop, when: {exit: nonzero}, then: restart}\n');
      const node = { name: 'local', containers: () => [web({ name: 'crashy' })], list: async () => [], statsOnce: async () => [] };
      const configured = join(dir, 'none.yaml');
      const port = new LocalRules(node, { rulesFile: configured, stateDir: state });
      expect(port.rulesPath()).toBe(configured);
      // A process named like an agent stands in for a running one.
      const { spawn } = await import('node:child_process');
      const standIn = spawn('sh', ['-c', 'sleep 30', 'outpost-agent-stand-in'], { stdio: 'ignore' });
      onTestFinished(() => void standIn.kill());
      writeAgentRecord(state, { pid: standIn.pid ?? 0, startedAt: Date.now(), node: 'local', endpoint: 'unix:///x', rulesFile: agentRules, rules: 1, problems: 0, version: 'test' });
      const fresh = new LocalRules(node, { rulesFile: configured, stateDir: state });
      expect(fresh.rulesPath()).toBe(agentRules);
      expect((await fresh.explain('crashy', { stats: [] })).statuses.map((s) => s.rule)).toEqual(['crash-loop']);
      const asked = new LocalRules(node, { rulesFile: configured, stateDir: state, explicitRules: true });
      expect(asked.rulesPath()).toBe(configured);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rules file checks after a trial', () => {
  it('refuses `exec: ""` as it refuses `exec: []`', () => {
    const { issues } = parseRules('rules:\n  - {name: x, when: {exit: nonzero}, then: {exec: ""}}\n', 'rules.yaml');
    expect(issues.map((i) => i.message)).toEqual(['expected a command, got an empty string']);
  });
});

describe('a restart that failed while the engine was away', () => {
  const yaml = 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: off}\n';
  const exited = () => web({ state: 'exited', exitCode: 3, finishedAt: T0 + 1000, startedAt: T0 - 60_000 });

  it('is taken up again by the reconcile after the engine is back (a restarted agent, from its journal)', () => {
    const e = new RuleEngine();
    e.setRules(rules(yaml));
    const trigger = { kind: 'exit' as const, detail: 'exited with code 3', eventTime: T0 + 1000 };
    e.restore([
      { kind: 'act', ts: T0 + 1010, rule: 'crash', container: 'web', containerId: 'id-web', level: 1, action: { kind: 'restart' }, trigger },
      { kind: 'outcome', ts: T0 + 1020, rule: 'crash', container: 'web', containerId: 'id-web', action: { kind: 'restart' }, ok: false },
    ]);
    e.onModel({ kind: 'reset', containers: [exited()] }, T0 + 30_000);
    const ds = e.reconcile(T0 + 20_000, T0 + 30_000);
    expect(ds.map((d) => d.kind)).toEqual(['act']);
    expect(ds[0]?.reason).toMatch(/^restarted web: exited with code 3/);
  });

  it('is not taken up again when the restart worked', () => {
    const e = new RuleEngine();
    e.setRules(rules(yaml));
    const trigger = { kind: 'exit' as const, detail: 'exited with code 3', eventTime: T0 + 1000 };
    e.restore([
      { kind: 'act', ts: T0 + 1010, rule: 'crash', container: 'web', containerId: 'id-web', level: 1, action: { kind: 'restart' }, trigger },
      { kind: 'outcome', ts: T0 + 1020, rule: 'crash', container: 'web', containerId: 'id-web', action: { kind: 'restart' }, ok: true },
    ]);
    e.onModel({ kind: 'reset', containers: [exited()] }, T0 + 30_000);
    expect(e.reconcile(T0 + 20_000, T0 + 30_000)).toEqual([]);
  });
});
