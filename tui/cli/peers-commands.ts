/**
 * `outpost peers add|list|remove|rename`: the peers file (core/peers/config.ts).
 * Every bad input (a URL, a name, a join code, a damaged file) exits 2 with
 * a message naming the field, and leaves the files as they were.
 */
import { BadInputError } from '../../core/model/errors.js';
import { cliLabel, fetchFingerprint, planPeer, redeemJoinCode, removePeer, renamePeer, savePeer, showFingerprint, verifyAgentPeer } from '../../core/peers/book.js';
import { peersFile, readPeers, tokensFile, type PeerConfig } from '../../core/peers/config.js';
import type { CliIO } from './program.js';

interface AddOptions {
  name?: string;
  token?: string;
  fingerprint?: string;
  kind?: string;
}

export async function peersAdd(arg: string, opts: AddOptions, io: CliIO): Promise<number> {
  const plan = await planPeer(io.env, { target: arg, ...opts }, cliLabel);
  if (plan.kind === 'agent') {
    plan.fingerprint ??= await askToPin(plan.url, io);
    if (!plan.fingerprint) return 1;
    await redeemJoinCode(io.env, plan, cliLabel);
    const { warning } = await verifyAgentPeer(plan.url, plan.fingerprint, plan.token as string, cliLabel);
    if (warning) io.err(`warning: ${warning}\n`);
  }
  if (plan.kind === 'engine' && plan.url.startsWith('ssh://') && !(await confirmHostKey(plan.url, io))) return 1;
  const peer = savePeer(io.env, plan);
  io.out(`added ${peer.name} (${peer.kind}, ${peer.url}${peer.fingerprint ? `, fingerprint ${showFingerprint(peer.fingerprint).slice(0, 23)}…` : ''})\n`);
  return 0;
}

/**
 * An ssh:// engine's host key, as `ssh` would: listed in known_hosts, it is
 * fine; another key listed (changed, revoked) is refused; not listed, it is
 * shown with its fingerprint and pinned into ~/.ssh/known_hosts when the
 * person says yes (a terminal only). A host that does not answer now is
 * added with a warning: its key is checked at every connection.
 */
async function confirmHostKey(url: string, io: CliIO): Promise<boolean> {
  const { parseHostUrl } = await import('../../core/docker/endpoint.js');
  const kh = await import('../../core/docker/known-hosts.js');
  const e = parseHostUrl(url, '--host');
  if (e.kind !== 'ssh') return true;
  const where = e.port === 22 ? e.host : `[${e.host}]:${e.port}`;
  let key: Buffer;
  try {
    key = await kh.fetchHostKey(e.host, e.port);
  } catch (err) {
    io.err(`warning: ${where} does not answer now (${err instanceof Error ? err.message : String(err)}); added all the same: its host key is checked against known_hosts at every connection.\n`);
    return true;
  }
  const verdict = kh.checkHostKey(e.host, e.port, key, kh.knownHostsFiles(io.env));
  if (verdict.ok) return true;
  if (verdict.problem !== 'unknown') throw new BadInputError(`URL: ${verdict.reason ?? 'its host key is refused'}`, { field: 'url' });
  if (!io.ask) {
    throw new BadInputError(`URL: ${where} is not in known_hosts and this is not a terminal, so its host key cannot be confirmed; run \`outpost peers add\` on a terminal, or connect once with \`ssh ${e.port === 22 ? e.host : `-p ${e.port} ${e.host}`}\`.`, { field: 'url' });
  }
  const type = kh.hostKeyType(key) ?? 'unknown';
  io.out(`The host ${where} presents a ${type} key with fingerprint\n  ${kh.hostKeyFingerprint(key)}\nCompare it with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on that host.\n`);
  const answer = await io.ask('Pin this host key (in ~/.ssh/known_hosts) and add the peer? [y/N] ');
  if (!/^y(es)?$/i.test(answer.trim())) {
    io.err('Not added.\n');
    return false;
  }
  const file = kh.pinHostKey(e.host, e.port, key, io.env);
  io.out(`pinned ${where} in ${file}\n`);
  return true;
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
    const { nodeForPeer, PEER_REQUEST_DEADLINE_MS } = await import('../../core/peers/fleet-from-config.js');
    const withTokens = readPeersWithTokens(io.env);
    await Promise.all(
      rows.map(async (row, i) => {
        const node = await nodeForPeer(withTokens[i] as PeerConfig, { requestTimeoutMs: PEER_REQUEST_DEADLINE_MS });
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
    // The fingerprint as `outpost agent` and openssl print it, so a script can compare the two strings.
    io.out(`${JSON.stringify(rows.map((r) => (r.fingerprint ? { ...r, fingerprint: showFingerprint(r.fingerprint) } : r)), null, 2)}\n`);
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
  removePeer(io.env, name);
  io.out(`removed ${name}\n`);
  return 0;
}

export function peersRename(from: string, to: string, io: CliIO): number {
  renamePeer(io.env, from, to);
  io.out(`renamed ${from} to ${to}\n`);
  return 0;
}

export { peersFile, tokensFile };
