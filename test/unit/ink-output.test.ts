/**
 * The frame builder that stands in for Ink's Output: compared cell by cell
 * with Ink's own on the same writes (differential), plus the cases where it
 * deliberately differs (rows cut at the frame's width, half wide characters
 * at clip edges).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import FastOutput, { framesBuilt } from '../../tui/app/ink-output.js';
import { BLANK, parseLine, rowText } from '../../tui/app/cells.js';

interface OutputLike {
  write(x: number, y: number, text: string, o: { transformers: ((s: string, i: number) => string)[] }): void;
  clip(c: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
  unclip(): void;
  get(): { output: string; height: number };
}
type OutputClass = new (o: { width: number; height: number }) => OutputLike;

// Ink's own, loaded from its file (the package does not export it).
const inkDir = dirname(createRequire(import.meta.url).resolve('ink'));
const InkOutput = ((await import(pathToFileURL(join(inkDir, 'output.js')).href)) as { default: OutputClass }).default;

type Op = ['write', number, number, string, ((s: string, i: number) => string)[]?] | ['clip', { x1?: number; x2?: number; y1?: number; y2?: number }] | ['unclip'];

function run(Impl: OutputClass, width: number, height: number, ops: Op[]) {
  const o = new Impl({ width, height });
  for (const op of ops) {
    if (op[0] === 'write') o.write(op[1], op[2], op[3], { transformers: op[4] ?? [] });
    else if (op[0] === 'clip') o.clip(op[1]);
    else o.unclip();
  }
  return o.get();
}

/** What a terminal shows: each row as character:style cells, trailing default blanks dropped. */
function visible(frame: { output: string }): string[][] {
  return frame.output.split('\n').map((l) => {
    const cells = [...parseLine(l)];
    while (cells.length > 0 && cells[cells.length - 1] === BLANK) cells.pop();
    return cells.map((c) => (c.style ? `${c.ch}:${c.style}` : c.ch));
  });
}

const red = (s: string) => `\x1b[31m${s}\x1b[39m`;
const inverse = (s: string) => `\x1b[7m${s}\x1b[27m`;

const CASES: [string, number, number, Op[]][] = [
  ['plain text', 20, 3, [['write', 0, 0, 'hello'], ['write', 2, 1, 'world']]],
  ['styles and nested styles', 30, 2, [['write', 1, 0, `a${red(`b${inverse('c')}d`)}e`], ['write', 0, 1, '\x1b[38;5;208morange\x1b[39m \x1b[1mbold\x1b[22m']]],
  ['overlapping writes', 12, 1, [['write', 0, 0, 'aaaaaaaaaa'], ['write', 3, 0, red('XY')]]],
  ['multi-line text', 10, 4, [['write', 1, 1, 'one\ntwo\nthree']]],
  ['transformers applied per line with their index', 20, 3, [['write', 0, 0, 'x\ny', [(s, i) => `${i}${red(s)}`]]]],
  ['horizontal clip', 20, 2, [['clip', { x1: 2, x2: 6 }], ['write', 0, 0, 'abcdefghij'], ['write', 4, 1, red('klmnop')], ['unclip']]],
  ['vertical clip', 10, 5, [['clip', { y1: 1, y2: 3 }], ['write', 0, 0, 'r0\nr1\nr2\nr3\nr4'], ['unclip'], ['write', 5, 4, 'out']]],
  ['nested clips', 20, 3, [['clip', { x1: 0, x2: 10 }], ['clip', { x1: 3, x2: 5 }], ['write', 0, 0, '0123456789'], ['unclip'], ['write', 0, 1, '0123456789abc'], ['unclip']]],
  ['text entirely outside a clip', 10, 2, [['clip', { x1: 5, x2: 8, y1: 0, y2: 1 }], ['write', 0, 0, 'ab'], ['write', 6, 1, 'zz'], ['unclip']]],
  ['wide characters and emoji', 20, 2, [['write', 0, 0, '日本語 ok'], ['write', 0, 1, `✓ ${red('🚀')} done`]]],
  ['styled trailing blanks are kept', 10, 1, [['write', 0, 0, inverse('ab   ')]]],
  ['rows below the frame are dropped', 10, 2, [['write', 0, 1, 'a\nb\nc']]],
  ['background fill then text', 8, 2, [['write', 0, 0, '\x1b[44m        \x1b[49m'], ['write', 1, 0, 'hi']]],
];

describe('Ink frame builder (ink-output)', () => {
  for (const [name, w, h, ops] of CASES) {
    it(`draws what Ink's own Output draws: ${name}`, () => {
      const ours = run(FastOutput as unknown as OutputClass, w, h, ops);
      const theirs = run(InkOutput, w, h, ops);
      expect(ours.height).toBe(theirs.height);
      expect(visible(ours)).toEqual(visible(theirs));
    });
  }

  it('cuts rows at the frame width (a terminal would wrap them)', () => {
    const frame = run(FastOutput as unknown as OutputClass, 5, 1, [['write', 2, 0, 'abcdefgh']]);
    expect(frame.output).toBe('  abc');
  });

  it('puts a blank where a clip edge cuts a wide character in half', () => {
    const frame = run(FastOutput as unknown as OutputClass, 10, 2, [['clip', { x1: 1, x2: 4 }], ['write', 0, 0, '日本語'], ['write', 0, 1, 'a日本'], ['unclip']]);
    // Row 0: columns 1..3 hold the second half of 日, then 本 whole: a blank, then 本.
    expect(visible(frame)[0]).toEqual([' ', ' ', '本', '']);
    // Row 1: 日 whole at 1–2; the first half of 本 at column 3 is cut to a blank (trailing, so trimmed).
    expect(visible(frame)[1]).toEqual([' ', '日', '']);
    expect(frame.output.split('\n')[1]).toBe(' 日');
  });

  it('keeps frames consistent with what the screen writer reads back', () => {
    const frame = run(FastOutput as unknown as OutputClass, 30, 2, [['write', 0, 0, `${red('err')} ${inverse('sel')}  日本`]]);
    for (const line of frame.output.split('\n')) expect(rowText(parseLine(line))).toBe(line);
  });

  it('is the Output Ink uses in these tests (vitest.config.ts puts it in place)', async () => {
    const { render } = await import('ink-testing-library');
    const React = await import('react');
    const { Text } = await import('ink');
    const before = framesBuilt();
    const r = render(React.createElement(Text, null, 'through ink'));
    expect(r.lastFrame()).toContain('through ink');
    expect(framesBuilt()).toBeGreaterThan(before);
    r.unmount();
  });
});
