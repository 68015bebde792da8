import { Box, Text } from 'ink';
import { helpLines, helpRoom, type HelpView } from './keymap.js';
import type { Theme } from './theme.js';

const TITLES: Record<HelpView, string> = { main: 'main view', logs: 'logs view', journal: 'journal' };

/**
 * The `?` help of a view: every key of the key table for it (keymap.ts),
 * scrolled from `top` when the list is longer than the screen.
 */
export function HelpScreen(props: { view: HelpView; readOnly: boolean; top: number; width: number; height: number; theme: Theme }) {
  const { view, readOnly, width, height, theme } = props;
  const lines = helpLines(view, readOnly, width);
  const room = helpRoom(height);
  const from = Math.min(props.top, Math.max(0, lines.length - room));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        Keys — {TITLES[view]}
        {readOnly ? ' (read-only)' : ''}
      </Text>
      {lines.slice(from, from + room).map((l) => (
        <Text key={l.key} wrap="truncate-end">
          {'  '}
          <Text color={theme.color('accent')}>{l.keys}</Text>
          {l.text}
        </Text>
      ))}
      <Text color={theme.color('muted')} wrap="truncate-end">
        {lines.length > room ? `${from + 1}-${Math.min(lines.length, from + room)}/${lines.length} j/k scroll, other keys close` : 'any key closes this help'}
      </Text>
    </Box>
  );
}
