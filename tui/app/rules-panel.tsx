import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import type { RuleStatus } from '../../core/rules/engine.js';
import type { JournalEntry } from '../../core/rules/types.js';
import type { AgentState } from '../../core/rules/port.js';
import { inert } from '../presentation/inert.js';
import type { AgentMarks } from '../presentation/container-line.js';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Theme } from './theme.js';
import { wrapText } from '../presentation/format.js';

const stateWords: Record<RuleStatus['state'], { text: string; color: 'ok' | 'warn' | 'bad' | 'muted' }> = {
  armed: { text: 'armed', color: 'ok' },
  pending: { text: 'waiting', color: 'warn' },
  'backing-off': { text: 'backing off', color: 'warn' },
  'given-up': { text: 'GAVE UP', color: 'bad' },
  maintenance: { text: 'paused', color: 'muted' },
  'left-to-docker': { text: 'docker', color: 'muted' },
  superseded: { text: 'superseded', color: 'muted' },
};

/** What the rules tab and the journal say of a node whose rule engine cannot be reached. */
export const noAgent = (node: string): string => `rules: no agent reachable for ${node}`;

/**
 * What the agent did to each listed container, from its journal: the
 * restarts it made (of this container, not of an earlier one of the same
 * name) and whether it gave up on it (a give-up not followed by a reset or a
 * new action).
 */
export function agentMarks(entries: readonly JournalEntry[], containers: readonly ContainerSummary[]): Map<string, AgentMarks> {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const out = new Map<string, AgentMarks>();
  for (const e of entries) {
    if (!e.container) continue;
    const c = byName.get(e.container);
    if (!c) continue;
    if (e.containerId ? e.containerId !== c.id : e.ts < c.created) continue;
    const m = out.get(c.id) ?? { restarts: 0, gaveUp: false };
    if (e.kind === 'act' && e.action?.kind === 'restart') m.restarts++;
    if (e.kind === 'give-up') m.gaveUp = true;
    else if (e.kind === 'reset' || e.kind === 'act') m.gaveUp = false;
    out.set(c.id, m);
  }
  return out;
}

/**
 * Whether an agent enforces the rules on `node`. Its pid is said only on
 * this machine, where it means something (a peer's agent runs elsewhere).
 * With problems (a full disk, a rules file it could not load), it says how
 * many; the problems themselves are the panel's next lines.
 */
export function agentLine(agent: AgentState | null, node: string, thisMachine: boolean): { text: string; color: 'ok' | 'bad' | 'muted' } {
  const name = inert(node);
  if (!agent) return { text: `rules on ${name}: checking…`, color: 'muted' };
  if (agent.running) {
    const pid = agent.pid ?? agent.record?.pid;
    const who = `rules on ${name} enforced by its agent${thisMachine && pid !== undefined ? ` (pid ${pid})` : ''}`;
    const n = agent.problems?.length ?? 0;
    if (n > 0) return { text: `${who}, with ${n} problem${n === 1 ? '' : 's'}:`, color: 'bad' };
    return { text: who, color: 'ok' };
  }
  return { text: `no agent enforces rules on ${name}: ${inert(agent.reason ?? 'not running')} — start one ${thisMachine ? 'with' : 'there with'} \`outpost agent\``, color: 'bad' };
}

