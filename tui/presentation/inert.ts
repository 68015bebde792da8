/**
 * Makes text from a container safe to print on a terminal: every control
 * character and escape sequence is shown as visible text (`\x1b[2J`) and
 * does nothing. A log line can then never move the cursor, set the title,
 * write the clipboard (OSC 52) or change colours.
 *
 * Tabs become spaces (their width depends on the cursor column, which would
 * break column layouts). C1 controls (U+0080–U+009F) are escaped too: some
 * terminals treat U+009B as CSI. Bidi overrides are escaped so a line cannot
 * reorder what follows it.
 */
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function inert(text: string, tabWidth = 4): string {
  let out = text.indexOf('\t') >= 0 ? text.replace(/\t/g, ' '.repeat(tabWidth)) : text;
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(out)) return out;
  out = out.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return out;
}

const UNSAFE_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `inert` for whole lines of output: newlines and tabs stay what they are,
 * every other control character and escape sequence becomes visible text.
 * Idempotent, so text made inert earlier passes unchanged. The CLI's
 * terminal sinks (tui/main.ts) put everything through it.
 */
export function inertLines(text: string): string {
  UNSAFE_IN_LINES.lastIndex = 0;
  if (!UNSAFE_IN_LINES.test(text)) return text;
  // C1 controls and bidi marks as \uNNNN: inside JSON (which escapes only C0) that is still valid JSON.
  return text.replace(UNSAFE_IN_LINES, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
