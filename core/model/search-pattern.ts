import { RE2JS } from 're2js';
import { BadInputError } from './errors.js';

/**
 * A regular expression that matches in time linear in the line: JavaScript's
 * own engine backtracks, and one `/(x+)+y/` over a 40-character line held the
 * TUI at 100 % CPU for good, deaf to every key. The pattern is run by re2js
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
 * Compiles what a person typed to search logs (the TUI's `/`, the tray's search box). Text between
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

