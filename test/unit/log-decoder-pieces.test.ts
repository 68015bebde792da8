import { describe, expect, it } from 'vitest';
import { LogDecoder } from '../../core/docker/log-decoder.js';

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** What the engine sends for one long line with timestamps: a message per 16 KiB, each stamped. */
function engineLine(text: string, stamp: (i: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i * 16384 < text.length; i++) out.push(`${stamp(i)} ${text.slice(i * 16384, (i + 1) * 16384)}`);
  out[out.length - 1] += '\n';
  return out;
}

const stamp = (i: number) => `2026-12-02T03:00:0${i}.${'123456789'.slice(0, 1 + i)}Z`;

describe('LogDecoder and the engine\'s 16 KiB pieces', () => {
  for (const multiplexed of [true, false]) {
    it(`keeps the engine's stamps out of a long line's text (${multiplexed ? 'frames' : 'TTY'}), whatever the chunk boundaries`, () => {
      const long = 'ab'.repeat(20_000);
      const messages = [...engineLine(long, stamp), `${stamp(9)} after\n`];
      const all = multiplexed ? Buffer.concat(messages.map((m) => frame(1, m))) : Buffer.from(messages.join(''));
      for (const size of [1, 7, 31, 100, 4096, all.length]) {
        const d = new LogDecoder({ multiplexed, timestamps: true, maxLineBytes: 16 * 1024 });
        const got = [];
        for (let at = 0; at < all.length; at += size) {
          d.feed(all.subarray(at, at + size));
          for (let l = d.next(); l !== null; l = d.next()) got.push(l);
        }
        got.push(...d.end());
        const text = got.filter((l) => l.text !== 'after').map((l) => l.text).join('');
        expect(text).toBe(long);
        expect(got.at(-1)).toMatchObject({ text: 'after', timestamp: stamp(9) });
        expect(got[0]?.timestamp).toBe(stamp(0));
      }
    });
  }

  it('leaves a line that only looks like a stamp alone, and a short last line waits for nothing', () => {
    const d = new LogDecoder({ multiplexed: false, timestamps: true, maxLineBytes: 1024 });
    expect(d.push(Buffer.from('2026-12-02T03:00:00Z 2026-12-02T03:00:00Z text\n'))).toEqual([{ stream: 'tty', timestamp: '2026-12-02T03:00:00Z', text: '2026-12-02T03:00:00Z text' }]);
    // A whole short line at the end of a chunk is handed out at once (a followed log must not lag).
    expect(d.push(Buffer.from('2026-12-02T03:00:01Z hi\n'))).toEqual([{ stream: 'tty', timestamp: '2026-12-02T03:00:01Z', text: 'hi' }]);
    const m = new LogDecoder({ multiplexed: true, timestamps: true, maxLineBytes: 1024 });
    expect(m.push(frame(2, '2026-12-02T03:00:01Z x\n'))).toEqual([{ stream: 'stderr', timestamp: '2026-12-02T03:00:01Z', text: 'x' }]);
  });
});
