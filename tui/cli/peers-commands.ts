/**
 * `outpost peers add|list|remove|rename`: the peers file (core/peers/config.ts).
 * Every bad input (a URL, a name, a join code, a damaged file) exits 2 with
 * a message naming the field, and leaves the files as they were.
 */
import { BadInputError } from '../../core/model/errors.js';
import {
  checkNewName,
  nameProblem,
  normalizeFingerprint,
  peersFile,
  readPeers,
  readTokens,
  tokensFile,
  updatePeers,
  urlProblem,
  writeTokens,
  type PeerConfig,
  type PeerKind,
} from '../../core/peers/config.js';
import type { CliIO } from './program.js';

interface AddOptions {
  name?: string;
  token?: string;
  fingerprint?: string;
  kind?: string;
}

const ENGINE_SCHEMES = ['ssh://', 'tcp://', 'unix://'];

/** What `peers add` was given: an engine URL, an https URL, or a join code (decoded by the agent's code when this build has it). */
async function target(arg: string, opts: AddOptions): Promise<{ kind: PeerKind; url: string; fingerprint?: string; token?: string }> {
  const text = arg.trim();
  if (text.length === 0) throw new BadInputError('URL: give an engine URL (ssh://, tcp://, unix://), an https URL of an agent, or a join code.');
  if (opts.kind !== undefined && opts.kind !== 'agent' && opts.kind !== 'engine') throw new BadInputError('--kind must be agent or engine.');
  if (text.includes('://')) {
    const kind: PeerKind = (opts.kind as PeerKind | undefined) ?? (ENGINE_SCHEMES.some((s) => text.startsWith(s)) ? 'engine' : 'agent');
    const why = urlProblem(kind, text);
    if (why) throw new BadInputError(`URL ${why}.`);
    return { kind, url: text };
  }
  // A join code: address, fingerprint and token in one line.
  if (opts.kind === 'engine') throw new BadInputError('URL: a join code is for an agent peer; an engine peer takes ssh://, tcp:// or unix://.');
  let decoded: { url: string; fingerprint: string; token: string };
  try {
    decoded = await decodeJoin(text);
  } catch (err) {
    throw new BadInputError(`join code: ${err instanceof Error ? err.message : String(err)} (or give the agent's https:// URL with --token and --fingerprint)`);
  }
  const why = urlProblem('agent', decoded.url);
  if (why) throw new BadInputError(`join code: its URL ${why}.`);
  const fp = normalizeFingerprint(decoded.fingerprint);
  if (!fp) throw new BadInputError('join code: its fingerprint is not a SHA-256 (64 hex digits).');
  return { kind: 'agent', url: decoded.url, fingerprint: fp, token: decoded.token };
}

/** The agent's join-code decoder (core/api/join-code.ts): strict, its messages say what is wrong. */
async function decodeJoin(code: string): Promise<{ url: string; fingerprint: string; token: string }> {
  const { decodeJoinCode } = await import('../../core/api/join-code.js');
  return decodeJoinCode(code);
}

/** A default name from the URL's host: `gw-2.site.example` → `gw-2`. */
function defaultName(url: string): string | null {
  let host: string;
  if (url.startsWith('unix://')) host = url.split('/').filter(Boolean).pop()?.replace(/\.sock$/, '') ?? '';
  else {
    try {
      host = new URL(url).hostname;
    } catch {
      return null;
    }
  }
  const name = (host.split('.')[0] ?? '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 63);
  return name && !nameProblem(name) ? name : null;
}

/** SHA-256 of the certificate an https endpoint presents (trust on first use: shown before it is pinned). */
export async function fetchFingerprint(url: string, timeoutMs = 5000): Promise<string> {
  const { connect } = await import('node:tls');
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: u.port ? Number(u.port) : 443, servername: /^[\d.]+$|:/.test(u.hostname) ? undefined : u.hostname, rejectUnauthorized: false });
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
      reject(err);
    });
  });
}

/** `AB:CD:…` as people compare fingerprints. */
function showFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

