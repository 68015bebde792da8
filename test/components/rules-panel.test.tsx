/**
 * The rules tab in a narrow pane: every line it draws is counted and cut to
 * the pane's width, so nothing wraps into the rows below it (a trial at
 * 50x15 saw `— journal (J for all) —l)`, the tail of a wrapped line).
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type React from 'react';
import { JournalScreen } from '../../tui/app/journal-screen.js';
import { RulesPanel } from '../../tui/app/rules-panel.js';
import { makeTheme } from '../../tui/app/theme.js';
import type { JournalEntry } from '../../core/rules/types.js';

const theme = makeTheme({ NO_COLOR: '1' });
const entry: JournalEntry = { seq: 1, ts: Date.parse('2026-01-02T03:04:05Z'), node: 'local', kind: 'agent', reason: 'agent started' };

describe('RulesPanel in a narrow pane', () => {
  it('wraps "no rule applies" into rows it counts: no line longer than the pane, the journal header whole', () => {
    const width = 40;
    const r = render(<RulesPanel agent={{ running: true, record: null, reason: null }} node="local" thisMachine statuses={[]} problems={[]} recent={[entry]} height={8} width={width} theme={theme} reachable />);
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
    const r = render(<RulesPanel agent={{ running: true, record: null, reason: null, pid: 42, problems: [full] }} node="edge-1" thisMachine statuses={[]} problems={['rules.yaml: a rule problem']} recent={[entry]} height={14} width={width} theme={theme} reachable />);
    const lines = (r.lastFrame() ?? '').split('\n');
    r.unmount();
    const text = lines.join(' ').replace(/\s+/g, ' ');
    expect(lines[0]?.startsWith('rules on edge-1 enforced by its agent (pid 42)')).toBe(true);
    expect(text).toContain('rules on edge-1 enforced by its agent (pid 42), with 1 problem:');
    expect(text).toContain('problem: the disk holding /var/lib/outpost is full (0 bytes available)');
    expect(text.indexOf('is full')).toBeLessThan(text.indexOf('a rule problem'));
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
  });
});

describe('the rules tab and the journal name their node (issue: a peer\'s agent shown by its pid, "Journal of this node")', () => {
  const record = { pid: 4242 } as never;
  const frame = (el: React.ReactElement) => {
    const r = render(el);
    const f = r.lastFrame() ?? '';
    r.unmount();
    return f;
  };

  it('a peer\'s agent is named by its node, not by a pid that means nothing here', () => {
    const peer = frame(<RulesPanel agent={{ running: true, record, reason: null }} node="gw-2" thisMachine={false} statuses={[]} problems={[]} recent={[]} height={6} width={120} theme={theme} reachable />);
    expect(peer).toContain('rules on gw-2 enforced by its agent');
    expect(peer).not.toContain('4242');
    const here = frame(<RulesPanel agent={{ running: true, record, reason: null }} node="edge-1" thisMachine statuses={[]} problems={[]} recent={[]} height={6} width={120} theme={theme} reachable />);
    expect(here).toContain('rules on edge-1 enforced by its agent (pid 4242)');
  });

  it('wraps the no-agent hint instead of cutting it: the command is whole at 120 columns', () => {
    const reason = 'the agent of this node is not running: no pid file at /var/lib/outpost/agent.pid (it was never started here, or it was stopped)';
    const f = frame(<RulesPanel agent={{ running: false, record: null, reason }} node="gw-2" thisMachine={false} statuses={[]} problems={[]} recent={[]} height={8} width={120} theme={theme} reachable />);
    const lines = f.split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('start one there with `outpost agent`');
    expect(f).not.toContain('…');
    const none = frame(<RulesPanel agent={null} node="gw-2" thisMachine={false} statuses={[]} problems={[]} recent={[]} height={4} width={120} theme={theme} reachable={false} />);
    expect(none).toContain('rules: no agent reachable for gw-2');
  });

  it('the journal\'s key hints fit the width whole, `? help` last, instead of being cut', () => {
    const footer = frame(<JournalScreen entries={[entry]} agent={null} node="gw-2" thisMachine={false} back={0} only={null} height={8} width={60} theme={theme} />).split('\n').at(-1) ?? '';
    expect(footer.length).toBeLessThanOrEqual(60);
    expect(footer).toMatch(/^j\/k scroll .*\? help$/);
    expect(footer).not.toContain('…');
  });

  it('the journal is titled with its node (and node/name when it keeps to one container)', () => {
    expect(frame(<JournalScreen entries={[entry]} agent={null} node="gw-2" thisMachine={false} back={0} only={null} height={8} width={80} theme={theme} />).split('\n')[0]).toMatch(/^Journal of gw-2 \(/);
    expect(frame(<JournalScreen entries={[{ ...entry, container: 'web' }]} agent={null} node="gw-2" thisMachine={false} back={0} only="web" height={8} width={80} theme={theme} />).split('\n')[0]).toMatch(/^Journal of gw-2\/web \(/);
  });
});
