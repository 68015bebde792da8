import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import type { RuleStatus } from '../../core/rules/engine.js';
import type { JournalEntry } from '../../core/agent/journal.js';
import type { AgentStatus } from '../../core/agent/store.js';
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

export function agentLine(agent: AgentStatus | null): { text: string; color: 'ok' | 'bad' | 'muted' } {
  if (!agent) return { text: 'rules: checking…', color: 'muted' };
  if (agent.running) return { text: `rules enforced by the agent (pid ${agent.record?.pid})`, color: 'ok' };
  return { text: `no agent enforces rules on this node: ${agent.reason} — start one with \`outpost agent\``, color: 'bad' };
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
  agent: AgentStatus | null;
  statuses: RuleStatus[] | null;
  problems: string[];
  recent: readonly JournalEntry[];
  height: number;
  width: number;
  theme: Theme;
  local: boolean;
}) {
  const { theme, height, width } = props;
  if (!props.local) {
    return (
      <Box height={height}>
        <Text color={theme.color('muted')}>rules of a peer are shown through its agent (not connected)</Text>
      </Box>
    );
  }
  const a = agentLine(props.agent);
  const lines: { key: string; el: ReactElement }[] = [];
  lines.push({ key: 'agent', el: <Text color={theme.color(a.color)} wrap="truncate-end">{a.text}</Text> });
  for (const [i, l] of props.problems.slice(0, 3).flatMap((p) => wrapText(`problem: ${inert(p)}`, width)).entries()) {
    lines.push({ key: `p:${i}`, el: <Text color={theme.color('bad')} wrap="truncate-end">{l}</Text> });
  }
  if (props.statuses === null) {
    lines.push({ key: 'loading', el: <Text color={theme.color('muted')}>reading the rules…</Text> });
  } else if (props.statuses.length === 0) {
    lines.push({ key: 'none', el: <Text color={theme.color('muted')}>no rule applies to this container (rules file or outpost.restart-on label)</Text> });
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

/**
 * The Journal view: every decision of the node's rule engine, newest at the
 * bottom. Long reasons wrap (indented under the time); the entry at the
 * bottom is the selected one (bold), and `enter` shows all its fields.
 */
export function JournalScreen(props: {
  entries: readonly JournalEntry[];
  agent: AgentStatus | null;
  /** Lines scrolled up from the bottom (0 follows). */
  back: number;
  only: string | null;
  height: number;
  width: number;
  theme: Theme;
  /** Show every field of the selected entry. */
  detail?: boolean;
}) {
  const { theme, height, width } = props;
  const list = props.only ? props.entries.filter((e) => e.container === props.only) : props.entries;
  const body = Math.max(1, height - 3);
  const end = Math.max(0, list.length - props.back);
  const selected = end > 0 ? list[end - 1] : undefined;
  const a = agentLine(props.agent);
  const rows: { key: string; text: string; color: ReturnType<Theme['color']>; bold: boolean }[] = [];
  if (props.detail && selected) {
    // Each field's value wraps under itself, past its name.
    const lines = entryDetail(selected).flatMap((l) => {
      const at = /^\S[^:]*: +/.exec(l)?.[0].length ?? 0;
      const indent = at > 0 && width - at >= 16 ? at : 0;
      const parts = wrapText(l.slice(indent), width - indent);
      return parts.map((p, i) => (i === 0 ? `${l.slice(0, indent)}${p}` : `${' '.repeat(indent)}${p}`));
    });
    for (const [i, l] of lines.entries()) rows.push({ key: `d${i}`, text: l, color: undefined, bold: i === 0 });
  } else {
    for (let k = end - 1; k >= 0 && rows.length < body; k--) {
      const e = list[k] as JournalEntry;
      const pieces = wrapEntry(e, width);
      const color = theme.color(entryColor(e) ?? 'muted');
      for (let p = pieces.length - 1; p >= 0 && rows.length < body; p--) rows.unshift({ key: `${e.seq}:${e.ts}:${p}`, text: pieces[p] as string, color, bold: e === selected });
    }
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box height={1} width={width}>
        <Text wrap="truncate-end">
          <Text bold>Journal</Text>
          {props.only ? ` of ${inert(props.only)}` : ' of this node'} <Text color={theme.color('muted')}>({list.length} entries{props.back > 0 ? `, ${props.back} newer below` : ', following'})</Text>
        </Text>
      </Box>
      <Box height={1} width={width}>
        <Text color={theme.color(a.color)} wrap="truncate-end">
          {a.text}
        </Text>
      </Box>
      <Box flexDirection="column" height={body} width={width}>
        {list.length === 0 ? <Text color={theme.color('muted')}>(the journal is empty: no rule has acted yet)</Text> : null}
        {rows.slice(0, body).map((r) => (
          <Text key={r.key} color={r.color} bold={r.bold} wrap="truncate-end">
            {r.text}
          </Text>
        ))}
      </Box>
      <Box height={1} width={width}>
        <Text color={theme.color('muted')} wrap="truncate-end">
          {props.detail ? 'enter/esc back to the list' : `j/k scroll  enter details  g/G top/bottom  c ${props.only ? 'all containers' : 'only the selected container'}  esc back  ? help`}
        </Text>
      </Box>
    </Box>
  );
}
