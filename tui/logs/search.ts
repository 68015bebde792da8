export { compileSearch } from '../../core/model/search-pattern.js';

/** One piece of a line: plain text or a match to highlight. */
export interface Segment {
  text: string;
  match: boolean;
}

/** Splits a line into plain and matching segments. Empty matches are skipped. */
export function highlight(line: string, re: RegExp | null): Segment[] {
  if (!re) return [{ text: line, match: false }];
  const out: Segment[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index > last) out.push({ text: line.slice(last, m.index), match: false });
    out.push({ text: m[0], match: true });
    last = m.index + m[0].length;
  }
  if (last < line.length || out.length === 0) out.push({ text: line.slice(last), match: false });
  return out;
}

export function matches(line: string, re: RegExp): boolean {
  re.lastIndex = 0;
  return re.test(line);
}

/**
 * Indices of the lines a filter keeps: the matching ones and `context`
 * lines on each side (like `grep -C`). Ordered, without duplicates.
 */
export function filterWithContext(lines: readonly string[], re: RegExp, context: number): number[] {
  const keep: number[] = [];
  let keptUpTo = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!matches(lines[i] as string, re)) continue;
    const from = Math.max(keptUpTo + 1, i - context);
    const to = Math.min(lines.length - 1, i + context);
    for (let j = from; j <= to; j++) keep.push(j);
    keptUpTo = Math.max(keptUpTo, to);
  }
  return keep;
}

/** Next (dir 1) or previous (dir -1) matching index from `from`, wrapping around; -1 if none. */
export function nextMatch(lines: readonly string[], re: RegExp, from: number, dir: 1 | -1): number {
  const n = lines.length;
  for (let k = 1; k <= n; k++) {
    const i = (((from + dir * k) % n) + n) % n;
    if (matches(lines[i] as string, re)) return i;
  }
  return -1;
}
