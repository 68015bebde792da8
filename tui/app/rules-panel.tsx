import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import type { RuleStatus } from '../../core/rules/engine.js';
import type { JournalEntry } from '../../core/rules/journal.js';
import type { AgentStatus } from '../../core/rules/store.js';
import { inert } from '../presentation/inert.js';
import type { Theme } from './theme.js';

const stateWords: Record<RuleStatus['state'], { text: string; color: 'ok' | 'warn' | 'bad' | 'muted' }> = {
  armed: { text: 'armed', color: 'ok' },
  pending: { text: 'waiting', color: 'warn' },
  'backing-off': { text: 'backing off', color: 'warn' },
  'given-up': { text: 'GAVE UP', color: 'bad' },
  maintenance: { text: 'paused', color: 'muted' },
  'left-to-docker': { text: 'docker', color: 'muted' },
};

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
  for (const p of props.problems.slice(0, 2)) {
    lines.push({ key: `p:${p}`, el: <Text color={theme.color('bad')} wrap="truncate-end">problem: {inert(p)}</Text> });
  }
  if (props.statuses === null) {
    lines.push({ key: 'loading', el: <Text color={theme.color('muted')}>reading the rules…</Text> });
  } else if (props.statuses.length === 0) {
    lines.push({ key: 'none', el: <Text color={theme.color('muted')}>no rule applies to this container (rules file or outpost.restart-on label)</Text> });
  }
  for (const s of props.statuses ?? []) {
    const w = stateWords[s.state];
    lines.push({
      key: `r:${s.rule}`,
      el: (
        <Text wrap="truncate-end">
          <Text color={theme.color(w.color)}>{w.text.padEnd(12)}</Text>
          <Text bold>{inert(s.rule)}</Text> <Text color={theme.color('muted')}>{inert(s.detail)}</Text>
        </Text>
      ),
    });
  }
  const room = Math.max(0, height - lines.length - 1);
  const recent = props.recent.slice(-room);
  if (recent.length > 0) lines.push({ key: 'jh', el: <Text color={theme.color('muted')}>— journal (J for all) —</Text> });
  for (const e of recent) {
    lines.push({ key: `j:${e.seq}:${e.ts}`, el: <Text color={theme.color(entryColor(e) ?? 'muted')} wrap="truncate-end">{entryLine(e)}</Text> });
  }
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

/** The Journal view: every decision of the node's rule engine, newest at the bottom. */
export function JournalScreen(props: {
  entries: readonly JournalEntry[];
  agent: AgentStatus | null;
  /** Lines scrolled up from the bottom (0 follows). */
  back: number;
  only: string | null;
  height: number;
  width: number;
  theme: Theme;
}) {
  const { theme, height, width } = props;
  const list = props.only ? props.entries.filter((e) => e.container === props.only) : props.entries;
  const body = height - 3;
  const end = Math.max(0, list.length - props.back);
  const shown = list.slice(Math.max(0, end - body), end);
  const a = agentLine(props.agent);
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
        {shown.length === 0 ? <Text color={theme.color('muted')}>(the journal is empty: no rule has acted yet)</Text> : null}
        {shown.map((e) => (
          <Text key={`${e.seq}:${e.ts}`} color={theme.color(entryColor(e) ?? 'muted')} wrap="truncate-end">
            {entryLine(e)}
          </Text>
        ))}
      </Box>
      <Box height={1} width={width}>
        <Text color={theme.color('muted')} wrap="truncate-end">
          j/k scroll  g/G top/bottom  c {props.only ? 'all containers' : 'only the selected container'}  esc back  ? help
        </Text>
      </Box>
    </Box>
  );
}
