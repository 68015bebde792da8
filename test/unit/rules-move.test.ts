/** The rules' `move` action: parsed, worded, and carried out through the placement controller the agent links. */
import { describe, expect, it } from 'vitest';
import { linkMover, moveContainer } from '../../core/agent/placement-link.js';
import { runAction } from '../../core/agent/runner.js';
import type { Node } from '../../core/node.js';
import { parseRules } from '../../core/rules/parse.js';
import { describeAction, pastTense } from '../../core/rules/wording.js';

const rules = (then: string) => parseRules(`rules:\n  - name: away\n    match: {label: ["outpost.workload"]}\n    when: {exit: any}\n    then: ${then}\n`, 'rules.yaml');

describe('the move action', () => {
  it('parses as a word or a mapping, and a bad value names the field', () => {
    expect(rules('move').ruleSet.rules[0]?.action).toEqual({ kind: 'move' });
    expect(rules('{move: true}').ruleSet.rules[0]?.action).toEqual({ kind: 'move' });
    const bad = rules('{move: 3}');
    expect(bad.ruleSet.rules).toHaveLength(0);
    expect(bad.issues[0]).toMatchObject({ field: 'then.move', message: 'expected true, got number 3' });
    const typo = rules('mvoe');
    expect(typo.issues[0]?.message).toMatch(/expected one of .*move/);
    expect(describeAction({ kind: 'move' })).toBe('move to another node (placement)');
    expect(pastTense({ kind: 'move' }, 'web-0')).toBe('moving web-0 to another node');
  });

  it('goes through the controller linked to the state directory; without one it fails with what to do', async () => {
    // The node is not used by a move (the controller moves through the fleet's nodes).
    const node = {} as Node;
    const none = await runAction(node, 'abc', { kind: 'move' }, (id) => moveContainer('/tmp/op-move-none', id));
    expect(none.error).toMatch(/move needs the placement engine: run `outpost agent --listen` with peers and placement\.yaml/);
    const asked: string[] = [];
    const unlink = linkMover('/tmp/op-move-linked', async (id) => {
      asked.push(id);
      return 'to n3';
    });
    try {
      const done = await runAction(node, 'abc', { kind: 'move' }, (id) => moveContainer('/tmp/op-move-linked/', id));
      expect(done).toEqual({ error: undefined, detail: ' (to n3)' });
      expect(asked).toEqual(['abc']);
      const refused = await runAction(node, 'abc', { kind: 'move' }, () => Promise.reject(new Error('0/2 nodes are available: 2 insufficient memory.')));
      expect(refused.error).toBe('0/2 nodes are available: 2 insufficient memory.');
    } finally {
      unlink();
    }
    expect((await runAction(node, 'abc', { kind: 'move' }, (id) => moveContainer('/tmp/op-move-linked', id))).error).toMatch(/needs the placement engine/);
  });
});
