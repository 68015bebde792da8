import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../../desktop/src/renderer/highlight.js';
import { compileSearch, filterWithContext, highlight, matches, nextMatch } from '../../tui/logs/search.js';

describe('log search patterns (linear time)', () => {
  it('a pattern that backtracks catastrophically in JavaScript answers at once', () => {
    const re = compileSearch('/(x+)+y/') as RegExp;
    const line = 'x'.repeat(40);
    const started = Date.now();
    expect(matches(line, re)).toBe(false);
    expect(highlight(line, re)).toEqual([{ text: line, match: false }]);
    expect(filterWithContext([line, `${line}y`, line], re, 0)).toEqual([1]);
    expect(nextMatch([line, line, `${'x'.repeat(20000)}y`], re, 0, 1)).toBe(2);
    // JavaScript's engine would take hours on this line; RE2 takes microseconds.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('the check can fail: the same pattern in JavaScript does not finish in a second', async () => {
    const worker = new Worker("const r = /(x+)+y/; r.test('x'.repeat(40)); require('node:worker_threads').parentPort.postMessage('done');", { eval: true });
    const outcome = await Promise.race([
      new Promise((r) => worker.once('message', () => r('finished'))),
      new Promise((r) => setTimeout(() => r('still running'), 1000)),
    ]);
    await worker.terminate();
    expect(outcome).toBe('still running');
  });

  it('highlights every match with the right offsets, flags included, across non-ASCII text', () => {
    const re = compileSearch('/w(ö|o)rld/i') as RegExp;
    expect(highlight('héllo WÖRLD and world', re)).toEqual([
      { text: 'héllo ', match: false },
      { text: 'WÖRLD', match: true },
      { text: ' and ', match: false },
      { text: 'world', match: true },
    ]);
    expect(matches('nothing here', re)).toBe(false);
    expect(highlight('a🙂b🙂', compileSearch('/🙂/') as RegExp)).toEqual([
      { text: 'a', match: false },
      { text: '🙂', match: true },
      { text: 'b', match: false },
      { text: '🙂', match: true },
    ]);
  });

  it('plain text is a case-insensitive substring; empty matches are skipped', () => {
    expect(highlight('Error: (x+)', compileSearch('(X+)') as RegExp).filter((s) => s.match)).toEqual([{ text: '(x+)', match: true }]);
    expect(highlight('abc', compileSearch('/x*/') as RegExp)).toEqual([{ text: 'abc', match: false }]);
  });

  it('names what is wrong in a bad pattern, and refuses what RE2 cannot do in linear time', () => {
    expect(() => compileSearch('/(unclosed/')).toThrow(/Not a valid regular expression/);
    expect(() => compileSearch('/(a)\\1/')).toThrow(/RE2 syntax/);
    expect(() => compileSearch('/(?=x)/')).toThrow(/RE2 syntax/);
  });

  it("the tray's search box uses the same linear-time engine", () => {
    const re = compileQuery('/(x+)+y/') as RegExp;
    const started = Date.now();
    expect(re.test('x'.repeat(40))).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(compileQuery('/(unclosed/')).toBeNull();
    expect(compileQuery('')).toBeNull();
  });
});
