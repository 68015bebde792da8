import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { listState } from './container-row.js';
import { formatBytes, truncate, UNKNOWN } from './format.js';
import { inert } from './inert.js';
import type { SortKey } from './container-list.js';

/** What the rule engine's journal says of a container, for its row. */
export interface AgentMarks {
  /** Restarts the agent made (the engine's restart count does not include them). */
  restarts: number;
  /** The agent gave up on it (budget spent) and has not been re-armed since. */
  gaveUp: boolean;
}

interface Col {
  title: string;
  width: number;
  right?: boolean;
  /** The sort key this column shows. */
  sort?: SortKey;
  cell: (c: ContainerSummary, s: ContainerStats | undefined, now: number, a: AgentMarks | undefined) => string;
}

const STATE: Col = { title: 'STATE', width: 16, sort: 'state', cell: (c, _s, now, a) => listState(c, now, a?.gaveUp === true) };
const HEALTH: Col = { title: 'HEALTH', width: 9, cell: (c) => (c.health === 'none' ? '-' : c.health) };
// Not known yet (the engine's list has no restart count; CPU % needs two samples): …, never a 0 that is not so.
const RST: Col = { title: 'RST', width: 4, right: true, cell: (c, _s, _n, a) => (c.restartCount === null ? UNKNOWN : String(c.restartCount + (a?.restarts ?? 0))) };
const CPU: Col = { title: 'CPU', width: 6, right: true, sort: 'cpu', cell: (_c, s) => (s ? (s.cpuPercent === null ? UNKNOWN : listPercent(s.cpuPercent)) : '-') };
const MEM: Col = { title: 'MEM', width: 8, right: true, sort: 'memory', cell: (_c, s) => (s ? formatBytes(s.memoryBytes) : '-') };
const ALL: Col[] = [STATE, HEALTH, RST, CPU, MEM];
/** Dropped first when the terminal is narrow; NAME and STATE always stay. */
const DROP_ORDER: Col[] = [MEM, CPU, RST, HEALTH];
const NAME_MIN = 10;

/**
 * Lays the list's columns out for a terminal `width` wide. Every line fits
 * the width whole (no column is cut in its middle): below 70 columns the
 * image goes, then memory, CPU, restarts and health, in that order, so that
 * the name keeps at least 10 cells. At 30 columns: name and state.
 */
export function layoutColumns(width: number): { name: number; image: number; cols: Col[] } {
  let cols = ALL;
  const used = (list: Col[]) => 2 + list.reduce((a, c) => a + c.width + 1, 0);
  for (const drop of DROP_ORDER) {
    if (used(cols) + NAME_MIN <= width) break;
    cols = cols.filter((c) => c !== drop);
  }
  const rest = Math.max(NAME_MIN, width - used(cols));
  if (width < 70) return { name: rest, image: 0, cols };
  const name = Math.max(NAME_MIN, Math.min(40, Math.floor(rest * 0.5)));
  return { name, image: Math.max(0, rest - name - 1), cols };
}

/**
 * The list's CPU column in whole percent ("<1%" below one): tenths flicker on
 * every sample, and each flicker is bytes on a slow link. The Stats tab has
 * the exact figure.
 */
export function listPercent(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n <= 0) return '0%';
  if (n < 1) return '<1%';
  return `${Math.round(n)}%`;
}

function pad(text: string, width: number, right = false): string {
  const t = truncate(text, width);
  return right ? t.padStart(width) : t.padEnd(width);
}

/**
 * The column titles; the one the list is sorted by carries an arrow: ▲ for
 * name and state (A first, trouble first), ▼ for CPU and memory (biggest
 * first); sorted by uptime, the STATE column is titled UPTIME▲ (newest first).
 */
export function headerLine(width: number, sort: SortKey = 'name'): string {
  const l = layoutColumns(width);
  const title = (c: Col): string => {
    if (c === STATE && sort === 'uptime') return 'UPTIME▲';
    if (c.sort !== sort) return c.title;
    return `${c.title}${sort === 'cpu' || sort === 'memory' ? '▼' : '▲'}`;
  };
  const parts = [pad(sort === 'name' ? 'NAME▲' : 'NAME', l.name), ...l.cols.map((c) => pad(title(c), c.width, c.right))];
  if (l.image > 0) parts.push(pad('IMAGE', l.image));
  return `  ${parts.join(' ')}`.slice(0, width);
}

/** The text of one container row (without selection styling), exactly `width` wide or less. */
export function containerLine(
  c: ContainerSummary,
  s: ContainerStats | undefined,
  now: number,
  width: number,
  opts: { marked: boolean; indent: boolean; agent?: AgentMarks },
): string {
  const l = layoutColumns(width);
  const name = `${opts.indent ? ' ' : ''}${inert(c.name)}`;
  const parts = [pad(name, l.name), ...l.cols.map((col) => pad(col.cell(c, s, now, opts.agent), col.width, col.right))];
  if (l.image > 0) parts.push(pad(inert(c.image), l.image));
  return `${opts.marked ? '*' : ' '} ${parts.join(' ')}`.slice(0, width);
}
