/**
 * The fast path must give string-width's answer: every code point of the
 * ranges it handles alone, each next to ASCII, and random mixes that include
 * characters it hands over (marks, joiners, emoji sequences, controls).
 */
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import fastStringWidth, { approximate, loadFullWidth, measured } from '../../tui/app/fast-string-width.js';

describe('fast string width', () => {
  it('measures marks, joiners and wide characters sensibly before string-width has loaded', () => {
    expect(approximate('e\u0301')).toBe(1);
    expect(approximate('a\u200db')).toBe(2);
    expect(approximate('日本')).toBe(4);
    expect(approximate('❤\ufe0f')).toBe(1);
    expect(approximate('tab\tx')).toBe(4);
  });

  it('loads string-width for what the fast path hands over', async () => {
    await loadFullWidth();
    expect(fastStringWidth('👩\u200d👩\u200d👧')).toBe(stringWidth('👩\u200d👩\u200d👧'));
  });

  it('agrees with string-width on every code point below U+10000 and on astral samples', async () => {
    await loadFullWidth();
    const wrong: string[] = [];
    const check = (s: string) => {
      if (fastStringWidth(s) !== stringWidth(s)) wrong.push(`${JSON.stringify(s)}: ${fastStringWidth(s)} vs ${stringWidth(s)}`);
    };
    for (let cp = 0; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue; // lone surrogates are not text
      const ch = String.fromCodePoint(cp);
      check(ch);
      check(`a${ch}b`);
    }
    for (const cp of [0x1f600, 0x1f680, 0x1f3fb, 0x1f1e6, 0x20000, 0x2a6d6, 0xe0041, 0x1f9d1]) check(String.fromCodePoint(cp));
    expect(wrong.slice(0, 20)).toEqual([]);
  });

  it('agrees on the TUI’s own lines and on mixes it must hand over', async () => {
    await loadFullWidth();
    const samples = [
      'CPU 16.5% ▂▂▂▂▂▂▂▂  MEM  3.2% ▁▁▁▁▁▁▁▁  DISK 29.8%  TEMP -  NET ↓0B/s ↑0B/s',
      ' logs  stats  inspect  rules  ─ bench-00',
      '● local 50/51 · rules ✓',
      '\x1b[31mred\x1b[39m ▾ project  3/4 running',
      '日本語のログ 한국어 中文',
      'e\u0301 cafe\u0301', // combining accent
      '👩‍👩‍👧 family', // ZWJ sequence
      '❤️ heart with VS16',
      '🇫🇷 flag',
      '👍🏽 skin tone',
      'tab\there', // control
      'soft\u00adhyphen',
      'ｶﾞ halfwidth kana with mark',
      'zero\u200bwidth',
      '',
    ];
    for (const s of samples) expect(fastStringWidth(s), JSON.stringify(s)).toBe(stringWidth(s));
    // Random strings from a pool that mixes easy and hard characters.
    const pool = [...'abc ─▂●↓✓日本한', '\u0301', '\u200d', '\ufe0f', '👍', '🏽', '\x1b[1m', '\x1b[22m', '\u00ad', '\t'];
    let x = 42;
    const rand = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) % pool.length;
    for (let n = 0; n < 2000; n++) {
      let s = '';
      for (let k = 0; k < 1 + (n % 12); k++) s += pool[rand()];
      expect(fastStringWidth(s), JSON.stringify(s)).toBe(stringWidth(s));
    }
  });

  it('is what Ink measures text with in these tests (vitest.config.ts)', async () => {
    const { render } = await import('ink-testing-library');
    const React = await import('react');
    const { Box, Text } = await import('ink');
    // A box as wide as its text: the measure decides where the second box starts.
    const before = measured();
    const r = render(React.createElement(Box, null, React.createElement(Text, null, '日本'), React.createElement(Text, null, '|')));
    expect(r.lastFrame()).toBe('日本|');
    expect(measured()).toBeGreaterThan(before);
    r.unmount();
  });
});
