import { describe, expect, it } from 'vitest';
import { FrameDemuxer, LogDecoder } from '../../core/docker/log-decoder.js';

function frame(kind: 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

describe('LogDecoder', () => {
  it('keeps stdout and stderr apart in multiplexed streams', () => {
    const d = new LogDecoder({ multiplexed: true, timestamps: false, maxLineBytes: 1024 });
    const lines = d.push(Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]));
    expect(lines).toEqual([
      { stream: 'stdout', text: 'out one' },
      { stream: 'stderr', text: 'err one' },
      { stream: 'stdout', text: 'out two' },
    ]);
  });

  it('reassembles headers, frames and UTF-8 characters split across chunks', () => {
    const d = new LogDecoder({ multiplexed: true, timestamps: false, maxLineBytes: 1024 });
    const all = Buffer.concat([frame(1, 'héllo wörld\n'), frame(2, 'ünïcode\n')]);
    const out = [];
    for (let i = 0; i < all.length; i++) out.push(...d.push(all.subarray(i, i + 1)));
    expect(out.map((l) => `${l.stream}:${l.text}`)).toEqual(['stdout:héllo wörld', 'stderr:ünïcode']);
  });

  it('joins a line that spans several frames', () => {
    const d = new LogDecoder({ multiplexed: true, timestamps: false, maxLineBytes: 1024 });
    expect(d.push(Buffer.concat([frame(1, 'par'), frame(1, 'tial'), frame(1, ' line\nnext')]))).toEqual([
      { stream: 'stdout', text: 'partial line' },
    ]);
    expect(d.end()).toEqual([{ stream: 'stdout', text: 'next' }]);
  });

  it('turns invalid UTF-8 into U+FFFD without losing neighbours', () => {
    const d = new LogDecoder({ multiplexed: false, timestamps: false, maxLineBytes: 1024 });
    const lines = d.push(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]));
    expect(lines).toEqual([{ stream: 'tty', text: 'a\ufffd\ufffdb' }]);
  });

  it('strips the carriage return of TTY lines and parses timestamps', () => {
    const d = new LogDecoder({ multiplexed: false, timestamps: true, maxLineBytes: 1024 });
    const lines = d.push(Buffer.from('2024-05-01T10:00:00.123456789Z hello\r\n2024-05-01T10:00:01Z  two spaces\r\n'));
    expect(lines).toEqual([
      { stream: 'tty', timestamp: '2024-05-01T10:00:00.123456789Z', text: 'hello' },
      { stream: 'tty', timestamp: '2024-05-01T10:00:01Z', text: ' two spaces' },
    ]);
  });

  it('cuts an over-long line into pieces marked partial, never growing past the cap', () => {
    const d = new LogDecoder({ multiplexed: false, timestamps: false, maxLineBytes: 10 });
    const lines = [...d.push(Buffer.from('a'.repeat(25))), ...d.push(Buffer.from('\n'))];
    expect(lines.map((l) => [l.text.length, l.partial === true])).toEqual([
      [10, true],
      [10, true],
      [5, false],
    ]);
    expect(lines.map((l) => l.text).join('')).toBe('a'.repeat(25));
  });

  it('never cuts inside a multi-byte character', () => {
    const d = new LogDecoder({ multiplexed: false, timestamps: false, maxLineBytes: 5 });
    const lines = d.push(Buffer.from('€€€\n')); // 3 bytes each
    expect(lines.map((l) => l.text)).toEqual(['€', '€', '€']);
    expect(lines.some((l) => l.text.includes('\ufffd'))).toBe(false);
  });

  it('treats an unknown stream id as stdout and survives a zero-length frame', () => {
    const weird = Buffer.concat([frame(1, ''), Buffer.from([9, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('x\ny')]);
    const d = new LogDecoder({ multiplexed: true, timestamps: false, maxLineBytes: 100 });
    expect(d.push(weird)).toEqual([{ stream: 'stdout', text: 'x' }]);
    expect(d.end()).toEqual([{ stream: 'stdout', text: 'y' }]);
  });
});


describe('LogDecoder, split anywhere', () => {
  // A small deterministic generator: the same cases on every run.
  function rng(seed: number) {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x / 0x7fffffff;
    };
  }

  it('decodes the same lines whatever the chunk boundaries (200 random splits of mixed frames)', () => {
    const rand = rng(7);
    const pieces: string[] = ['', 'a', 'short line', 'ünïcödé ✓ 日本', 'x'.repeat(70), '2026-11-24T01:02:03.123456789Z stamped', '\r'];
    for (let round = 0; round < 200; round++) {
      const frames: Buffer[] = [];
      for (let f = 0; f < 1 + Math.floor(rand() * 12); f++) {
        let text = '';
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) text += pieces[Math.floor(rand() * pieces.length)] + (rand() < 0.7 ? '\n' : '');
        frames.push(frame(rand() < 0.5 ? 1 : 2, text));
      }
      const all = Buffer.concat(frames);
      const options = { multiplexed: true, timestamps: rand() < 0.5, maxLineBytes: 64 };
      const whole = new LogDecoder(options);
      const expected = [...whole.push(all), ...whole.end()];
      const split = new LogDecoder(options);
      const got = [];
      let at = 0;
      while (at < all.length) {
        const n = 1 + Math.floor(rand() * 20);
        // Streaming use: feed, then read lines one at a time until more bytes are needed.
        split.feed(all.subarray(at, at + n));
        for (let line = split.next(); line !== null; line = split.next()) got.push(line);
        at += n;
      }
      got.push(...split.end());
      expect(got).toEqual(expected);
      // Nothing is longer than the cap, and pieces of a long line are marked.
      for (const l of got) expect(Buffer.byteLength(l.text)).toBeLessThanOrEqual(64);
    }
  });

  it('hands out a chunk of many short lines one at a time', () => {
    const d = new LogDecoder({ multiplexed: false, timestamps: false, maxLineBytes: 1024 });
    const chunk = Buffer.from(Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    d.feed(chunk);
    expect(d.next()).toEqual({ stream: 'tty', text: 'line 0' });
    expect(d.next()).toEqual({ stream: 'tty', text: 'line 1' });
    let n = 2;
    while (d.next() !== null) n++;
    expect(n).toBe(1000);
    expect(d.next()).toBeNull();
  });
});

describe('FrameDemuxer', () => {
  it('delivers raw payloads with their stream', () => {
    const got: string[] = [];
    const demux = new FrameDemuxer();
    demux.push(Buffer.concat([frame(1, 'ab'), frame(2, 'cd')]), (k, b) => got.push(`${k}=${b.toString()}`));
    expect(got).toEqual(['stdout=ab', 'stderr=cd']);
  });
});
