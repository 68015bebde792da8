/**
 * Bounds text that came from outside (a rule name, a label, a file's line)
 * before it is echoed in a message, a journal entry or a terminal: a 1 MB
 * name must not become a 1 MB error on every reload. The cut is marked, and
 * says how much was left out.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max);
  // A high surrogate at the cut would leave half a character.
  const code = text.charCodeAt(cut - 1);
  if (cut > 0 && code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}… (${text.length - cut} more characters)`;
}

/** The longest message (a problem, a journal reason) kept whole. */
export const MAX_MESSAGE_CHARS = 4000;
