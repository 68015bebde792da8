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

describe('FrameDemuxer', () => {
  it('delivers raw payloads with their stream', () => {
    const got: string[] = [];
    const demux = new FrameDemuxer();
    demux.push(Buffer.concat([frame(1, 'ab'), frame(2, 'cd')]), (k, b) => got.push(`${k}=${b.toString()}`));
    expect(got).toEqual(['stdout=ab', 'stderr=cd']);
  });
});