export async function peersAdd(arg: string, opts: AddOptions, io: CliIO): Promise<number> {
  const t = await target(arg, opts);
  const peers = readPeers(io.env);
  const name = opts.name ?? defaultName(t.url);
  if (!name) throw new BadInputError(`--name: no name can be made from \`${t.url}\`; give one (${'1–63 of a-z, 0-9, -'}).`);
  checkNewName(peers, name, opts.name === undefined ? `--name (from the URL: ${name})` : '--name');
  const peer: PeerConfig = { name, kind: t.kind, url: t.url };
  let token = t.token;
  const refuseSameUrl = () => {
    const same = peers.find((p) => p.url === t.url);
    if (same) throw new BadInputError(`URL: \`${t.url}\` is already the peer \`${same.name}\` (rename it with \`outpost peers rename\`, or remove it first).`);
  };
  if (t.kind === 'engine') {
    if (opts.token !== undefined) throw new BadInputError('--token: an engine peer has no token (its endpoint\'s own access applies: ssh keys, TLS certificates).');
    if (opts.fingerprint !== undefined) throw new BadInputError('--fingerprint: an engine peer has no certificate to pin (ssh checks known_hosts).');
    refuseSameUrl();
  } else {
    if (opts.token !== undefined) token = opts.token;
    if (!token || token.trim().length === 0 || token.length > 4096 || /[\s\u0000-\u001f]/.test(token)) {
      throw new BadInputError('--token: an agent peer needs its token (`outpost agent` printed it), or use a join code.');
    }
    let fp = t.fingerprint ?? null;
    if (opts.fingerprint !== undefined) {
      fp = normalizeFingerprint(opts.fingerprint);
      if (!fp) throw new BadInputError('--fingerprint must be a SHA-256: 64 hex digits, with or without colons.');
      if (t.fingerprint && fp !== t.fingerprint) throw new BadInputError('--fingerprint differs from the join code\'s fingerprint; check which one the agent printed.');
    }
    refuseSameUrl();
    if (!fp) fp = await askToPin(t.url, io);
    if (!fp) return 1;
    peer.fingerprint = fp;
    await checkAgentPeer(t.url, fp, token, io);
  }
  if (token !== undefined && t.kind === 'agent') {
    const tokens = readTokens(io.env);
    writeTokens({ ...tokens, [name]: token }, io.env);
  }
  updatePeers(io.env, (current) => {
    checkNewName(current, name);
    return [...current, peer];
  });
  io.out(`added ${name} (${peer.kind}, ${peer.url}${peer.fingerprint ? `, fingerprint ${showFingerprint(peer.fingerprint).slice(0, 23)}…` : ''})\n`);
  return 0;
}

/**
 * What is pinned is checked before it is kept: the agent must present that
 * certificate and take the token. A wrong fingerprint or a refused token is
 * an error (nothing is written); an agent that does not answer now is added
 * with a warning (a box being installed may not be up yet).
 */
async function checkAgentPeer(url: string, fp: string, token: string, io: CliIO): Promise<void> {
  const { ApiClient } = await import('../../core/remote/client.js');
  const { PeerUnreachableError, UnauthorisedError, ForbiddenError } = await import('../../core/model/errors.js');
  const client = new ApiClient({ name: 'new peer', url, fingerprint: showFingerprint(fp), token, timeoutMs: 5000 });
  try {
    await client.call('status');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PeerUnreachableError && message.includes('REFUSED')) throw new BadInputError(`--fingerprint: ${message}`, { field: 'fingerprint' });
    if (err instanceof UnauthorisedError || err instanceof ForbiddenError) throw new BadInputError(`--token: the agent at ${url} refused it (${message}); use the token \`outpost agent\` printed, or one from \`outpost tokens create\` on that node.`, { field: 'token' });
    io.err(`warning: the agent at ${url} does not answer now (${message}); added all the same: it is checked at every connection.\n`);
  } finally {
    client.destroy();
  }
}

