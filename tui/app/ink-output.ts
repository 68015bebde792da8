/**
 * Stands in for Ink's `Output` (ink/build/output.js): the frame that Ink's
 * layout writes its text into. Ink's own builds an object per cell, tokenises
 * every line of every frame again and measures each character with
 * string-width; on the TUI's 120×40 main view that was ~60% of the CPU of a
 * frame, and 300 ms of a cold start. This one keeps rows of shared,
 * immutable cells, reads each distinct line once (cells.ts caches them across
 * frames), and hands the rows it builds to the same cache, so the screen
 * writer does not parse them again.
 *
 * Same contract as Ink's: write(x, y, text, {transformers}), clip/unclip,
 * get() → {output, height}; rows are cut at the frame's width (Ink's let a
 * line run past it, which a terminal would wrap).
 *
 * The build (scripts/esbuild-plugins.mjs) and the tests (vitest.config.ts)
 * both put it in place of Ink's, so the component tests exercise it.
 */
import { BLANK, parseLine, remember, rowText, type Cell } from './cells.js';

let built = 0;
/** Frames built so far (lets a test check that Ink renders through this builder). */
export const framesBuilt = (): number => built;

type Transformer = (line: string, index: number) => string;

interface Clip {
  x1: number | undefined;
  x2: number | undefined;
  y1: number | undefined;
  y2: number | undefined;
}

/** The rows of the last frame built and their text, by row. */
const previous: ({ row: readonly Cell[]; text: string } | undefined)[] = [];

function sameCells(a: readonly Cell[], b: readonly Cell[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export default class Output {
  readonly width: number;
  readonly height: number;
  readonly #rows: Cell[][];
  readonly #clips: Clip[] = [];

  constructor(options: { width: number; height: number }) {
    this.width = Math.max(0, Math.floor(options.width));
    this.height = Math.max(0, Math.floor(options.height));
    this.#rows = [];
    for (let y = 0; y < this.height; y++) this.#rows.push(new Array<Cell>(this.width).fill(BLANK));
  }

  write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void {
    if (!text) return;
    const clip = this.#clips[this.#clips.length - 1];
    const left = Math.max(0, clip?.x1 ?? 0);
    const right = Math.min(this.width, clip?.x2 ?? this.width);
    const top = Math.max(0, clip?.y1 ?? 0);
    const bottom = Math.min(this.height, clip?.y2 ?? this.height);
    if (left >= right || top >= bottom) return;
    const lines = text.split('\n');
    for (let index = 0; index < lines.length; index++) {
      const row = y + index;
      if (row < top) continue;
      if (row >= bottom) break;
      let line = lines[index] as string;
      for (const transform of options.transformers) line = transform(line, index);
      const cells = parseLine(line);
      const target = this.#rows[row] as Cell[];
      const from = Math.max(0, left - x);
      const to = Math.min(cells.length, right - x);
      for (let k = from; k < to; k++) {
        let c = cells[k] as Cell;
        // Half of a wide character at a clip edge would shift the rest of the row: a blank instead.
        if (c.ch === '' && k === from && k > 0) c = BLANK;
        else if (k === to - 1 && cells[k + 1]?.ch === '') c = BLANK;
        target[x + k] = c;
      }
    }
  }

  clip(clip: Clip): void {
    this.#clips.push(clip);
  }

  unclip(): void {
    this.#clips.pop();
  }

  get(): { output: string; height: number } {
    built++;
    const lines: string[] = [];
    for (let y = 0; y < this.#rows.length; y++) {
      const row = this.#rows[y] as Cell[];
      // Most rows are what they were in the previous frame: same cells, same text.
      const prev = previous[y];
      if (prev && sameCells(prev.row, row)) {
        lines.push(prev.text);
        previous[y] = { row, text: prev.text };
        continue;
      }
      const text = rowText(row);
      // The screen writer reads this text back as these cells: tell the cache (trailing blanks trimmed).
      let end = row.length;
      while (end > 0 && row[end - 1] === BLANK) end--;
      remember(text, end === row.length ? row : row.slice(0, end));
      previous[y] = { row, text };
      lines.push(text);
    }
    previous.length = this.#rows.length;
    return { output: lines.join('\n'), height: this.#rows.length };
  }
}
