/**
 * The agent API's tokens: stored only as SHA-256 hashes in `tokens.json`
 * (mode 0600) in the agent's state directory. A token is 32 random bytes,
 * base64url, behind an `op_` prefix. Checking one hashes it (a fixed-length
 * digest) and compares it to every stored hash with timingSafeEqual.
 *
 * The CLI (`outpost tokens …`) writes the file; a running agent watches it
 * (TokenWatcher), so a revoke takes effect at once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BadInputError } from '../model/errors.js';
import { readRegularFile } from '../model/read-file.js';
import { writeAtomic } from '../agent/store.js';
import { nameSchema, type Role } from './routes.js';

export const TOKENS_FILE = 'tokens.json';
const TOKEN_RE = /^op_[A-Za-z0-9_-]{43}$/;

export interface TokenRecord {
  name: string;
  role: Role;
  /** SHA-256 of the token, hex. */
  hash: string;
  created: number;
}

const fileSchema = z.object({
  version: z.literal(1),
  tokens: z.array(
    z.object({
      name: nameSchema,
      role: z.enum(['viewer', 'operator', 'admin', 'peer']),
      hash: z.string().regex(/^[0-9a-f]{64}$/),
      created: z.number(),
    }),
  ),
});

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newToken(): string {
  return `op_${randomBytes(32).toString('base64url')}`;
}

export function isTokenShape(token: string): boolean {
  return TOKEN_RE.test(token);
}

export function tokensPath(stateDir: string): string {
  return join(stateDir, TOKENS_FILE);
}

/** The stored tokens; none when there is no file. A file that does not parse throws (never silently "no tokens"). */
export function readTokens(stateDir: string): TokenRecord[] {
  const path = tokensPath(stateDir);
  if (!existsSync(path)) return [];
  const f = readRegularFile(path, 1024 * 1024);
  if (!f.ok) throw new BadInputError(`${path} ${f.message}`);
  let json: unknown;
  try {
    json = JSON.parse(f.text);
  } catch {
    throw new BadInputError(`${path} is not JSON; restore it or remove it (a new admin token is made on the next start).`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new BadInputError(`${path} is not a tokens file (${parsed.error.issues[0]?.message ?? 'bad shape'}).`);
  return parsed.data.tokens;
}

function writeTokens(stateDir: string, tokens: TokenRecord[]): void {
  writeAtomic(tokensPath(stateDir), `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`);
}

/** Adds a token; answers the token itself (shown once, never stored). */
export function createToken(stateDir: string, name: string, role: Role, now = Date.now()): string {
  const n = nameSchema.safeParse(name);
  if (!n.success) throw new BadInputError(`Token name \`${String(name).slice(0, 64)}\`: ${n.error.issues[0]?.message}.`, { field: 'name' });
  if (role !== 'viewer' && role !== 'operator' && role !== 'admin' && role !== 'peer') throw new BadInputError(`Role \`${String(role).slice(0, 20)}\` must be viewer, operator, admin or peer.`, { field: 'role' });
  const tokens = readTokens(stateDir);
  if (tokens.some((t) => t.name === name)) throw new BadInputError(`A token named \`${name}\` exists already; revoke it first or choose another name.`, { field: 'name' });
  const token = newToken();
  writeTokens(stateDir, [...tokens, { name, role, hash: hashToken(token), created: now }]);
  return token;
}

export function revokeToken(stateDir: string, name: string): void {
  const tokens = readTokens(stateDir);
  if (!tokens.some((t) => t.name === name)) throw new BadInputError(`No token named \`${String(name).slice(0, 64)}\`; \`outpost tokens list\` shows them.`, { field: 'name' });
  writeTokens(stateDir, tokens.filter((t) => t.name !== name));
}

/** The record a token belongs to, or null. Every stored hash is compared (constant time on 32-byte digests). */
export function findToken(tokens: readonly TokenRecord[], token: string): TokenRecord | null {
  const digest = createHash('sha256').update(token, 'utf8').digest();
  let found: TokenRecord | null = null;
  for (const t of tokens) {
    const stored = Buffer.from(t.hash, 'hex');
    if (stored.length === digest.length && timingSafeEqual(stored, digest) && !found) found = t;
  }
  return found;
}

/**
 * The tokens a running agent accepts, re-read when the file changes (fs.watch
 * on the directory, as the file is replaced by a rename; and a slow poll in
 * case the watch misses one). `onChange` hears the new list.
 */
export class TokenWatcher {
  #tokens: TokenRecord[];
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout;
  #stamp: string;
  readonly #dir: string;
  readonly #onChange: (tokens: TokenRecord[]) => void;
  readonly #onError: (message: string) => void;

  constructor(stateDir: string, onChange: (tokens: TokenRecord[]) => void, onError: (message: string) => void, pollMs = 1000) {
    this.#dir = stateDir;
    this.#onChange = onChange;
    this.#onError = onError;
    this.#tokens = readTokens(stateDir);
    this.#stamp = JSON.stringify(this.#tokens);
    try {
      this.#watcher = watch(stateDir, (_event, file) => {
        if (file === null || file === TOKENS_FILE) this.reload();
      });
      this.#watcher.on('error', () => undefined);
    } catch {
      this.#watcher = null;
    }
    this.#timer = setInterval(() => this.reload(), pollMs);
    this.#timer.unref();
  }

  get tokens(): readonly TokenRecord[] {
    return this.#tokens;
  }

  reload(): void {
    let next: TokenRecord[];
    try {
      next = readTokens(this.#dir);
    } catch (err) {
      // A broken file accepts no token (fail closed) and says why.
      next = [];
      this.#onError(`tokens: ${(err as Error).message} No token is accepted until it is repaired.`);
    }
    const stamp = JSON.stringify(next);
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    this.#tokens = next;
    this.#onChange(next);
  }

  close(): void {
    this.#watcher?.close();
    clearInterval(this.#timer);
  }
}