export function entryTime(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function entryColor(e: JournalEntry): 'ok' | 'warn' | 'bad' | 'muted' | undefined {
  switch (e.kind) {
    case 'act':
      return 'ok';
    case 'defer':
      return 'warn';
    case 'give-up':
    case 'error':
      return 'bad';
    case 'outcome':
      return e.ok ? 'muted' : 'bad';
    case 'notify':
      return 'warn';
    default:
      return 'muted';
  }
}

export function entryLine(e: JournalEntry): string {
  const kind = e.kind === 'outcome' ? (e.ok ? 'done' : 'FAILED') : e.kind;
  return `${entryTime(e.ts)} ${kind.padEnd(7)} ${inert(e.reason)}`;
}

/** A journal entry's line, wrapped to `width` with its reason indented under itself. */
export function wrapEntry(e: JournalEntry, width: number): string[] {
  const head = entryLine(e);
  const indent = 23;
  const first = wrapText(head, width);
  if (first.length <= 1 || width - indent < 10) return first;
  const rest = head.slice((first[0] as string).length).trimStart();
  return [first[0] as string, ...wrapText(rest, width - indent).map((l) => `${' '.repeat(indent)}${l}`)];
}

/** The Rules tab: which rules apply to the selected container and where each one stands. */
export function RulesPanel(props: {
  agent: AgentState | null;
  /** The node whose rules these are (its name as the fleet knows it), and whether it is this machine. */
  node: string;
  thisMachine: boolean;
  statuses: RuleStatus[] | null;
  problems: string[];
  recent: readonly JournalEntry[];
  height: number;
  width: number;
  theme: Theme;
  /** Whether the node's rule engine can be reached (it has a rules port). */
  reachable: boolean;
}) {
  const { theme, height, width } = props;
  if (!props.reachable) {
    return (
      <Box height={height}>
        <Text color={theme.color('muted')}>{noAgent(inert(props.node))}</Text>
      </Box>
    );
  }
  const a = agentLine(props.agent, props.node, props.thisMachine);
  const lines: { key: string; el: ReactElement }[] = [];
  // Wrapped, not cut: the remedy (`outpost agent`) is at its end.
  for (const [i, l] of wrapText(a.text, width).entries()) lines.push({ key: `agent:${i}`, el: <Text color={theme.color(a.color)} wrap="truncate-end">{l}</Text> });
  // The agent's own problems first (a full disk, a rules file it could not load): what it enforces depends on them.
  const problems = [...(props.agent?.problems ?? []), ...props.problems];
  for (const [i, l] of problems.slice(0, 3).flatMap((p) => wrapText(`problem: ${inert(p)}`, width)).entries()) {
    lines.push({ key: `p:${i}`, el: <Text color={theme.color('bad')} wrap="truncate-end">{l}</Text> });
  }
  if (props.statuses === null) {
    lines.push({ key: 'loading', el: <Text color={theme.color('muted')} wrap="truncate-end">reading the rules…</Text> });
  } else if (props.statuses.length === 0) {
    // Wrapped here, one row per line: a Text left to wrap itself takes rows the panel does not count, and overlaps what follows.
    for (const [i, l] of wrapText('no rule applies to this container (rules file or outpost.restart-on label)', width).entries()) {
      lines.push({ key: `none:${i}`, el: <Text color={theme.color('muted')} wrap="truncate-end">{l}</Text> });
    }
  }
  // Each rule's explanation is wrapped under it (indented past the state word), not cut.
  for (const s of props.statuses ?? []) {
    const w = stateWords[s.state];
    const rule = inert(s.rule);
    const text = wrapText(`${rule} ${inert(s.detail)}`, Math.max(10, width - 12));
    text.forEach((l, i) =>
      lines.push({
        key: `r:${s.rule}:${i}`,
        el:
          i === 0 ? (
            <Text wrap="truncate-end">
              <Text color={theme.color(w.color)}>{w.text.padEnd(12)}</Text>
              <Text bold>{l.slice(0, rule.length)}</Text>
              <Text color={theme.color('muted')}>{l.slice(rule.length)}</Text>
            </Text>
          ) : (
            <Text wrap="truncate-end" color={theme.color('muted')}>
              {' '.repeat(12)}
              {l}
            </Text>
          ),
      }),
    );
  }
  // The newest entries that fit, each wrapped (reasons are what matters: not cut off).
  const room = Math.max(0, height - lines.length - 1);
  const recent: { key: string; el: ReactElement }[] = [];
  for (let k = props.recent.length - 1; k >= 0; k--) {
    const e = props.recent[k] as JournalEntry;
    const rows = wrapEntry(e, width);
    if (recent.length + rows.length > room) {
      if (recent.length === 0 && room > 0) rows.splice(room);
      else break;
    }
    recent.unshift(...rows.map((text, i) => ({ key: `j:${e.seq}:${e.ts}:${i}`, el: <Text color={theme.color(entryColor(e) ?? 'muted')} wrap="truncate-end">{text}</Text> })));
  }
  if (recent.length > 0) lines.push({ key: 'jh', el: <Text color={theme.color('muted')}>— journal (J for all) —</Text> }, ...recent);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {lines.slice(0, height).map((l) => (
        <Box key={l.key} height={1} width={width}>
          {l.el}
        </Box>
      ))}
    </Box>
  );
}

/** The fields of one journal entry, one per line, for the detail view. */
export function entryDetail(e: JournalEntry): string[] {
  const t = (ms: number | null | undefined) => (typeof ms === 'number' ? `${entryTime(ms)} (${new Date(ms).toISOString()})` : '-');
  const out = [`when:       ${t(e.ts)}`, `kind:       ${e.kind}`, `reason:     ${inert(e.reason)}`];
  if (e.rule) out.push(`rule:       ${inert(e.rule)}`);
  if (e.container) out.push(`container:  ${inert(e.container)}${e.containerId ? ` (${e.containerId.slice(0, 12)})` : ''}`);
  if (e.action) out.push(`action:     ${inert(JSON.stringify(e.action))}`);
  if (e.trigger) out.push(`trigger:    ${inert(JSON.stringify(e.trigger))}`);
  if (e.level !== undefined) out.push(`level:      ${e.level}`);
  if (e.attempt !== undefined) out.push(`attempt:    ${e.attempt}`);
  if (e.at !== undefined) out.push(`due:        ${t(e.at)}`);
  if (e.nextAllowedAt !== undefined) out.push(`next allowed: ${e.nextAllowedAt === null ? 'now' : t(e.nextAllowedAt)}`);
  if (e.ok !== undefined) out.push(`ok:         ${e.ok ? 'yes' : 'no'}${e.durationMs !== undefined ? ` in ${e.durationMs} ms` : ''}`);
  if (e.error) out.push(`error:      ${inert(e.error)}`);
  if (e.latencyMs !== undefined) out.push(`latency:    ${e.latencyMs} ms`);
  out.push(`node:       ${inert(e.node)}   seq ${e.seq}`);
  return out;
}
