/**
 * The peers file: the nodes beside this machine that a person looks at.
 *
 * `$XDG_CONFIG_HOME/outpost/peers.json` (else ~/.config/outpost/peers.json)
 * holds `{ "peers": [{ name, kind, url, fingerprint? }] }`. Agent peers are
 * reached over https with a pinned SHA-256 certificate fingerprint; engine
 * peers are a Docker endpoint (ssh://, tcp://, unix://). Tokens are never in
 * peers.json: they live in `peer-tokens.json` beside it, mode 0600.
 *
 * Both files are read with the bounded regular-file reader (a FIFO, a device
 * or a huge file is refused, never waited on) and written atomically (a temp
 * file renamed over the old one), so a failed write leaves the old file.
 */
import { isLoopbackHost } from '../shared/loopback.js';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { configDir, writeAtomic } from '../agent/store.js';
import { BadInputError } from '../model/errors.js';
import { readRegularFile } from '../model/read-file.js';

export type PeerKind = 'agent' | 'engine';

export interface PeerConfig {
  name: string;
  kind: PeerKind;
  url: string;
  /** SHA-256 of the agent's certificate, 64 lowercase hex digits (agent peers only). */
  fingerprint?: string;
}

/** A peer with its token (for agent peers), as a factory needs it. */
export interface PeerWithToken extends PeerConfig {
  token?: string;
}

export const PEERS_FILE = 'peers.json';
export const TOKENS_FILE = 'peer-tokens.json';
/** Largest peers or tokens file read (a few hundred peers fit in far less). */
export const MAX_PEERS_BYTES = 256 * 1024;
export const NAME_RULE = '1–63 characters of a-z, 0-9 and -, starting with a letter or digit';

export function peersFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), PEERS_FILE);
}

export function tokensFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), TOKENS_FILE);
}

/** Why a peer name is refused, or null when it is fine. `local` is this machine's node. */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'must be a string';
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) return `\`${name.slice(0, 70)}\` is not a valid name (${NAME_RULE})`;
  if (name === 'local') return '`local` is this machine\'s node; choose another name';
  // `all` is the TUI's view of every node (`:node all`): a peer by that name could not be chosen.
  if (name === 'all') return '`all` names every node at once (`:node all`); choose another name';
  return null;
}

/** Normalises a fingerprint (`AB:CD:…` or hex) to 64 lowercase hex digits, or null when it is not one. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.trim().replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** Why a URL is refused for a peer of this kind, or null. */
export function urlProblem(kind: PeerKind, url: unknown): string | null {
  if (typeof url !== 'string' || url.length === 0) return 'must be a non-empty string';
  if (url.length > 2048) return 'is longer than 2048 characters';
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return 'holds spaces or control characters';
  if (kind === 'engine') {
    if (url.startsWith('unix://')) return url.slice(7).startsWith('/') ? null : `\`${url}\` needs an absolute socket path (unix:///path/docker.sock)`;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return `\`${url}\` is not a URL (ssh://user@host, tcp://host:2376 or unix:///path)`;
    }
    if (u.protocol !== 'ssh:' && u.protocol !== 'tcp:') return `\`${url}\`: an engine peer is ssh://, tcp:// or unix://`;
    if (!u.hostname) return `\`${url}\` has no host name`;
    return null;
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `\`${url}\` is not a URL (https://host:port)`;
  }
  // http:// only on this machine's loopback (an agent run with --insecure-http, as its join code says).
  const loopback = isLoopbackHost(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) return `\`${url}\`: an agent peer is reached over https:// (http:// only on loopback)`;
  if (!u.hostname) return `\`${url}\` has no host name`;
  return null;
}

/** Checks one entry of the peers file; the message names the entry and its field. */
function checkPeer(raw: unknown, where: string): PeerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadInputError(`${where} must be an object { name, kind, url, fingerprint? }.`);
  const p = raw as Record<string, unknown>;
  const nameWhy = nameProblem(p.name);
  if (nameWhy) throw new BadInputError(`${where}.name ${nameWhy}.`);
  const name = p.name as string;
  const at = `${where} (${name})`;
  if (p.kind !== 'agent' && p.kind !== 'engine') throw new BadInputError(`${at}.kind must be "agent" or "engine".`);
  const urlWhy = urlProblem(p.kind, p.url);
  if (urlWhy) throw new BadInputError(`${at}.url ${urlWhy}.`);
  const out: PeerConfig = { name, kind: p.kind, url: p.url as string };
  if (p.kind === 'agent') {
    const fp = typeof p.fingerprint === 'string' ? normalizeFingerprint(p.fingerprint) : null;
    if (!fp) throw new BadInputError(`${at}.fingerprint must be the SHA-256 of the agent's certificate (64 hex digits).`);
    out.fingerprint = fp;
  } else if (p.fingerprint !== undefined) {
    throw new BadInputError(`${at}.fingerprint: an engine peer has no certificate fingerprint.`);
  }
  for (const key of Object.keys(p)) {
    if (key === 'token') throw new BadInputError(`${at}.token: tokens belong in ${TOKENS_FILE} (mode 0600), never in ${PEERS_FILE}.`);
    if (!['name', 'kind', 'url', 'fingerprint'].includes(key)) throw new BadInputError(`${at}.${key.slice(0, 40)} is not a peer field (name, kind, url, fingerprint).`);
  }
  return out;
}

