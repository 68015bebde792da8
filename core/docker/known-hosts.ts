/**
 * The host key check for ssh:// engines. ssh2 accepts any host key when it
 * is given no verifier: an ssh:// engine (DOCKER_HOST, --host or an
 * engine-only peer) would then hand the user's agent and every container's
 * output to whoever answers on that address. The key must be the one that
 * OpenSSH's known_hosts files list for the host (plain or hashed entries,
 * `[host]:port` for other ports); an unknown host and a changed key are
 * refused, each with what to do.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendLineTo } from '../model/write-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile } from '../model/read-file.js';
import { sshClientClass } from './ssh-module.js';

export interface HostKeyVerdict {
  ok: boolean;
  /** Why not: the host is not listed at all (trust on first use may pin it), or another key is (never pinned over). */
  problem?: 'unknown' | 'changed' | 'revoked';
  /** Why not, in words, with what to do. */
  reason?: string;
}

const MAX_KNOWN_HOSTS_BYTES = 4 * 1024 * 1024;

/** The names known_hosts uses for a host: `host` on port 22, `[host]:port` elsewhere. */
function namesFor(host: string, port: number): string[] {
  return port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    try {
      return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
    } catch {
      return false;
    }
  }
  // Wildcards (* and ?), as OpenSSH allows in plain entries; a run of stars is one star (many in a row made the match backtrack without end).
  const re = new RegExp(`^${pattern.replace(/\*+/g, '*').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** Checks `key` (the raw public key blob the server offered) against the known_hosts text(s). */
export function checkHostKey(host: string, port: number, key: Buffer, files: { path: string; text: string }[]): HostKeyVerdict {
  const names = namesFor(host, port);
  const where = port === 22 ? host : `[${host}]:${port}`;
  let listed = false;
  for (const { path, text } of files) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      // An optional marker (@revoked, @cert-authority) comes first.
      const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
      const [hosts, , blob] = fields;
      if (!hosts || !blob) continue;
      const patterns = hosts.split(',');
      const negated = patterns.some((p) => p.startsWith('!') && names.some((n) => patternMatches(p.slice(1), n)));
      if (negated || !patterns.some((p) => !p.startsWith('!') && names.some((n) => patternMatches(p, n)))) continue;
      let listedKey: Buffer;
      try {
        listedKey = Buffer.from(blob, 'base64');
      } catch {
        continue;
      }
      const same = listedKey.equals(key);
      if (marker === '@revoked' && same) return { ok: false, problem: 'revoked', reason: `the host key of ${where} is marked @revoked in ${path}; refusing it.` };
      if (marker) continue;
      listed = true;
      if (same) return { ok: true };
    }
  }
  if (listed) {
    return {
      ok: false,
      problem: 'changed',
      reason: `the host key of ${where} is not the one known_hosts lists for it: it changed, or someone is in between. Refusing it. If the host was reinstalled, check the new key out of band, then \`ssh-keygen -R ${where}\` and connect once with ssh.`,
    };
  }
  return {
    ok: false,
    problem: 'unknown',
    reason: `${where} is not in known_hosts (${files.map((f) => f.path).join(', ') || '~/.ssh/known_hosts'}); Outpost does not trust a host key on sight. Connect once with \`ssh ${port === 22 ? host : `-p ${port} ${host}`}\`, check the fingerprint it shows, and accept it.`,
  };
}

/** The user's and the system's known_hosts files that exist and can be read (bounded). */
export function knownHostsFiles(env: NodeJS.ProcessEnv = process.env): { path: string; text: string }[] {
  const home = env.HOME || homedir();
  const out: { path: string; text: string }[] = [];
  for (const path of [join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts']) {
    const r = readRegularFile(path, MAX_KNOWN_HOSTS_BYTES);
    if (r.ok) out.push({ path, text: r.text });
  }
  return out;
}

/**
 * An ssh2 `hostVerifier` for one endpoint. The verdict of the last check is
 * kept in `last`, so the connection's error can say why ssh2 refused.
 */
export function hostVerifier(host: string, port: number, env: NodeJS.ProcessEnv = process.env): { verify: (key: Buffer) => boolean; last: () => HostKeyVerdict | null } {
  let last: HostKeyVerdict | null = null;
  return {
    verify: (key: Buffer) => {
      last = checkHostKey(host, port, key, knownHostsFiles(env));
      return last.ok;
    },
    last: () => last,
  };
}

/** The verdicts of the host key checks, per ssh endpoint (`host:port`), so a refused connection can say why. */
const hostKeyVerdicts = new Map<string, () => HostKeyVerdict | null>();

export function hostKeyCheck(host: string, port: number): (key: Buffer) => boolean {
  const v = hostVerifier(host, port);
  hostKeyVerdicts.set(`${host}:${port}`, v.last);
  return v.verify;
}

/** Why the host key of an ssh endpoint was refused, when it was. */
export function hostKeyRefusal(host: string, port: number): string | null {
  const verdict = hostKeyVerdicts.get(`${host}:${port}`)?.();
  return verdict && !verdict.ok ? (verdict.reason ?? 'host key refused') : null;
}

/** The key's type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`) from its blob, or null. */
export function hostKeyType(key: Buffer): string | null {
  if (key.length < 4) return null;
  const n = key.readUInt32BE(0);
  if (n < 1 || n > 64 || key.length < 4 + n) return null;
  const t = key.subarray(4, 4 + n).toString('latin1');
  return /^[a-z0-9@.-]+$/.test(t) ? t : null;
}

/** The fingerprint as OpenSSH shows it: `SHA256:` and the unpadded base64 of the key's SHA-256. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The host key an SSH server presents, without logging in (the check
 * refuses the connection once it has the key). Rejects when nothing
 * answers within `timeoutMs`.
 */
export async function fetchHostKey(host: string, port: number, timeoutMs = 5000): Promise<Buffer> {
  const Client = await sshClientClass();
  return new Promise((resolve, reject) => {
    const c = new Client();
    let key: Buffer | null = null;
    const timer = setTimeout(() => {
      c.end();
      reject(new Error(`no SSH answer from ${host}:${port} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      c.end();
      if (key) resolve(key);
    };
    c.on('error', (err) => {
      finish();
      if (!key) reject(err);
    });
    c.connect({
      host,
      port,
      username: 'outpost-host-key-check',
      readyTimeout: timeoutMs,
      hostVerifier: (k: Buffer) => {
        key = Buffer.from(k);
        setImmediate(finish);
        return false;
      },
    });
  });
}

/** Adds the host's key to the user's known_hosts (made 0700/0600 when new), as `ssh` does on "yes". */
export function pinHostKey(host: string, port: number, key: Buffer, env: NodeJS.ProcessEnv = process.env): string {
  const type = hostKeyType(key);
  if (!type) throw new Error('the host presented a key Outpost cannot read');
  const dir = join(env.HOME || homedir(), '.ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'known_hosts');
  const name = port === 22 ? host : `[${host}]:${port}`;
  // A whole line or none: half a key line glued to the next pin would break both.
  appendLineTo(file, `${name} ${type} ${key.toString('base64')}`);
  return file;
}
