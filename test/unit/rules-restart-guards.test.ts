/**
 * Guard state across an agent restart (issue items 20 and 21): the
 * per-minute limit is kept with the other guard state, and times that lie in
 * the future (a clock that ran ahead and was set back) are capped to now.
 * Pure but for a temp directory: a fake clock, no Docker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RuleEngine, MAX_RULE_ACTIONS_PER_MINUTE, type Decision } from '../../core/rules/engine.js';
import { parseRules } from '../../core/rules/parse.js';
import { readGuardState, writeGuardState } from '../../core/agent/store.js';
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
