/**
 * The main view's first frame, painted before the UI's code has loaded.
 *
 * Loading React, Ink, yoga and dockerode and rendering the first frame cold
 * takes ~350 ms on a 2-core box, on top of Node's own start. What a
 * technician opening Outpost wants first is the list of containers, so
 * `outpost` asks the engine for it with one request on its socket and draws
 * the main view's frame from the same layout functions the Ink app uses
 * (header, list rows, tab line, key hints). The Ink app then starts from
 * that frame: its screen writer is seeded with these cells, so it sends only
 * what differs (the host strip, stats as they come) and nothing flashes.
 * Keys typed meanwhile stay in the terminal's buffer (raw mode is on, so
 * they do not echo) and reach the app when it starts reading.
 *
 * Only a unix socket is tried, with a short deadline; anything
 * unexpected (no socket, an error status, a slow engine, a tiny terminal)
 * paints nothing and leaves the start to the full app, which says what is
 * wrong.
 */
import { summaryFromList, type RawListRow } from '../../core/docker/mapping.js';
import { LOCAL_ALIAS, thisNodeName } from '../../core/peers/node-name.js';
import type { ContainerSummary } from '../../core/model/types.js';
import { containerLine, headerLine, layoutFor } from '../presentation/container-line.js';
import { groupLine, listRows, sortContainers } from '../presentation/container-list.js';
import { containerRef } from '../presentation/container-ref.js';
import { truncate } from '../presentation/format.js';
import { inert } from '../presentation/inert.js';
import { frameSize, headerPieces, HOST_WAITING, mainHeights, mainHints } from '../presentation/main-layout.js';
import { parseLine, rowText, type Cell } from './cells.js';
import fastStringWidth from './fast-string-width.js';
import { palette, stateColor } from './theme.js';

export interface PaintedFrame {
  /** What the terminal shows, as cells (the app's screen writer starts from it). */
  grid: (readonly Cell[])[];
  columns: number;
  rows: number;
  /** When it reached the terminal (performance.now). */
  at: number;
}

/**
 * Where the painted frame waits for the app. The start file and the app are
 * separate bundles, each with its own copy of this module: the frame is
 * handed over through a global slot, not a module variable.
 */
const SLOT = Symbol.for('outpost.paintedFrame');
interface Painted {
  lines: string[];
  columns: number;
  rows: number;
  at: number;
}
type Slot = { [SLOT]?: Painted | null };

/** The frame painted at start, once: the app's screen writer starts from it. */
export function takePaintedFrame(): PaintedFrame | null {
  const g = globalThis as Slot;
  const p = g[SLOT] ?? null;
  g[SLOT] = null;
  // Read as cells here, in the app, rather than on the way to the first frame.
  return p ? { grid: p.lines.map(parseLine), columns: p.columns, rows: p.rows, at: p.at } : null;
}

export const ALT_SCREEN_ON = '\x1b[?1049h\x1b[H';
export const ALT_SCREEN_OFF = '\x1b[?1049l';

const SGR = { bold: ['1', '22'], inverse: ['7', '27'] } as const;
/** The SGR foreground code of each colour name the theme's palette uses (as chalk writes it for Ink). */
const FOREGROUND: Record<(typeof palette)[keyof typeof palette], string> = { green: '32', yellow: '33', red: '31', cyan: '36', gray: '90' };
type ColorName = keyof typeof palette;

interface Style {
  color?: ColorName | undefined;
  bold?: boolean;
  inverse?: boolean;
}

/** Styled text the way Ink's Text writes it (chalk's open and close codes). */
function styled(text: string, style: Style, noColor: boolean): string {
  let out = text;
  if (style.color && !noColor) out = `\x1b[${FOREGROUND[palette[style.color]]}m${out}\x1b[39m`;
  if (style.bold) out = `\x1b[${SGR.bold[0]}m${out}\x1b[${SGR.bold[1]}m`;
  if (style.inverse) out = `\x1b[${SGR.inverse[0]}m${out}\x1b[${SGR.inverse[1]}m`;
  return out;
}

