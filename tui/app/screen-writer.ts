/**
 * Sends only the cells that changed between two frames. Ink hands over each
 * frame whole (its debug mode); this keeps the last one as a grid of cells
 * (character + SGR style) and writes cursor moves and the changed runs. A
 * CPU figure going from 0.3% to 0.4% costs a dozen bytes instead of a line
 * of 120 characters, which is what keeps an idle screen within what a slow
 * SSH link carries.
 */

interface Cell {
  ch: string;
  /** The SGR parameters in force, e.g. "32;7" ('' = default). */
  style: string;
}

const SGR = /\x1b\[([0-9;]*)m/y;

/** Folds SGR codes into the current style; returns the new style string. */
function applySgr(current: string[], params: string): string[] {
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

/** Parses one rendered line into cells. Wide characters take one cell here plus a spacer. */
export function parseLine(line: string): Cell[] {
  const cells: Cell[] = [];
  let style: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line.charCodeAt(i) === 0x1b) {
      SGR.lastIndex = i;
      const m = SGR.exec(line);
      if (m) {
        style = applySgr(style, m[1] ?? '');
        i = SGR.lastIndex;
        continue;
      }
      // Any other escape (none are expected from Ink's output): skip the ESC itself.
      i++;
      continue;
    }
    const cp = line.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    cells.push({ ch, style: style.join(';') });
    if (isWide(cp)) cells.push({ ch: '', style: style.join(';') });
  }
  return cells;
}

/** East Asian wide and emoji ranges (the common ones). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/**
 * The bytes that turn `prev` into `next` on a terminal whose top-left is
 * row 1, column 1. Runs of changed cells are written after a cursor move;
 * a short unchanged gap inside a run is rewritten rather than jumped over
 * (a jump costs ~8 bytes).
 */
export function diffFrames(prev: Cell[][], next: Cell[][], rows: number): string {
  let out = '';
  // A block of lines that moved up (a log tail, a followed log view) is scrolled by the
  // terminal, then only the lines that came in are written.
  const shifted = [...prev];
  for (const move of findScrolls(prev, next, rows)) {
    out += `\x1b[${move.top + 1};${move.bottom + 1}r\x1b[${move.bottom + 1};1H${'\n'.repeat(move.by)}\x1b[r`;
    for (let r = move.top; r <= move.bottom; r++) shifted[r] = r + move.by <= move.bottom ? (prev[r + move.by] ?? []) : [];
  }
  prev = shifted;
  let pen = '';
  const setStyle = (style: string) => {
    if (style === pen) return;
    out += style === '' ? '\x1b[0m' : `\x1b[0;${style}m`;
    pen = style;
  };
  for (let r = 0; r < Math.min(rows, Math.max(prev.length, next.length)); r++) {
    const a = prev[r] ?? [];
    const b = next[r] ?? [];
    const width = Math.max(a.length, b.length);
    let c = 0;
    while (c < width) {
      if (same(a[c], b[c])) {
        c++;
        continue;
      }
      // Start of a changed run: extend it over gaps of up to 6 unchanged cells.
      let end = c;
      let gap = 0;
      for (let k = c; k < width; k++) {
        if (same(a[k], b[k])) {
          gap++;
          if (gap > 6) break;
        } else {
          gap = 0;
          end = k;
        }
      }
      out += `\x1b[${r + 1};${c + 1}H`;
      for (let k = c; k <= Math.min(end, b.length - 1); k++) {
        const cell = b[k] as Cell;
        setStyle(cell.style);
        out += cell.ch;
      }
      if (end >= b.length) {
        // The new line is shorter here: clear what the old one left beyond it.
        setStyle('');
        out += '\x1b[K';
        break;
      }
      c = end + 1;
    }
  }
  if (pen !== '') out += '\x1b[0m';
  return out;
}

function sameLine(a: Cell[] | undefined, b: Cell[] | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
  return true;
}

/**
 * Runs of at least 4 changed lines whose new content is the old content
 * moved up by 1–8 lines (all but at most one line agreeing). Scrolling them
 * costs ~20 bytes instead of rewriting each line.
 */
export function findScrolls(prev: Cell[][], next: Cell[][], rows: number): { top: number; bottom: number; by: number }[] {
  const moves: { top: number; bottom: number; by: number }[] = [];
  const height = Math.min(rows, Math.max(prev.length, next.length));
  let r = 0;
  while (r < height) {
    if (sameLine(prev[r], next[r])) {
      r++;
      continue;
    }
    let end = r;
    while (end + 1 < height && !sameLine(prev[end + 1], next[end + 1])) end++;
    const len = end - r + 1;
    if (len >= 4) {
      for (let by = 1; by <= Math.min(8, len - 3); by++) {
        let misses = 0;
        for (let k = r; k + by <= end && misses <= 1; k++) if (!sameLine(next[k], prev[k + by])) misses++;
        if (misses <= 1) {
          moves.push({ top: r, bottom: end, by });
          break;
        }
      }
    }
    r = end + 1;
  }
  return moves;
}

function same(x: Cell | undefined, y: Cell | undefined): boolean {
  if (!x || !y) return x === y;
  return x.ch === y.ch && x.style === y.style;
}

export interface TerminalLike {
  columns: number;
  rows: number;
  write(data: string): boolean;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

/**
 * A stand-in stdout for Ink (debug mode: it writes whole frames) that
 * forwards to the real terminal only the differences. A resize, or
 * `invalidate()` after a shell took over the screen, repaints everything.
 */
export class ScreenWriter {
  #grid: Cell[][] = [];
  #full = true;
  readonly isTTY = true;
  readonly #listeners = new Set<() => void>();
  /** Bytes sent to the terminal (for the status of slow links and for benchmarks). */
  bytesWritten = 0;

  constructor(private readonly terminal: TerminalLike) {
    terminal.on('resize', this.#onResize);
  }

  get columns(): number {
    return this.terminal.columns;
  }

  get rows(): number {
    return this.terminal.rows;
  }

  #onResize = () => {
    this.#full = true;
    for (const l of [...this.#listeners]) l();
  };

  on(event: string, listener: () => void): this {
    if (event === 'resize') this.#listeners.add(listener);
    return this;
  }

  off(event: string, listener: () => void): this {
    if (event === 'resize') this.#listeners.delete(listener);
    return this;
  }

  removeListener(event: string, listener: () => void): this {
    return this.off(event, listener);
  }

  /** Repaint everything on the next frame. */
  invalidate(): void {
    this.#full = true;
  }

  write = (frame: string, callback?: () => void): boolean => {
    if (frame === '') {
      // Ink's barrier write at unmount: nothing to draw.
      callback?.();
      return true;
    }
    // Ink's debug mode writes the frame, sometimes with a trailing newline; never taller than the screen.
    const lines = frame.replace(/\n$/, '').split('\n').slice(0, this.rows);
    const grid = lines.map(parseLine);
    let out: string;
    if (this.#full) {
      out = `\x1b[0m\x1b[H\x1b[2J${diffFrames([], grid, this.rows)}`;
      this.#full = false;
    } else {
      out = diffFrames(this.#grid, grid, this.rows);
    }
    this.#grid = grid;
    if (out.length > 0) {
      this.bytesWritten += Buffer.byteLength(out);
      this.terminal.write(out);
    }
    callback?.();
    return true;
  };

  close(): void {
    this.terminal.off('resize', this.#onResize);
  }
}
