/**
 * string-width, with a fast path for the characters a terminal UI is made of.
 *
 * string-width segments text into grapheme clusters (Intl.Segmenter) and
 * tests each against Unicode-property regexes (RGI emoji and others). Its
 * first call with any non-ASCII character took ~50 ms here (ICU data and
 * regex compilation) and each later call ~70 µs; Ink measures every Text
 * node with it on every frame, and the TUI's frames are full of `●`, `─`,
 * `▂`, `↓`. For text whose code points can only form one-character clusters
 * (printable ASCII, Latin, Greek, Cyrillic, punctuation, symbols, arrows, box
 * drawing, blocks, CJK) the width is the sum of each character's East Asian
 * Width, which is what string-width computes for such text; anything else
 * (marks, joiners, variation selectors, emoji modifiers, controls, jamo...)
 * goes to string-width itself, loaded lazily (see `loadFullWidth`). A test compares the two over every code point
 * in those ranges and over mixed strings.
 *
 * The build and the tests put it in place of string-width for Ink and the
 * libraries Ink uses (scripts/esbuild-plugins.mjs, vitest.config.ts).
 */
import { eastAsianWidth } from 'get-east-asian-width';
import stripAnsi from 'strip-ansi';

type Measure = (text: string, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }) => number;
let full: Measure | null = null;
let loading: Promise<void> | null = null;

/**
 * Loads string-width itself for the text the fast path hands over. Its module
 * takes ~55 ms to evaluate (its Unicode-property regexes are compiled when it
 * loads), so the UI loads it after its first frame; until then such text is
 * measured by `approximate`.
 */
export function loadFullWidth(): Promise<void> {
  loading ??= import('string-width').then((m) => {
    full = m.default;
  });
  return loading;
}

/** Until string-width is loaded: marks, joiners, selectors and controls take no column, the rest their East Asian Width. */
export function approximate(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (
      cp < 0x20 ||
      (cp >= 0x7f && cp <= 0x9f) ||
      cp === 0xad ||
      (cp >= 0x300 && cp <= 0x36f) ||
      (cp >= 0x200b && cp <= 0x200f) ||
      (cp >= 0x2028 && cp <= 0x202e) ||
      (cp >= 0x2060 && cp <= 0x206f) ||
      (cp >= 0x20d0 && cp <= 0x20ff) ||
      (cp >= 0xfe00 && cp <= 0xfe0f) ||
      cp === 0xfeff ||
      (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
      (cp >= 0xe0000 && cp <= 0xe0fff)
    ) {
      continue;
    }
    width += eastAsianWidth(cp);
  }
  return width;
}

function stringWidth(text: string, options?: Parameters<Measure>[1]): number {
  if (full) return full(text, options);
  void loadFullWidth();
  return approximate(stripAnsi(text));
}

/** Code point ranges (inclusive) whose characters always stand alone and are never zero-width. */
const SIMPLE: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa0, 0xac], // (0xad, the soft hyphen, is invisible)
  [0xae, 0x2ff],
  [0x370, 0x377],
  [0x37a, 0x37f],
  [0x384, 0x38a],
  [0x38c, 0x38c],
  [0x38e, 0x3a1],
  [0x3a3, 0x482], // (0x483–0x489 combine)
  [0x48a, 0x52f],
  [0x2010, 0x2027], // (0x2028–0x202e separators and bidi controls)
  [0x2030, 0x205e], // (0x205f–0x206f spaces and invisible operators)
  [0x2070, 0x2071],
  [0x2074, 0x208e],
  [0x2090, 0x209c],
  [0x20a0, 0x20c0], // (0x20d0–0x20ff combine)
  [0x2100, 0x2bff], // letterlike, arrows, maths, technical, box drawing, blocks, shapes, symbols, dingbats
  [0x2e80, 0x2e99],
  [0x2e9b, 0x2ef3],
  [0x2f00, 0x2fd5],
  [0x3000, 0x3029], // (0x302a–0x302f combine)
  [0x3030, 0x303e],
  [0x3041, 0x3096], // (0x3099–0x309a combine)
  [0x309b, 0x30ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
  [0xf900, 0xfa6d],
  [0xff01, 0xff60], // (halfwidth forms from 0xff61 can extend a cluster)
  [0xffe0, 0xffe6],
];

function isSimple(cp: number): boolean {
  let lo = 0;
  let hi = SIMPLE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = SIMPLE[mid] as readonly [number, number];
    if (cp < r[0]) hi = mid - 1;
    else if (cp > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

let calls = 0;
/** Calls so far (lets a test check that Ink measures through this function). */
export const measured = (): number => calls;

export default function fastStringWidth(input: string, options?: { ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean }): number {
  calls++;
  if (typeof input !== 'string' || input.length === 0) return 0;
  // Options other than the defaults are rare: string-width itself.
  if (options && (options.ambiguousIsNarrow === false || options.countAnsiEscapeCodes === true)) return stringWidth(input, options);
  const text = input.includes('\u001b') || input.includes('\u009b') ? stripAnsi(input) : input;
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) {
      width++;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    if (!isSimple(cp)) return stringWidth(text);
    width += eastAsianWidth(cp);
    if (cp > 0xffff) i++;
  }
  return width;
}
