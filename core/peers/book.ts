/**
 * Adding, renaming and removing peers: the steps the CLI (`outpost peers`)
 * and the tray's settings page share. What a person gives (a URL or a join
 * code, a name, a token, a fingerprint) is checked here with messages that
 * name the field the way the face calls it (`--name` on the command line,
 * `name` in a form); nothing is written until everything is checked, and
 * what is pinned is first checked against the live agent.
 */
import { BadInputError } from '../model/errors.js';
import { thisNodeName } from './node-name.js';
import { checkNewName, nameProblem, normalizeFingerprint, readPeers, readTokens, updatePeers, urlProblem, writeTokens, type PeerConfig, type PeerKind } from './config.js';

/** How a face names a field in its messages: `--name` for the CLI, `name` for a form. */
export type FieldLabel = (field: 'url' | 'name' | 'token' | 'fingerprint' | 'kind') => string;
export const cliLabel: FieldLabel = (f) => (f === 'url' ? 'URL' : `--${f}`);
export const formLabel: FieldLabel = (f) => f;

export interface AddInput {
  /** An engine URL (ssh://, tcp://, unix://), an agent's https:// URL, or a join code. */
  target: string;
  name?: string;
  token?: string;
  fingerprint?: string;
  kind?: string;
}

/** A peer ready to be added, but for the fingerprint when it still has to be confirmed. */
export interface PeerPlan {
  name: string;
  kind: PeerKind;
  url: string;
  /** 64 lowercase hex digits; null: an agent whose certificate has not been confirmed yet. */
  fingerprint: string | null;
  token?: string;
  /** The join code's single-use enrolment secret: exchanged for a token (redeemJoinCode) before the peer is saved. */
  secret?: string;
}

const ENGINE_SCHEMES = ['ssh://', 'tcp://', 'unix://'];

/** `AB:CD:…` as people compare fingerprints (as `openssl x509 -fingerprint -sha256` prints them). */
export function showFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/** A default name from the URL's host: `gw-2.site.example` → `gw-2`; an address → `10-0-0-7`. */
export function defaultName(url: string): string | null {
  let host: string;
  if (url.startsWith('unix://')) host = url.split('/').filter(Boolean).pop()?.replace(/\.sock$/, '') ?? '';
  else {
    try {
      host = new URL(url).hostname;
    } catch {
      return null;
    }
  }
  host = host.replace(/^\[|\]$/g, '');
  // An address is a name as a whole (`127.0.0.2` → `127-0-0-2`); only a host name is cut at its first dot.
  const isAddress = /^[\d.]+$/.test(host) || host.includes(':');
  const base = isAddress ? host : (host.split('.')[0] ?? '');
  const name = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return name && !nameProblem(name) ? name : null;
}

/** The join code's decoder (core/api/join-code.ts): strict, its messages say what is wrong. */
async function decodeJoin(code: string): Promise<import('../api/join-code.js').JoinCode> {
  const { decodeJoinCode } = await import('../api/join-code.js');
  return decodeJoinCode(code);
}

/**
 * Checks what a person gave and makes the peer of it: kind, URL, name, token
 * and (when given or in the join code) the fingerprint. Throws BadInputError
 * naming the field; reads the peers file to refuse a name or URL in use.
 */
