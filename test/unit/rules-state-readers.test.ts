/**
 * Every reader of the agent's state (the TUI's rules tab, `rules explain`)
 * takes guard state from guards.json first, as the agent does: a give-up
 * whose journal entries rotated away is still a give-up there (issue item 30).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalRules } from '../../core/agent/local-rules.js';
import { RuleEngine } from '../../core/rules/engine.js';
import { restoreEngine } from '../../core/agent/restore.js';
import { GUARD_FILE } from '../../core/agent/store.js';
import { summary } from '../harness/summary.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('guard state readers', () => {
  it('LocalRules (every face\'s reader) shows a give-up kept only in guards.json, and replays only the journal after it', () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-readers-'));
    dirs.push(home);
    const state = join(home, 'state', 'outpost');
    mkdirSync(state, { recursive: true });
    mkdirSync(join(home, 'config', 'outpost'), { recursive: true });
    writeFileSync(join(home, 'config', 'outpost', 'rules.yaml'), 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, budget: 1/1h}\n');
    const now = Date.now();
    writeFileSync(
      join(state, GUARD_FILE),
      JSON.stringify({
        seq: 40,
        savedAt: now - 1000,
        guards: [{ rule: 'crash', container: 'web', level: 1, lastActionAt: now - 50_000, actions: [now - 50_000], gaveUpAt: now - 40_000, troubleAt: now - 40_000, pending: null }],
        exits: {},
      }),
    );
    // The journal rotated: only chatter after seq 40 is left (and one old entry that is already in the state file).
    const line = (seq: number, extra: object) => JSON.stringify({ seq, ts: now - 500, node: 'local', kind: 'notify', reason: 'chatter', ...extra });
    writeFileSync(join(state, 'journal.jsonl'), `${line(39, { kind: 'act', rule: 'crash', container: 'web', level: 1 })}\n${line(41, {})}\n`);
    const node = { name: 'local', containers: () => [], list: () => Promise.resolve([]), statsOnce: () => Promise.resolve([]) };
    const rules = new LocalRules(node, { rulesFile: join(home, 'config', 'outpost', 'rules.yaml'), stateDir: state });
    const { statuses } = rules.explainNow([summary({ startedAt: now - 60_000 })], [], 'web', now);
    expect(statuses[0]).toMatchObject({ rule: 'crash', state: 'given-up', gaveUpAt: now - 40_000, budgetUsed: 1 });

    const e = new RuleEngine();
    const r = restoreEngine(e, state);
    expect(r).toMatchObject({ fromStateFile: true, replayed: 1, problem: null });
  });
});
