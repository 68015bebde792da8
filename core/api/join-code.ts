/**
 * The one-line join code (`outpost tokens join-code`, and the agent's first start): everything
 * `outpost peers add CODE` needs as `outpost1:` + base64url(JSON): the agent's address, its
 * certificate's fingerprint, and a single-use enrolment secret (enrol.ts) that the adding side
 * exchanges for a token of the code's role. Codes of older agents carry a token instead; they
 * are still read. Decoding is strict: the code comes from a paste, a chat or an attacker.
 */
import { z } from 'zod';
import { BadInputError } from '../model/errors.js';

export const JOIN_PREFIX = 'outpost1:';
const MAX_CODE = 2048;
export const FINGERPRINT_RE = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export interface JoinCode {
  /** `https://HOST:PORT` (or `http://` on loopback with --insecure-http). */
  url: string;
  fingerprint: string;
  /** A token (older codes). */
  token?: string;
  /** A single-use enrolment secret (enrol.ts), exchanged for a token when the peer is added. */
  secret?: string;
}

const schema = z
  .object({
    url: z
      .string()
      .max(512)
      .refine((u) => {
        try {
          const p = new URL(u);
          return (p.protocol === 'https:' || p.protocol === 'http:') && p.pathname === '/' && !p.search && !p.hash && !p.username && !p.password && p.port !== '';
        } catch {
          return false;
        }
      }, 'an https://HOST:PORT address'),
    fingerprint: z.string().regex(FINGERPRINT_RE, 'a SHA-256 fingerprint (AB:CD:… 32 bytes)'),
    token: z.string().regex(/^op_[A-Za-z0-9_-]{43}$/, 'an Outpost token (op_…)').optional(),
    secret: z.string().regex(/^oe_[A-Za-z0-9_-]{43}$/, 'an enrolment secret (oe_…)').optional(),
  })
  .strict()
  .refine((c) => (c.token === undefined) !== (c.secret === undefined), { message: 'a token or an enrolment secret (one of them)', path: ['secret'] });

export function encodeJoinCode(code: JoinCode): string {
  const checked = schema.parse({ url: code.url.replace(/\/$/, ''), fingerprint: code.fingerprint, ...(code.token !== undefined ? { token: code.token } : {}), ...(code.secret !== undefined ? { secret: code.secret } : {}) });
  return JOIN_PREFIX + Buffer.from(JSON.stringify(checked), 'utf8').toString('base64url');
}

/** The code's parts, or a BadInputError that says what is wrong with it (never anything else). */
export function decodeJoinCode(input: unknown): JoinCode {
  if (typeof input !== 'string') throw new BadInputError('A join code must be text (outpost1:…).', { field: 'code' });
  const text = input.trim();
  if (text.length > MAX_CODE) throw new BadInputError(`A join code is at most ${MAX_CODE} characters; this one has ${text.length}.`, { field: 'code' });
  if (!text.startsWith(JOIN_PREFIX)) throw new BadInputError('Not an Outpost join code: it must start with `outpost1:` (copy the whole line the agent printed).', { field: 'code' });
  const body = text.slice(JOIN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new BadInputError('The join code is damaged: after `outpost1:` only letters, digits, `-` and `_` may follow.', { field: 'code' });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new BadInputError('The join code is damaged (its contents are not readable); copy it again.', { field: 'code' });
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && 'url' in json && typeof json.url === 'string') {
    (json as { url: string }).url = json.url.replace(/\/$/, '');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new BadInputError(`The join code is damaged: ${i?.path.join('.') || 'its contents'}: ${i?.message ?? 'unexpected shape'}.`, { field: 'code' });
  }
  return parsed.data;
}
