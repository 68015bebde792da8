/** Pure formatting helpers shared by the CLI tables and the TUI. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** What a figure not known yet reads as (a rate before its second sample, a count before the inspect). */
export const UNKNOWN = '…';

/** 1536 → "1.5KiB"; binary units like `docker stats`; null (not known yet) → "…". */
export function formatBytes(n: number | null): string {
  if (n === null) return UNKNOWN;
  if (!Number.isFinite(n) || n < 0) return '-';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${text}${UNITS[i]}`;
}

/** 12.5 → "12.5%"; null (not known yet) → "…". */
export function formatPercent(n: number | null): string {
  if (n === null) return UNKNOWN;
  if (!Number.isFinite(n)) return '-';
  return `${n >= 100 ? n.toFixed(0) : n.toFixed(1)}%`;
}

/** Compact age: 45s, 12m, 3h, 5d. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Cuts to `width` display cells with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `${text.slice(0, width - 1)}…`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-align (numbers). */
  right?: boolean;
  /** Cap on the column's width; longer values are truncated. */
  max?: number;
}

/** A plain text table like the docker CLI prints: columns padded, three spaces apart. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => truncate(c.value(r), c.max ?? Infinity)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const w = widths[i] ?? 0;
        const last = i === values.length - 1;
        if (columns[i]?.right) return v.padStart(w);
        return last ? v : v.padEnd(w);
      })
      .join('   ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/**
 * Breaks text into lines of at most `width` characters, at spaces where it
 * can (a word longer than the width is cut into pieces; runs of spaces inside
 * a line are kept). Every character but the spaces at a break is kept:
 * nothing is cut off with an ellipsis.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line: string | null = null;
    for (const word of para.split(' ')) {
      let rest = word;
      // A word too long for any line: its pieces fill the current line first, then whole lines.
      while (rest.length > w) {
        const room = line === null ? w : w - line.length - 1;
        if (room >= Math.min(8, w)) {
          out.push(line === null ? rest.slice(0, room) : `${line} ${rest.slice(0, room)}`);
          rest = rest.slice(room);
        } else if (line !== null) out.push(line);
        line = null;
      }
      if (line === null) line = rest;
      else if (line.length + 1 + rest.length <= w) line = `${line} ${rest}`;
      else {
        out.push(line);
        line = rest;
      }
    }
    out.push(line ?? '');
  }
  return out;
}