export async function planPeer(env: NodeJS.ProcessEnv, input: AddInput, label: FieldLabel): Promise<PeerPlan> {
  const text = input.target.trim();
  if (text.length === 0) throw new BadInputError(`${label('url')}: give an engine URL (ssh://, tcp://, unix://), an https URL of an agent, or a join code.`, { field: 'url' });
  if (text.length > 8192) throw new BadInputError(`${label('url')}: at most 8192 characters.`, { field: 'url' });
  if (input.kind !== undefined && input.kind !== 'agent' && input.kind !== 'engine') throw new BadInputError(`${label('kind')} must be agent or engine.`, { field: 'kind' });
  let kind: PeerKind;
  let url: string;
  let fingerprint: string | null = null;
  let token = input.token;
  let secret: string | undefined;
  if (text.includes('://')) {
    kind = (input.kind as PeerKind | undefined) ?? (ENGINE_SCHEMES.some((s) => text.startsWith(s)) ? 'engine' : 'agent');
    const why = urlProblem(kind, text);
    if (why) throw new BadInputError(`${label('url')} ${why}.`, { field: 'url' });
    url = text;
  } else {
    if (input.kind === 'engine') throw new BadInputError(`${label('url')}: a join code is for an agent peer; an engine peer takes ssh://, tcp:// or unix://.`, { field: 'url' });
    let decoded: import('../api/join-code.js').JoinCode;
    try {
      decoded = await decodeJoin(text);
    } catch (err) {
      throw new BadInputError(`join code: ${err instanceof Error ? err.message : String(err)} (or give the agent's https:// URL with its token and fingerprint)`, { field: 'url' });
    }
    const why = urlProblem('agent', decoded.url);
    if (why) throw new BadInputError(`join code: its URL ${why}.`, { field: 'url' });
    const fp = normalizeFingerprint(decoded.fingerprint);
    if (!fp) throw new BadInputError('join code: its fingerprint is not a SHA-256 (64 hex digits).', { field: 'url' });
    kind = 'agent';
    url = decoded.url;
    fingerprint = fp;
    token ??= decoded.token;
    if (token === undefined) secret = decoded.secret;
  }
  const peers = readPeers(env);
  const name = input.name ?? defaultName(url);
  if (!name) throw new BadInputError(`${label('name')}: no name can be made from \`${url}\`; give one (1–63 of a-z, 0-9, -).`, { field: 'name' });
  try {
    checkNewName(peers, name, input.name === undefined ? `${label('name')} (from the URL: ${name})` : label('name'), thisNodeName(env));
  } catch (err) {
    throw new BadInputError((err as Error).message, { field: 'name' });
  }
  // The arguments' own problems first; then whether the address is a peer already.
  const refuseSameUrl = () => {
    const same = peers.find((p) => p.url === url);
    if (same) throw new BadInputError(`${label('url')}: \`${url}\` is already the peer \`${same.name}\` (rename it, or remove it first).`, { field: 'url' });
  };
  if (kind === 'engine') {
    if (input.token !== undefined) throw new BadInputError(`${label('token')}: an engine peer has no token (its endpoint's own access applies: ssh keys, TLS certificates).`, { field: 'token' });
    if (input.fingerprint !== undefined) throw new BadInputError(`${label('fingerprint')}: an engine peer has no certificate to pin (ssh checks known_hosts).`, { field: 'fingerprint' });
    refuseSameUrl();
    return { name, kind, url, fingerprint: null };
  }
  if (secret !== undefined && token === undefined) {
    if (input.fingerprint !== undefined && normalizeFingerprint(input.fingerprint) !== fingerprint) throw new BadInputError(`${label('fingerprint')} differs from the join code's fingerprint; check which one the agent printed.`, { field: 'fingerprint' });
    refuseSameUrl();
    return { name, kind, url, fingerprint, secret };
  }
  if (!token || token.trim().length === 0 || token.length > 4096 || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new BadInputError(`${label('token')}: an agent peer needs its token (\`outpost agent\` printed it), or use a join code.`, { field: 'token' });
  }
  if (input.fingerprint !== undefined) {
    const fp = normalizeFingerprint(input.fingerprint);
    if (!fp) throw new BadInputError(`${label('fingerprint')} must be a SHA-256: 64 hex digits, with or without colons.`, { field: 'fingerprint' });
    if (fingerprint && fp !== fingerprint) throw new BadInputError(`${label('fingerprint')} differs from the join code's fingerprint; check which one the agent printed.`, { field: 'fingerprint' });
    fingerprint = fp;
  }
  refuseSameUrl();
  return { name, kind, url, fingerprint, token };
}

/** SHA-256 of the certificate an https endpoint presents (trust on first use: shown before it is pinned). */
export async function fetchFingerprint(url: string, timeoutMs = 5000): Promise<string> {
  const { connect } = await import('node:tls');
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: u.port ? Number(u.port) : 443, servername: /^[\d.]+$|:/.test(host) ? undefined : host, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${u.host} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      const hex = fp ? normalizeFingerprint(fp) : null;
      if (hex) resolve(hex);
      else reject(new Error(`${u.host} presented no certificate`));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * A join code's secret exchanged for a token (POST /v1/enrol, over the pinned certificate): once
 * only, so this is the step that may fail for good (a used or expired code) and is done last,
 * after everything that can be checked here. The plan then holds the token, not the secret.
 */
export async function redeemJoinCode(env: NodeJS.ProcessEnv, plan: PeerPlan, label: FieldLabel, timeoutMs = 5000): Promise<void> {
  if (plan.secret === undefined || plan.token !== undefined) return;
  if (!plan.fingerprint) throw new BadInputError(`${label('fingerprint')}: confirm the agent's fingerprint first.`, { field: 'fingerprint' });
  const { ApiClient } = await import('../remote/client.js');
  const { UnauthorisedError } = await import('../model/errors.js');
  const client = new ApiClient({ name: 'new peer', url: plan.url, fingerprint: showFingerprint(plan.fingerprint), token: '', timeoutMs });
  try {
    const got = await client.call<{ token?: unknown; role?: unknown; name?: unknown }>('enrol', { body: { secret: plan.secret, name: `${thisNodeName(env)}-${plan.name}`.slice(0, 63) } });
    if (typeof got?.token !== 'string' || !/^op_[A-Za-z0-9_-]{43}$/.test(got.token)) throw new BadInputError(`the agent at ${plan.url} answered the join code without a token.`, { field: 'url' });
    plan.token = got.token;
    delete plan.secret;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UnauthorisedError) throw new BadInputError(`join code: the agent at ${plan.url} refused it: ${message}`, { field: 'url' });
    if (err instanceof BadInputError) throw err;
    throw new BadInputError(`join code: the agent at ${plan.url} must answer to take it, and does not now (${message}); nothing was added, and the code is still good until it expires.`, { field: 'url' });
  } finally {
    client.destroy();
  }
}

