import { Box, Text } from 'ink';
import type { JournalEntry } from '../../core/rules/types.js';
import type { AgentState } from '../../core/rules/port.js';
import { inert } from '../presentation/inert.js';
import { wrapText } from '../presentation/format.js';
import { fitHints } from './logs-screen.js';
import { agentLine, entryColor, entryDetail, wrapEntry } from './rules-panel.js';
import type { Theme } from './theme.js';

/**
 * The Journal view: every decision of the node's rule engine, newest at the
 * bottom. Long reasons wrap (indented under the time); the entry at the
 * bottom is the selected one (bold), and `enter` shows all its fields.
 */
export function JournalScreen(props: {
  entries: readonly JournalEntry[];
  agent: AgentState | null;
  /** The node whose journal it is, and whether it is this machine. */
  node: string;
  thisMachine: boolean;
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
  const end = Math.max(0, list.length - props.back);
  const selected = end > 0 ? list[end - 1] : undefined;
  const a = agentLine(props.agent, props.node, props.thisMachine);
  const agentRows = wrapText(a.text, width).slice(0, 2);
  const body = Math.max(1, height - 2 - agentRows.length);
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
          {` of ${inert(props.node)}${props.only ? `/${inert(props.only)}` : ''}`} <Text color={theme.color('muted')}>({list.length} entries{props.back > 0 ? `, ${props.back} newer below` : ', following'})</Text>
        </Text>
      </Box>
      <Box flexDirection="column" height={agentRows.length} width={width}>
        {agentRows.map((l, i) => (
          <Text key={i} color={theme.color(a.color)} wrap="truncate-end">
            {l}
          </Text>
        ))}
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
          {props.detail ? 'enter/esc back to the list' : fitHints('', ['j/k scroll', 'enter details', 'g/G top/bottom', `c ${props.only ? 'all containers' : 'only the selected container'}`, 'esc back', '? help'], width)}
        </Text>
      </Box>
    </Box>
  );
}
