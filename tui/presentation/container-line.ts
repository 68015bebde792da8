import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { formatPorts, listState } from './container-row.js';
import { formatAge, formatBytes, truncate, UNKNOWN } from './format.js';
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
/** The age column of a wide terminal: "45s", "12m", "3h", "5d". */
const CREATED: Col = { title: 'CREATED', width: 7, right: true, cell: (c, _s, now) => (c.created > 0 ? formatAge(now - c.created) : '-') };

/** What the list's text columns need to show every row whole: its longest name (indent included), image and ports. */
export interface ColumnNeeds {
  name: number;
  image: number;
  ports: number;
  /** The longest command (shown last, on a very wide terminal); 0 or absent: none. */
  command?: number;
}

/** Without the rows at hand (a test, a one-off line): room for common names and images, no ports. */
const TYPICAL: ColumnNeeds = { name: 24, image: 24, ports: 0 };

export interface ListLayout {
  name: number;
  /** 0: not shown (it does not fit whole). */
  image: number;
  ports: number;
  cols: Col[];
  /** Shown after the image and ports on a wide terminal. */
  created: boolean;
  /** The command, last, when the longest fits whole (0: not shown). */
  command: number;
}

/** What `rows` need (see ColumnNeeds); grouped rows are indented by one. */
export function columnNeeds(rows: readonly ContainerSummary[], indent = true): ColumnNeeds {
  let name = 0;
  let image = 0;
  let ports = 0;
  let command = 0;
  for (const c of rows) {
    name = Math.max(name, inert(c.name).length + (indent ? 1 : 0));
    image = Math.max(image, inert(c.image).length);
    ports = Math.max(ports, formatPorts(c.ports).length);
    command = Math.max(command, inert(c.command).length);
  }
  return { name, image, ports, command };
}

/**
 * Lays the list's columns out for a terminal `width` wide, for rows that
 * need `need`. No column is cut in its middle, and the name comes first:
 * the fixed columns go (memory, CPU, restarts, health, in that order) only
 * to keep 10 cells of name; the name then takes what it needs; the image is
 * shown only when the longest fits whole beside it, then (a wide terminal)
 * the ports and the age. At 30 columns: name and state.
 */
export function layoutColumns(width: number, need: ColumnNeeds = TYPICAL): ListLayout {
  let cols = ALL;
  const used = (list: Col[]) => 2 + list.reduce((a, c) => a + c.width + 1, 0);
  for (const drop of DROP_ORDER) {
    if (used(cols) + NAME_MIN <= width) break;
    cols = cols.filter((c) => c !== drop);
  }
  const rest = Math.max(NAME_MIN, width - used(cols));
  const name = Math.max(NAME_MIN, Math.min(need.name, rest));
  let left = rest - name;
  const take = (w: number): number => {
    if (w <= 0 || left < w + 1) return 0;
    left -= w + 1;
    return w;
  };
  const image = take(Math.max(need.image, 'IMAGE'.length));
  const ports = image > 0 && need.ports > 0 ? take(Math.max(need.ports, 'PORTS'.length)) : 0;
  const created = image > 0 && take(CREATED.width) > 0;
  const command = created && (need.command ?? 0) > 0 ? take(Math.max(need.command ?? 0, 'COMMAND'.length)) : 0;
  return { name, image, ports, cols, created, command };
}

/** The layout of a list of `rows` at `width` (the same for its header and each of its rows). */
export function layoutFor(rows: readonly ContainerSummary[], width: number, indent = true): ListLayout {
  return layoutColumns(width, rows.length > 0 ? columnNeeds(rows, indent) : TYPICAL);
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
export function headerLine(width: number, sort: SortKey = 'name', layout: ListLayout = layoutColumns(width)): string {
  const l = layout;
  const title = (c: Col): string => {
    if (c === STATE && sort === 'uptime') return 'UPTIME▲';
    if (c.sort !== sort) return c.title;
    return `${c.title}${sort === 'cpu' || sort === 'memory' ? '▼' : '▲'}`;
  };
  const parts = [pad(sort === 'name' ? 'NAME▲' : 'NAME', l.name), ...l.cols.map((c) => pad(title(c), c.width, c.right))];
  if (l.image > 0) parts.push(pad('IMAGE', l.image));
  if (l.ports > 0) parts.push(pad('PORTS', l.ports));
  if (l.created) parts.push(pad(CREATED.title, CREATED.width, true));
  if (l.command > 0) parts.push(pad('COMMAND', l.command));
  return `  ${parts.join(' ')}`.slice(0, width);
}

/**
 * The text of one container row (without selection styling), at most
 * `width` wide. `busy` (an action under way: "restarting…") and `seen` (an
 * unreachable node's row: "last seen 40s") stand in the STATE cell: the
 * other columns stay whole.
 */
export function containerLine(
  c: ContainerSummary,
  s: ContainerStats | undefined,
  now: number,
  width: number,
  opts: { marked: boolean; indent: boolean; agent?: AgentMarks; layout?: ListLayout; busy?: string; seen?: string },
): string {
  const l = opts.layout ?? layoutColumns(width);
  const name = `${opts.indent ? ' ' : ''}${inert(c.name)}`;
  const cell = (col: Col): string => (col === STATE && (opts.busy ?? opts.seen) ? ((opts.busy ?? opts.seen) as string) : col.cell(c, s, now, opts.agent));
  const parts = [pad(name, l.name), ...l.cols.map((col) => pad(cell(col), col.width, col.right))];
  if (l.image > 0) parts.push(pad(inert(c.image), l.image));
  if (l.ports > 0) parts.push(pad(formatPorts(c.ports), l.ports));
  if (l.created) parts.push(pad(CREATED.cell(c, s, now, opts.agent), CREATED.width, true));
  if (l.command > 0) parts.push(pad(inert(c.command), l.command));
  // As wide as the list: the selection's bar spans the row.
  return `${opts.marked ? '*' : ' '} ${parts.join(' ')}`.slice(0, width).padEnd(width);
}
