/**
 * The main view's layout, shared by the Ink app and the first frame painted
 * before Ink has loaded (tui/app/first-frame.ts), so the two agree row for row.
 */

/**
 * The frame's size for a terminal: one row short of it (a frame as tall as the terminal makes
 * Ink clear the screen on each render), and never wider or taller than the terminal: a frame
 * wider than the terminal wraps, and its lines land on each other.
 */
export function frameSize(columns: number, rows: number): { width: number; height: number } {
  return { width: Math.max(1, columns || 80), height: Math.max(1, (rows || 24) - 1) };
}

/**
 * Rows of the container table (its heading included) and of the detail pane (its tab line
 * included; 0 when there is no room for it: below 9 rows the list alone is shown).
 */
export function mainHeights(height: number): { tableHeight: number; detailHeight: number } {
  // Header, host strip and status line take one row each.
  if (height < 9) return { tableHeight: Math.max(1, height - 3), detailHeight: 0 };
  const tableHeight = Math.max(4, Math.floor((height - 3) * 0.55));
  const detailHeight = Math.max(2, height - 3 - tableHeight);
  return { tableHeight, detailHeight };
}

/** One piece of the header line. */
export interface HeaderPiece {
  text: string;
  bold?: boolean;
  inverse?: boolean;
  color?: 'ok' | 'warn' | 'bad' | 'muted';
}

export interface HeaderNode {
  name: string;
  state: 'online' | 'connecting' | 'offline';
  running: number;
  total: number;
}

/**
 * The header line, fitted to `width`: what goes first when it is narrow is
 * the key reminder, then the long words (no rules agent → no agent), then
 * the title, then the other nodes; the selected node's counts are never cut
 * (at 45 columns `local 7/10`, not `local 7/1`).
 */
export function headerPieces(o: { nodes: readonly HeaderNode[]; nodeIndex: number; readOnly: boolean; rulesAgent: boolean | null; width: number; allNodes?: boolean }): HeaderPiece[] {
  const dot = (n: HeaderNode): HeaderPiece =>
    n.state === 'online' ? { text: '●', color: 'ok' } : n.state === 'connecting' ? { text: '○', color: 'warn' } : { text: '✕', color: 'bad' };
  // With several nodes the list can show them all: `all` leads the nodes, shown as selected then.
  const multi = o.nodes.length > 1;
  const all = multi && o.allNodes === true;
  const nodePieces = (n: HeaderNode, i: number, name = n.name, words = true): HeaderPiece[] => {
    const inv = !all && i === o.nodeIndex;
    // A peer that is not online says so in words (the dot's colour is not enough with NO_COLOR).
    const word = !words || !multi || n.state === 'online' ? '' : n.state === 'connecting' ? ' connecting' : ' unreachable';
    return [
      { text: ' ', inverse: inv },
      { ...dot(n), inverse: inv },
      { text: ` ${name} ${n.running}/${n.total}${word} `, inverse: inv },
    ];
  };
  const build = (level: number): HeaderPiece[] => {
    const out: HeaderPiece[] = [];
    if (level < 3) out.push({ text: 'Outpost ', bold: true });
    if (multi) out.push({ text: ' all ', inverse: all });
    o.nodes.forEach((n, i) => {
      if (level >= 4 && (all || i !== o.nodeIndex)) return;
      out.push(...nodePieces(n, i, n.name, level < 2));
    });
    if (o.readOnly) out.push({ text: level >= 2 ? ' ro' : ' read-only', color: 'warn' });
    if (o.readOnly && o.rulesAgent !== null) out.push({ text: ' ·', color: 'muted' });
    if (o.rulesAgent === true) out.push({ text: level >= 2 ? ' ✓' : ' rules ✓', color: 'muted' });
    if (o.rulesAgent === false) out.push({ text: level >= 2 ? ' no agent' : ' no rules agent', color: 'warn' });
    if (level < 1) out.push({ text: '  ? help  q quit', color: 'muted' });
    return out;
  };
  const len = (p: HeaderPiece[]) => p.reduce((a, x) => a + x.text.length, 0);
  for (let level = 0; level <= 4; level++) {
    const p = build(level);
    if (len(p) <= o.width) return p;
  }
  // Still too wide (a long node name): cut the name, keep its counts.
  const n = o.nodes[o.nodeIndex];
  if (!n || all) return all ? [{ text: ' all ', inverse: true }] : [];
  const room = o.width - ` ● ${n.running}/${n.total} `.length - 1;
  const name = room >= 2 ? `${n.name.slice(0, room - 1)}…` : '';
  return nodePieces(n, o.nodeIndex, name);
}

const HINTS = ['enter logs', 'r restart', 's stop/start', 'd remove', 'e shell', '/ filter', ': palette', '? help'];
const HINTS_READ_ONLY = ['enter logs', '/ filter', ': palette', 'tab detail', '? help'];

/**
 * The key hints on the main view's status line, after `prefix` (the sort, the
 * filter), fitted to `width` by leaving hints out from the end, but `? help`
 * stays last whenever anything fits. With containers marked (`marked`), the
 * hints say so first: the keys act on the marked ones, not on the cursor.
 */
export function mainHints(readOnly: boolean, width = Infinity, prefix = '', marked = 0): string {
  const marks = [`${marked} marked: ${readOnly ? 'enter logs of them' : 'r s p K d enter act on them'}`, 'esc clears', '/ filter', ': palette', '? help'];
  const all = marked > 0 ? marks : readOnly ? HINTS_READ_ONLY : HINTS;
  const help = all[all.length - 1] as string;
  for (let n = all.length - 1; n >= 0; n--) {
    const text = `${prefix}${[...all.slice(0, n), help].join('  ')}`;
    if (text.length <= width) return text;
  }
  return prefix.length <= width ? prefix : prefix.slice(0, width);
}

/** What the host strip says before the first sample. */
export const HOST_WAITING = 'host: waiting for the first sample…';

/** What the host strip says for a node that has no host figures (an engine-only peer). */
export function hostUnreported(node: string): string {
  return `host: ${node} reports no host figures (an engine-only peer: run \`outpost agent\` there for them)`;
}