/**
 * What is pinned is checked before it is kept: the agent must present that
 * certificate and take the token. A wrong fingerprint or a refused token
 * throws BadInputError (nothing is written); an agent that does not answer
 * now is a warning (a box being installed may not be up yet).
 */
export async function verifyAgentPeer(url: string, fingerprint: string, token: string, label: FieldLabel, timeoutMs = 5000): Promise<{ warning: string | null }> {
  const { ApiClient } = await import('../remote/client.js');
  const { PeerUnreachableError, UnauthorisedError, ForbiddenError } = await import('../model/errors.js');
  const client = new ApiClient({ name: 'new peer', url, fingerprint: showFingerprint(fingerprint), token, timeoutMs });
  try {
    await client.call('status');
    return { warning: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PeerUnreachableError && String(err.details.cause ?? '').startsWith('REFUSED')) throw new BadInputError(`${label('fingerprint')}: ${message}`, { field: 'fingerprint' });
    if (err instanceof UnauthorisedError || err instanceof ForbiddenError) {
      throw new BadInputError(`${label('token')}: the agent at ${url} refused it (${message}); use the token \`outpost agent\` printed, or one from \`outpost tokens create\` on that node.`, { field: 'token' });
    }
    return { warning: `the agent at ${url} does not answer now (${message}); added all the same: it is checked at every connection.` };
  } finally {
    client.destroy();
  }
}

/** Writes a checked peer: its token first (mode 0600), then the peers file; the name and URL are checked again against the file as it is now. */
export function savePeer(env: NodeJS.ProcessEnv, plan: PeerPlan): PeerConfig {
  if (plan.kind === 'agent' && !plan.fingerprint) throw new BadInputError('fingerprint: an agent peer is added only with its certificate pinned.', { field: 'fingerprint' });
  const peer: PeerConfig = { name: plan.name, kind: plan.kind, url: plan.url, ...(plan.fingerprint ? { fingerprint: plan.fingerprint } : {}) };
  if (plan.kind === 'agent' && plan.token !== undefined) writeTokens({ ...readTokens(env), [plan.name]: plan.token }, env);
  updatePeers(env, (current) => {
    checkNewName(current, plan.name, undefined, thisNodeName(env));
    if (current.some((p) => p.url === plan.url)) throw new BadInputError(`URL: \`${plan.url}\` was added meanwhile.`, { field: 'url' });
    return [...current, peer];
  });
  return peer;
}

function known(peers: readonly PeerConfig[]): string {
  return peers.map((p) => p.name).join(', ') || 'none';
}

/** Removes a peer and its token. */
export function removePeer(env: NodeJS.ProcessEnv, name: string, label = 'NAME'): void {
  const peers = readPeers(env);
  if (!peers.some((p) => p.name === name)) throw new BadInputError(`${label}: no peer named \`${name.slice(0, 70)}\`. Peers: ${known(peers)}.`, { field: 'name' });
  updatePeers(env, (current) => current.filter((p) => p.name !== name));
  const tokens = readTokens(env);
  if (name in tokens) {
    delete tokens[name];
    writeTokens(tokens, env);
  }
}

/** Renames a peer; its token moves with it (first, so the peer is never without it). */
export function renamePeer(env: NodeJS.ProcessEnv, from: string, to: string, labels: { from: string; to: string } = { from: 'OLD', to: 'NEW' }): void {
  const peers = readPeers(env);
  if (!peers.some((p) => p.name === from)) throw new BadInputError(`${labels.from}: no peer named \`${from.slice(0, 70)}\`. Peers: ${known(peers)}.`, { field: 'name' });
  try {
    checkNewName(peers, to, labels.to, thisNodeName(env));
  } catch (err) {
    throw new BadInputError((err as Error).message, { field: 'to' });
  }
  const tokens = readTokens(env);
  if (from in tokens) writeTokens({ ...tokens, [to]: tokens[from] as string }, env);
  updatePeers(env, (current) => current.map((p) => (p.name === from ? { ...p, name: to } : p)));
  if (from in tokens) {
    const next = { ...tokens, [to]: tokens[from] as string };
    delete next[from];
    writeTokens(next, env);
  }
}
