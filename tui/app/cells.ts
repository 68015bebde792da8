/**
 * Styled text as terminal cells: one cell per column, each a character and
 * the SGR parameters in force ("32;7"; '' = default). Both the frame builder
 * that stands in for Ink's output (ink-output.ts) and the writer that sends
 * only changed cells to the terminal (screen-writer.ts) read text this way,
 * and share one bounded cache of parsed lines: a row that did not change
 * between two frames is never parsed twice.
 */
import stringWidth from './fast-string-width.js';

export interface Cell {
  readonly ch: string;
  readonly style: string;
}

const SGR = /\x1b\[([0-9;]*)m/y;

/** Which attribute a code sets, so a later code of the same family replaces it. */
function sgrFamily(n: number): string {
  if ((n >= 30 && n <= 39) || (n >= 90 && n <= 97)) return 'fg';
  if ((n >= 40 && n <= 49) || (n >= 100 && n <= 107)) return 'bg';
  if (n === 1 || n === 2 || n === 22) return 'weight';
  if (n === 3 || n === 23) return 'italic';
  if (n === 4 || n === 24) return 'underline';
  if (n === 7 || n === 27) return 'inverse';
  if (n === 9 || n === 29) return 'strike';
  return String(n);
}

function isReset(n: number): boolean {
  return n === 39 || n === 49 || n === 22 || n === 23 || n === 24 || n === 27 || n === 29;
}

/** Folds SGR parameters into the attributes in force (each entry one attribute: "32", "38;5;208"). */
export function applySgr(current: readonly string[], params: string): string[] {
  if (params === '' || params === '0') return [];
  let next = [...current];
  const parts = params.split(';');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const n = Number(p);
    if (n === 0) {
      next = [];
      continue;
    }
    // Extended colours carry their arguments: 38;5;N and 38;2;R;G;B (and 48 for backgrounds).
    if ((n === 38 || n === 48) && parts[i + 1] === '5') {
      next = next.filter((x) => !x.startsWith(`${n};`));
      next.push(`${n};5;${parts[i + 2]}`);
      i += 2;
      continue;
    }
    if ((n === 38 || n === 48) && parts[i + 1] === '2') {
      next = next.filter((x) => !x.startsWith(`${n};`));
      next.push(`${n};2;${parts[i + 2]};${parts[i + 3]};${parts[i + 4]}`);
      i += 4;
      continue;
    }
    const family = sgrFamily(n);
    next = next.filter((x) => sgrFamily(Number(x.split(';')[0])) !== family);
    if (!isReset(n)) next.push(p);
  }
  return next;
}

/** Transitions between styles seen so far: a screen uses a handful. */
const transitions = new Map<string, string>();

/** The style after `params` are applied to `style` (a style string is its own attribute list). */
export function fold(style: string, params: string): string {
  const key = `${style}|${params}`;
  let next = transitions.get(key);
  if (next === undefined) {
    next = applySgr(style === '' ? [] : applySgr([], style), params).join(';');
    if (transitions.size > 4096) transitions.clear();
    transitions.set(key, next);
  }
  return next;
}

const cellCache = new Map<string, Cell>();

/** One shared, immutable cell per (character, style). */
export function cell(ch: string, style: string): Cell {
  const key = `${style}\u0000${ch}`;
  let c = cellCache.get(key);
  if (c === undefined) {
    c = { ch, style };
    if (cellCache.size > 65536) cellCache.clear();
    cellCache.set(key, c);
  }
  return c;
}

export const BLANK: Cell = cell(' ', '');
/** The cell that follows a wide character (it takes two columns). */
export const spacer = (style: string): Cell => cell('', style);

/** Columns a character takes: ASCII and Latin in one step, the rest as Ink measures them (at least 1). */
export function charWidth(ch: string, cp: number): number {
  if (cp < 0x300) return 1;
  return Math.max(1, stringWidth(ch));
}

/**
 * Parses one line of styled text into cells. Escape sequences other than SGR
 * are dropped (Ink's output has none; container output is made inert before it
 * gets here). Results are cached: callers must not change the returned array.
 */
export function parseLine(line: string): readonly Cell[] {
  let cells = lineCache.get(line);
  if (cells !== undefined) return cells;
  cells = parseUncached(line);
  remember(line, cells);
  return cells;
}

const lineCache = new Map<string, readonly Cell[]>();
const LINE_CACHE_LIMIT = 4096;

/** Records that `line` reads as `cells` (a frame builder that made the line already knows). */
export function remember(line: string, cells: readonly Cell[]): void {
  if (lineCache.size >= LINE_CACHE_LIMIT) {
    // Oldest first: Map keeps insertion order.
    const first = lineCache.keys().next().value as string;
    lineCache.delete(first);
  }
  lineCache.set(line, cells);
}

function parseUncached(line: string): Cell[] {
  const cells: Cell[] = [];
  let style = '';
  let i = 0;
  const n = line.length;
  while (i < n) {
    const code = line.charCodeAt(i);
    if (code === 0x1b) {
      SGR.lastIndex = i;
      const m = SGR.exec(line);
      if (m) {
        style = fold(style, m[1] ?? '');
        i = SGR.lastIndex;
        continue;
      }
      i++;
      continue;
    }
    if (code < 0x80) {
      cells.push(cell(line[i] as string, style));
      i++;
      continue;
    }
    const cp = line.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    cells.push(cell(ch, style));
    const w = charWidth(ch, cp);
    for (let k = 1; k < w; k++) cells.push(spacer(style));
  }
  return cells;
}

/** The text of a row of cells: one SGR sequence per change of style, trailing default blanks dropped. */
export function rowText(row: readonly Cell[]): string {
  let end = row.length;
  while (end > 0 && row[end - 1] === BLANK) end--;
  let out = '';
  let pen = '';
  for (let i = 0; i < end; i++) {
    const c = row[i] as Cell;
    if (c.style !== pen) {
      out += c.style === '' ? '\x1b[0m' : `\x1b[0;${c.style}m`;
      pen = c.style;
    }
    out += c.ch;
  }
  if (pen !== '') out += '\x1b[0m';
  return out;
}
