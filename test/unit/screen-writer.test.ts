import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { diffFrames, findScrolls, parseLine, ScreenWriter } from '../../tui/app/screen-writer.js';

class FakeTerminal extends EventEmitter {
  columns = 20;
  rows = 5;
  out: string[] = [];
  write(data: string): boolean {
    this.out.push(data);
    return true;
  }
}

describe('screen diff', () => {
  it('parses styles per cell, including resets and extended colours', () => {
    const cells = parseLine('a\x1b[32mb\x1b[7mc\x1b[27md\x1b[39m\x1b[38;5;208me\x1b[0mf');
    expect(cells.map((c) => `${c.ch}:${c.style}`)).toEqual(['a:', 'b:32', 'c:32;7', 'd:32', 'e:38;5;208', 'f:']);
    expect(parseLine('日本').length).toBe(4); // wide characters take two cells
  });

  it('writes only the cells that changed', () => {
    const a = [parseLine('CPU  0.3%  MEM 10M'), parseLine('same line')];
    const b = [parseLine('CPU  0.4%  MEM 10M'), parseLine('same line')];
    expect(diffFrames(a, b, 5)).toBe('\x1b[1;8H4');
    expect(diffFrames(a, a, 5)).toBe('');
  });

  it('clears the rest of a line that got shorter, and styles what it writes', () => {
    const out = diffFrames([parseLine('running  ')], [parseLine('\x1b[31mexit\x1b[39m')], 5);
    expect(out).toBe('\x1b[1;1H\x1b[0;31mexit\x1b[0m\x1b[K');
  });

  it('repaints everything first, after a resize and after invalidate', () => {
    const t = new FakeTerminal();
    const w = new ScreenWriter(t);
    w.write('hello\nworld');
    expect(t.out[0]).toBe('\x1b[0m\x1b[H\x1b[2J\x1b[1;1Hhello\x1b[2;1Hworld');
    w.write('hello\nwordy');
    expect(t.out[1]).toBe('\x1b[2;4Hdy');
    t.emit('resize');
    w.write('hello\nwordy');
    expect(t.out[2]?.startsWith('\x1b[0m\x1b[H\x1b[2J')).toBe(true);
    w.invalidate();
    w.write('hello\nwordy');
    expect(t.out[3]?.startsWith('\x1b[0m\x1b[H\x1b[2J')).toBe(true);
    // Never taller than the terminal: a frame of 9 lines is cut to 5.
    w.write(Array.from({ length: 9 }, (_, i) => `l${i}`).join('\n'));
    expect(t.out[4]).not.toContain('l5');
    expect(w.bytesWritten).toBeGreaterThan(0);
    w.close();
  });

  it('scrolls a block that moved up and writes only the lines that came in', () => {
    const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => parseLine(`log line ${from + i}`));
    const prev = [parseLine('header'), ...lines(1, 10), parseLine('footer')];
    const next = [parseLine('header'), ...lines(3, 10), parseLine('footer')];
    expect(findScrolls(prev, next, 12)).toEqual([{ top: 1, bottom: 10, by: 2 }]);
    const out = diffFrames(prev, next, 12);
    expect(out.startsWith('\x1b[2;11r\x1b[11;1H\n\n\x1b[r')).toBe(true);
    expect(out).toContain('log line 11');
    expect(out).toContain('log line 12');
    expect(out).not.toContain('log line 5');
    // Rewriting the ten lines instead would have cost far more.
    expect(out.length).toBeLessThan(80);
  });

  it('does not scroll lines that merely changed in place', () => {
    const prev = [0, 1, 2, 3, 4].map((i) => parseLine(`cpu ${i}%`));
    const next = [0, 1, 2, 3, 4].map((i) => parseLine(`cpu ${i + 10}%`));
    expect(findScrolls(prev, next, 5)).toEqual([]);
  });
});
