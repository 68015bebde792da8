/** The join code: a round trip, and hostile input refused with a BadInputError (never anything else). */
import { describe, expect, it } from 'vitest';
import { decodeJoinCode, encodeJoinCode, JOIN_PREFIX } from '../../core/api/join-code.js';
import { BadInputError } from '../../core/model/errors.js';

const FP = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).toUpperCase().padStart(2, '0')).join(':');
const TOKEN = `op_${'a'.repeat(43)}`;
const b64 = (v: unknown) => JOIN_PREFIX + Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('join codes', () => {
  it('round-trips address, fingerprint and token on one line', () => {
    const code = encodeJoinCode({ url: 'https://10.0.0.5:8443', fingerprint: FP, token: TOKEN });
    expect(code).toMatch(/^outpost1:[A-Za-z0-9_-]+$/);
    expect(decodeJoinCode(`  ${code}\n`)).toEqual({ url: 'https://10.0.0.5:8443', fingerprint: FP, token: TOKEN });
  });

  const hostile: [string, unknown][] = [
    ['not text', 42],
    ['null', null],
    ['empty', ''],
    ['another prefix', 'outpost2:abc'],
    ['huge', `${JOIN_PREFIX}${'A'.repeat(100_000)}`],
    ['bad alphabet', `${JOIN_PREFIX}ab$c`],
    ['not JSON', b64('hello')],
    ['an array', b64([1, 2])],
    ['a string', b64('"x"')],
    ['missing token', b64({ url: 'https://a:1', fingerprint: FP })],
    ['extra field', b64({ url: 'https://a:1', fingerprint: FP, token: TOKEN, admin: true })],
    ['lowercase fingerprint', b64({ url: 'https://a:1', fingerprint: FP.toLowerCase(), token: TOKEN })],
    ['short fingerprint', b64({ url: 'https://a:1', fingerprint: 'AB:CD', token: TOKEN })],
    ['file url', b64({ url: 'file:///etc/passwd', fingerprint: FP, token: TOKEN })],
    ['javascript url', b64({ url: 'javascript:alert(1)', fingerprint: FP, token: TOKEN })],
    ['url with a path', b64({ url: 'https://a:1/v1/tokens', fingerprint: FP, token: TOKEN })],
    ['url with credentials', b64({ url: 'https://u:p@a:1', fingerprint: FP, token: TOKEN })],
    ['url without a port', b64({ url: 'https://a', fingerprint: FP, token: TOKEN })],
    ['token with a newline', b64({ url: 'https://a:1', fingerprint: FP, token: `${TOKEN}\n` })],
    ['prototype pollution', b64('{"__proto__":{"x":1},"url":"https://a:1"}')],
    ['deep nesting', b64('['.repeat(10_000))],
  ];
  it.each(hostile)('refuses %s', (_what, input) => {
    expect(() => decodeJoinCode(input)).toThrow(BadInputError);
  });

  it('never throws anything but BadInputError on random input', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rnd() * 200);
      const s = JOIN_PREFIX + Array.from({ length: len }, () => String.fromCharCode(Math.floor(rnd() * 128))).join('');
      try {
        decodeJoinCode(i % 2 ? s : b64(s));
      } catch (err) {
        expect(err).toBeInstanceOf(BadInputError);
      }
    }
  });
});
