/**
 * Sends only the cells that changed between two frames. Ink hands over each
 * frame whole (its debug mode); this keeps the last one as a grid of cells
 * (character + SGR style) and writes cursor moves and the changed runs. A
 * CPU figure going from 0.3% to 0.4% costs a dozen bytes instead of a line
 * of 120 characters, which is what keeps an idle screen within what a slow
 * SSH link carries.
 */

import { parseLine, type Cell } from './cells.js';

export { parseLine };

/**
 * The bytes that turn `prev` into `next` on a terminal whose top-left is
 * row 1, column 1. Runs of changed cells are written after a cursor move;
 * a short unchanged gap inside a run is rewritten rather than jumped over
 * (a jump costs ~8 bytes).
 */
export function diffFrames(prev: readonly (readonly Cell[])[], next: readonly (readonly Cell[])[], rows: number): string {
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
    // Rows read from the same text are the same array: nothing to compare.
    if (a === b) continue;
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

function sameLine(a: readonly Cell[] | undefined, b: readonly Cell[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
  return true;
}

/**
 * Runs of at least 4 changed lines whose new content is the old content
 * moved up by 1–8 lines (all but at most one line agreeing). Scrolling them
 * costs ~20 bytes instead of rewriting each line.
 */
export function findScrolls(prev: readonly (readonly Cell[])[], next: readonly (readonly Cell[])[], rows: number): { top: number; bottom: number; by: number }[] {
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
  return x === y || (x.ch === y.ch && x.style === y.style);
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
  #grid: (readonly Cell[])[] = [];
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

  /**
   * The terminal already shows `grid` (a frame painted before the app started):
   * the next frame is sent as its differences. Ignored if the size changed since.
   */
  seed(grid: (readonly Cell[])[], columns: number, rows: number): void {
    if (columns !== this.columns || rows !== this.rows) return;
    this.#grid = grid;
    this.#full = false;
  }

  /** Repaint everything on the next frame. */
  invalidate(): void {
    this.#full = true;
  }

  /** Paints the last frame again, whole, now (Ctrl-L: something else wrote on the screen). */
  repaint(): void {
    const out = `\x1b[0m\x1b[H\x1b[2J${diffFrames([], this.#grid, this.rows)}`;
    this.#full = false;
    this.bytesWritten += Buffer.byteLength(out);
    this.terminal.write(out);
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
