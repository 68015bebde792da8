/**
 * The rules tab in a narrow pane: every line it draws is counted and cut to
 * the pane's width, so nothing wraps into the rows below it (a trial at
 * 50x15 saw `— journal (J for all) —l)`, the tail of a wrapped line).
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { RulesPanel } from '../../tui/app/rules-panel.js';
import { makeTheme } from '../../tui/app/theme.js';
import type { JournalEntry } from '../../core/rules/types.js';

const theme = makeTheme({ NO_COLOR: '1' });
const entry: JournalEntry = { seq: 1, ts: Date.parse('2026-01-02T03:04:05Z'), node: 'local', kind: 'agent', reason: 'agent started' };

describe('RulesPanel in a narrow pane', () => {
  it('wraps "no rule applies" into rows it counts: no line longer than the pane, the journal header whole', () => {
    const width = 40;
    const r = render(<RulesPanel agent={{ running: true, record: null, reason: null }} statuses={[]} problems={[]} recent={[entry]} height={8} width={width} theme={theme} reachable />);
    const lines = (r.lastFrame() ?? '').split('\n');
    r.unmount();
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
    expect(lines.join(' ')).toMatch(/no rule applies to this container \(rules file or\s+outpost\.restart-on label\)/);
    const header = lines.find((l) => l.includes('journal'));
    expect(header).toMatch(/^— journal \(J for all\) —*$/);
  });

  it("shows the agent's own problems (a full disk, a rules file gone) under its line, before the rules' (issue items 16 and 24)", () => {
    const width = 60;
    const full = 'the disk holding /var/lib/outpost is full (0 bytes available): the agent cannot write its journal or state; it enforces its rules from memory';
    const r = render(<RulesPanel agent={{ running: true, record: null, reason: null, pid: 42, problems: [full] }} statuses={[]} problems={['rules.yaml: a rule problem']} recent={[entry]} height={14} width={width} theme={theme} reachable />);
    const lines = (r.lastFrame() ?? '').split('\n');
    r.unmount();
    expect(lines[0]).toBe('rules enforced by the agent (pid 42), with 1 problem:');
    const text = lines.join(' ').replace(/\s+/g, ' ');
    expect(text).toContain('problem: the disk holding /var/lib/outpost is full (0 bytes available)');
    expect(text.indexOf('is full')).toBeLessThan(text.indexOf('a rule problem'));
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
  });
});
