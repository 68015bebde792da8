import { RE2JS } from 're2js';
import { BadInputError } from '../../core/model/errors.js';

/**
 * A regular expression that matches in time linear in the line: JavaScript's
 * own engine backtracks, and one `/(x+)+y/` over a 40-character line held the
 * UI at 100 % CPU for good, deaf to every key. The pattern is run by re2js
 * (RE2 semantics, as the agent's log rules); everything that takes a RegExp
 * (test, the highlighter's exec loop, replace) goes through `exec` here.
 */
class LinearRegExp extends RegExp {
  readonly #re2: RE2JS;

  constructor(pattern: string, flags: string) {
    super(pattern, flags);
    let f = 0;
    if (flags.includes('i')) f |= RE2JS.CASE_INSENSITIVE;
    if (flags.includes('s')) f |= RE2JS.DOTALL;
    if (flags.includes('m')) f |= RE2JS.MULTILINE;
    this.#re2 = RE2JS.compile(pattern, f);
  }

  override exec(input: string): RegExpExecArray | null {
    const sticky = this.global || this.sticky;
    const from = sticky ? this.lastIndex : 0;
    if (from > input.length) {
      this.lastIndex = 0;
      return null;
    }
    const m = this.#re2.matcher(input);
    if (!m.find(from)) {
      if (sticky) this.lastIndex = 0;
      return null;
    }
    const start = m.start();
    const end = m.end();
    if (sticky) this.lastIndex = end;
    const groups = Array.from({ length: m.groupCount() + 1 }, (_, g) => m.group(g) ?? undefined);
    return Object.assign(groups, { index: start, input, groups: undefined }) as unknown as RegExpExecArray;
  }
}

/**
 * Compiles what a person typed after `/` in the log view. Text between
 * slashes is a regex (`/err(or)?/`, RE2 syntax: no look-around or
 * back-references), anything else a case-insensitive plain substring. A
 * broken regex is an error that says what is wrong, never a crash. The `g`
 * flag is always set so every match can be highlighted.
 */
export function compileSearch(input: string): RegExp | null {
  const text = input.trim();
  if (text === '') return null;
  const m = /^\/(.*)\/([imsu]*)$/.exec(text);
  if (m) {
    try {
      return new LinearRegExp(m[1] as string, `g${m[2] ?? ''}`);
    } catch (err) {
      const why = String((err as Error).message).replace(/^Invalid regular expression: /, '').replace(/^error parsing regexp: /, '');
      throw new BadInputError(`Not a valid regular expression (RE2 syntax: no look-around or back-references): ${why}`);
    }
  }
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
}

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
