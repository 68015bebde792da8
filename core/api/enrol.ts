/**
 * Enrolment: what a join code carries instead of a token. `outpost tokens join-code --role R`
 * (and the agent's first start, for role peer) makes a secret that is good once, for a short
 * while, and for one role; `outpost peers add CODE` on the other machine sends it to
 * POST /v1/enrol and gets a token of that role back, made for it then. A join code seen in a
 * chat or a screenshot after use, or after its hour, is worth nothing; none ever carries the
 * admin token.
 *
 * Secrets are stored as SHA-256 hashes in `enrolments.json` (mode 0600) in the agent's state
 * directory, beside tokens.json.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAtomic } from '../agent/store.js';
import { BadInputError, UnauthorisedError } from '../model/errors.js';
import { readRegularFile } from '../model/read-file.js';
import { nameSchema } from '../model/schemas.js';
import type { Role } from './routes.js';
import { createToken, readTokens } from './tokens.js';

export const ENROLMENTS_FILE = 'enrolments.json';
export const ENROL_SECRET_RE = /^oe_[A-Za-z0-9_-]{43}$/;
/** A join code is good this long unless told otherwise. */
export const DEFAULT_ENROL_TTL_MS = 60 * 60_000;
export const MAX_ENROL_TTL_MS = 7 * 24 * 60 * 60_000;
/** Enrolments kept at most (the oldest unused go first). */
const MAX_ENROLMENTS = 100;

export type EnrolRole = Exclude<Role, 'admin'>;
export const ENROL_ROLES: readonly EnrolRole[] = ['peer', 'operator', 'viewer'];

interface Enrolment {
  hash: string;
  role: EnrolRole;
  created: number;
  expires: number;
}

const fileSchema = z.object({
  version: z.literal(1),
  enrolments: z.array(z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), role: z.enum(['peer', 'operator', 'viewer']), created: z.number(), expires: z.number() })),
});

const path = (stateDir: string) => join(stateDir, ENROLMENTS_FILE);
const hash = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

function read(stateDir: string): Enrolment[] {
  const p = path(stateDir);
  if (!existsSync(p)) return [];
  const f = readRegularFile(p, 256 * 1024);
  if (!f.ok) throw new BadInputError(`${p} ${f.message}`);
  let json: unknown;
  try {
    json = JSON.parse(f.text);
  } catch {
    throw new BadInputError(`${p} is not JSON; remove it (pending join codes are then void).`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new BadInputError(`${p} is not an enrolments file (${parsed.error.issues[0]?.message ?? 'bad shape'}); remove it (pending join codes are then void).`);
  return parsed.data.enrolments;
}

function write(stateDir: string, list: Enrolment[]): void {
  writeAtomic(path(stateDir), `${JSON.stringify({ version: 1, enrolments: list }, null, 2)}\n`);
  chmodSync(path(stateDir), 0o600);
}

/** A new enrolment secret for `role`, good once within `ttlMs` (shown once, stored hashed). */
export function createEnrolment(stateDir: string, role: EnrolRole, ttlMs = DEFAULT_ENROL_TTL_MS, now = Date.now()): { secret: string; expires: number } {
  if (!(ENROL_ROLES as readonly string[]).includes(role)) throw new BadInputError(`Role \`${String(role).slice(0, 20)}\` cannot be given by a join code: use peer, operator or viewer (an admin token is made on the agent's machine with \`outpost tokens create\`).`, { field: 'role' });
  if (!Number.isFinite(ttlMs) || ttlMs < 60_000 || ttlMs > MAX_ENROL_TTL_MS) throw new BadInputError('--ttl must be from 1m to 7d.', { field: 'ttl' });
  const secret = `oe_${randomBytes(32).toString('base64url')}`;
  const live = read(stateDir).filter((e) => e.expires > now);
  const list = [...live, { hash: hash(secret), role, created: now, expires: now + ttlMs }].slice(-MAX_ENROLMENTS);
  write(stateDir, list);
  return { secret, expires: now + ttlMs };
}

/**
 * Exchanges a secret for a new token of its role, named after who asks (made unique). The
 * secret is spent first: a second use, or a use after its time, is refused the same way as a
 * wrong secret (UnauthorisedError), so nothing tells them apart to a guesser.
 */
export function redeemEnrolment(stateDir: string, secret: string, askedName: string, peer: string, now = Date.now()): { token: string; role: EnrolRole; name: string } {
  const wrong = () => new UnauthorisedError(peer, 'the join code is wrong, used already or expired: make a new one on that node (`outpost tokens join-code`)');
  if (!ENROL_SECRET_RE.test(secret)) throw wrong();
  const digest = Buffer.from(hash(secret), 'hex');
  const list = read(stateDir);
  let found: Enrolment | null = null;
  for (const e of list) {
    const stored = Buffer.from(e.hash, 'hex');
    if (stored.length === digest.length && timingSafeEqual(stored, digest) && !found) found = e;
  }
  if (!found) throw wrong();
  write(
    stateDir,
    list.filter((e) => e !== found && e.expires > now),
  );
  if (found.expires <= now) throw wrong();
  const base = nameSchema.safeParse(askedName).success ? askedName : 'enrolled';
  const taken = new Set(readTokens(stateDir).map((t) => t.name));
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 56)}-${i}`;
  return { token: createToken(stateDir, name, found.role, now), role: found.role, name };
}

/** How many join codes wait, by role (for `outpost tokens list`). */
export function pendingEnrolments(stateDir: string, now = Date.now()): { role: EnrolRole; expires: number }[] {
  return read(stateDir)
    .filter((e) => e.expires > now)
    .map((e) => ({ role: e.role, expires: e.expires }));
}