/** The main view's lines for a list of containers, `columns` × `rows`. */
export function firstFrameLines(list: readonly ContainerSummary[], o: { columns: number; rows: number; readOnly: boolean; noColor: boolean; now: number; node?: string }): string[] {
  const { width, height } = frameSize(o.columns, o.rows);
  const { noColor } = o;
  const s = (text: string, style: Style) => styled(text, style, noColor);
  const running = list.filter((c) => c.state === 'running').length;
  const { tableHeight, detailHeight } = mainHeights(height);
  const rows = listRows(sortContainers([...list], 'name', new Map()));
  const firstContainer = rows.find((r) => r.kind === 'container');
  const selected = firstContainer?.kind === 'container' ? firstContainer.container : null;

  const lines: string[] = [];
  // The same header as the app's (main-layout.ts), fitted to the width.
  lines.push(
    headerPieces({ nodes: [{ name: o.node ?? LOCAL_ALIAS, state: 'online', running, total: list.length }], nodeIndex: 0, readOnly: o.readOnly, rulesAgent: null, width })
      .map((p) => s(p.text, { ...(p.color ? { color: p.color } : {}), ...(p.bold ? { bold: true } : {}), ...(p.inverse ? { inverse: true } : {}) }))
      .join(''),
  );
  lines.push(s(HOST_WAITING, { color: 'muted' }));
  const layout = layoutFor(list, width);
  lines.push(s(headerLine(width, 'name', layout), { color: 'muted' }));
  const visible = rows.slice(0, tableHeight - 1);
  if (visible.length === 0) lines.push(s('  no containers on this node', { color: 'muted' }));
  for (const row of visible) {
    if (row.kind === 'group') {
      lines.push(s(truncate(groupLine(row, inert), width), row.loose ? { bold: true, color: 'muted' } : { bold: true }));
      continue;
    }
    const c = row.container;
    const line = containerLine(c, undefined, o.now, width, { marked: false, indent: row.grouped, layout });
    lines.push(s(line, { color: stateColor(c), inverse: c === selected }));
  }
  while (lines.length < 2 + tableHeight) lines.push('');
  if (detailHeight > 0) lines.push(
    s(' logs ', { inverse: true }) +
      s(' stats ', { color: 'muted' }) +
      s(' inspect ', { color: 'muted' }) +
      s(' rules ', { color: 'muted' }) +
      s(` ─ ${selected ? inert(containerRef(selected)) : '-'}`, { color: 'muted' }),
  );
  if (detailHeight > 1) lines.push(selected ? '' : s('select a container', { color: 'muted' }));
  while (lines.length < 2 + tableHeight + detailHeight) lines.push('');
  lines.push(s(mainHints(o.readOnly, width, 'sort: name  '), { color: 'muted' }));
  return lines.slice(0, height).map((l) => truncateStyled(l, width));
}

/** Cuts a styled line to `width` columns (cells), keeping its styles. */
function truncateStyled(line: string, width: number): string {
  return fastStringWidth(line) <= width ? line : rowText(parseLine(line).slice(0, width));
}

export interface PaintOptions {
  /** The engine's answer to GET /containers/json?all=1 (see engine-list.ts). */
  list: Promise<unknown>;
  readOnly: boolean;
  env: NodeJS.ProcessEnv;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

/** Paints the first frame if the engine answers in time; true when it did. */
export async function paintFirstFrame(o: PaintOptions): Promise<boolean> {
  const stdout = o.stdout ?? process.stdout;
  const stdin = o.stdin ?? process.stdin;
  if (!stdout.isTTY || !stdin.isTTY) return false;
  const columns = stdout.columns;
  const rows = stdout.rows;
  if (!columns || !rows || columns < 40 || rows < 10) return false;
  // Keys typed from now on wait, unechoed, for the app.
  stdin.setRawMode(true);
  let raw: unknown;
  try {
    raw = await o.list;
  } catch {
    stdin.setRawMode(false);
    return false;
  }
  if (!Array.isArray(raw) || !raw.every((r) => typeof r === 'object' && r !== null && typeof (r as RawListRow).Id === 'string')) {
    stdin.setRawMode(false);
    return false;
  }
  const node = thisNodeName(o.env);
  const list = (raw as RawListRow[]).map((r) => summaryFromList(r, node));
  const noColor = o.env.NO_COLOR !== undefined && o.env.NO_COLOR !== '';
  const lines = firstFrameLines(list, { columns, rows, readOnly: o.readOnly, noColor, now: Date.now(), node });
  // If the app never takes over (it failed to load), the terminal still gets its screen back.
  process.once('exit', restoreIfStillPainted);
  stdout.write(`${ALT_SCREEN_ON}\x1b[?25l\x1b[0m\x1b[2J${lines.map((l, i) => `\x1b[${i + 1};1H${l}\x1b[0m`).join('')}`);
  (globalThis as Slot)[SLOT] = { lines, columns, rows, at: performance.now() };
  return true;
}

function restoreIfStillPainted(): void {
  if (!(globalThis as Slot)[SLOT]) return;
  process.stdout.write(`${ALT_SCREEN_OFF}\x1b[?25h`);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
}