/** Parses and checks the peers file's text; throws a BadInputError naming the file and the field. */
export function parsePeers(text: string, file: string): PeerConfig[] {
  let doc: unknown;
  try {
    // A byte order mark (editors on Windows write one) is not part of the JSON.
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new BadInputError(`${file} is not valid JSON (${(err as Error).message}). Fix it or move it away; \`outpost peers\` writes it.`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { peers?: unknown }).peers)) {
    throw new BadInputError(`${file}: the field \`peers\` must be an array of peers ({ "peers": [ … ] }).`);
  }
  const peers: PeerConfig[] = [];
  const seen = new Set<string>();
  ((doc as { peers: unknown[] }).peers).forEach((raw, i) => {
    let p: PeerConfig;
    try {
      p = checkPeer(raw, `peers[${i}]`);
    } catch (err) {
      throw new BadInputError(`${file}: ${(err as Error).message}`);
    }
    if (seen.has(p.name)) throw new BadInputError(`${file}: peers[${i}].name \`${p.name}\` is used twice; peer names are unique.`);
    seen.add(p.name);
    peers.push(p);
  });
  return peers;
}

function readText(file: string): string | null {
  const f = readRegularFile(file, MAX_PEERS_BYTES);
  if (f.ok) return f.text;
  if (f.reason === 'missing') return null;
  throw new BadInputError(`${file} ${f.message}.`);
}

/** The configured peers (none when the file does not exist). Throws BadInputError on a bad file. */
export function readPeers(env: NodeJS.ProcessEnv = process.env): PeerConfig[] {
  const file = peersFile(env);
  const text = readText(file);
  return text === null ? [] : parsePeers(text, file);
}

/** The tokens by peer name (none when the file does not exist). */
export function readTokens(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const file = tokensFile(env);
  const text = readText(file);
  if (text === null) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new BadInputError(`${file} is not valid JSON (${(err as Error).message}).`);
  }
  const tokens = (doc as { tokens?: unknown } | null)?.tokens;
  if (typeof tokens !== 'object' || tokens === null || Array.isArray(tokens)) throw new BadInputError(`${file}: the field \`tokens\` must be an object { "peer-name": "token" }.`);
  const out: Record<string, string> = {};
  for (const [name, t] of Object.entries(tokens)) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 4096) throw new BadInputError(`${file}: tokens.${name.slice(0, 63)} must be a non-empty string.`);
    out[name] = t;
  }
  return out;
}

/** Every peer with its token. */
export function readPeersWithTokens(env: NodeJS.ProcessEnv = process.env): PeerWithToken[] {
  const peers = readPeers(env);
  if (!peers.some((p) => p.kind === 'agent')) return peers;
  const tokens = readTokens(env);
  return peers.map((p) => (tokens[p.name] !== undefined ? { ...p, token: tokens[p.name] as string } : p));
}

/** Writes the peers file atomically (checked first: a bad list is never written). */
export function writePeers(peers: readonly PeerConfig[], env: NodeJS.ProcessEnv = process.env): void {
  const file = peersFile(env);
  const text = `${JSON.stringify({ peers: peers.map((p) => ({ name: p.name, kind: p.kind, url: p.url, ...(p.fingerprint ? { fingerprint: p.fingerprint } : {}) })) }, null, 2)}\n`;
  parsePeers(text, file);
  writeAtomic(file, text);
}

/** Writes the tokens file atomically, mode 0600. */
export function writeTokens(tokens: Record<string, string>, env: NodeJS.ProcessEnv = process.env): void {
  const file = tokensFile(env);
  writeAtomic(file, `${JSON.stringify({ tokens }, null, 2)}\n`);
  chmodSync(file, 0o600);
}

/** A change to the peers, applied to the file as it is now (read, check, write). */
export function updatePeers(env: NodeJS.ProcessEnv, change: (peers: PeerConfig[]) => PeerConfig[]): PeerConfig[] {
  const next = change(readPeers(env));
  writePeers(next, env);
  return next;
}

/** Checks a new peer against the existing ones: name rules, unique, not this machine's own fleet name (`own`). */
export function checkNewName(peers: readonly PeerConfig[], name: string, field = '--name', own?: string): void {
  const why = nameProblem(name);
  if (why) throw new BadInputError(`${field} ${why}.`);
  if (name === own) throw new BadInputError(`${field}: \`${name}\` is this machine's own name (the node: of its placement.yaml); give the peer the name it has in the fleet.`);
  if (peers.some((p) => p.name === name)) throw new BadInputError(`${field}: a peer named \`${name}\` already exists (\`outpost peers list\`).`);
}