/** Trust on first use: connects, shows the fingerprint and asks (a terminal only). Null: not pinned. */
async function askToPin(url: string, io: CliIO): Promise<string | null> {
  const ask = io.ask;
  if (!ask) throw new BadInputError('--fingerprint: not a terminal, so the agent\'s certificate cannot be confirmed; give --fingerprint (the one `outpost agent` printed).');
  let fp: string;
  try {
    fp = await fetchFingerprint(url);
  } catch (err) {
    throw new BadInputError(`URL: cannot fetch the certificate of ${url} (${err instanceof Error ? err.message : String(err)}); check the address, or give --fingerprint.`);
  }
  io.out(`The agent at ${url} presents a certificate with SHA-256 fingerprint\n  ${showFingerprint(fp)}\nCompare it with the one \`outpost agent\` printed on that node.\n`);
  const answer = await ask('Pin this fingerprint and add the peer? [y/N] ');
  if (!/^y(es)?$/i.test(answer.trim())) {
    io.err('Not added.\n');
    return null;
  }
  return fp;
}

export async function peersList(opts: { json?: boolean; check?: boolean }, io: CliIO): Promise<number> {
  const peers = readPeers(io.env);
  const rows: (PeerConfig & { state?: string; latencyMs?: number | null; reason?: string })[] = peers.map((p) => ({ ...p }));
  if (opts.check) {
    const { readPeersWithTokens } = await import('../../core/peers/config.js');
    const { nodeForPeer } = await import('../../core/peers/fleet-from-config.js');
    const withTokens = readPeersWithTokens(io.env);
    await Promise.all(
      rows.map(async (row, i) => {
        const node = await nodeForPeer(withTokens[i] as PeerConfig, { requestTimeoutMs: 5000 });
        const t0 = performance.now();
        try {
          await node.info();
          row.state = 'online';
          row.latencyMs = Math.round(performance.now() - t0);
        } catch (err) {
          row.state = 'unreachable';
          row.latencyMs = null;
          row.reason = err instanceof Error ? err.message : String(err);
        } finally {
          await node.close();
        }
      }),
    );
  }
  if (opts.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.out(`No peers (${peersFile(io.env)}). Add one with \`outpost peers add URL\`.\n`);
    return 0;
  }
  const { renderTable } = await import('../presentation/format.js');
  type Row = (typeof rows)[number];
  const cols: { header: string; value: (r: Row) => string }[] = [
    { header: 'NAME', value: (r) => r.name },
    { header: 'KIND', value: (r) => r.kind },
    { header: 'URL', value: (r) => r.url },
    { header: 'FINGERPRINT', value: (r) => (r.fingerprint ? `${showFingerprint(r.fingerprint).slice(0, 23)}…` : '-') },
  ];
  if (opts.check) {
    cols.push({ header: 'STATE', value: (r) => r.state ?? '-' }, { header: 'LATENCY', value: (r) => (r.latencyMs == null ? '-' : `${r.latencyMs} ms`) });
  }
  io.out(`${renderTable(rows, cols as never)}\n`);
  for (const r of rows) if (r.reason) io.err(`${r.name}: ${r.reason}\n`);
  return 0;
}

export function peersRemove(name: string, io: CliIO): number {
  const peers = readPeers(io.env);
  if (!peers.some((p) => p.name === name)) throw new BadInputError(`NAME: no peer named \`${name.slice(0, 70)}\`. Peers: ${peers.map((p) => p.name).join(', ') || 'none'}.`);
  updatePeers(io.env, (current) => current.filter((p) => p.name !== name));
  const tokens = readTokens(io.env);
  if (name in tokens) {
    delete tokens[name];
    writeTokens(tokens, io.env);
  }
  io.out(`removed ${name}\n`);
  return 0;
}

export function peersRename(from: string, to: string, io: CliIO): number {
  const peers = readPeers(io.env);
  if (!peers.some((p) => p.name === from)) throw new BadInputError(`OLD: no peer named \`${from.slice(0, 70)}\`. Peers: ${peers.map((p) => p.name).join(', ') || 'none'}.`);
  checkNewName(peers, to, 'NEW');
  const tokens = readTokens(io.env);
  if (from in tokens) {
    // The token moves first: a peer without its token would fail to connect.
    writeTokens({ ...tokens, [to]: tokens[from] as string }, io.env);
  }
  updatePeers(io.env, (current) => current.map((p) => (p.name === from ? { ...p, name: to } : p)));
  if (from in tokens) {
    const next = { ...tokens, [to]: tokens[from] as string };
    delete next[from];
    writeTokens(next, io.env);
  }
  io.out(`renamed ${from} to ${to}\n`);
  return 0;
}

export { peersFile, tokensFile };
