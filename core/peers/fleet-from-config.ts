/**
 * One fleet for every face: this machine's node (built by the face, with
 * its rules port) plus every peer of the peers file. Engine-only peers are a
 * LocalNode on their endpoint (not this machine, no rules); agent peers are
 * built by the factory (RemoteNode, through its agent's HTTPS API).
 */
import { statSync } from 'node:fs';
import type { Endpoint } from '../docker/endpoint.js';
import { Fleet } from '../fleet.js';
import { BadInputError } from '../model/errors.js';
import type { Node } from '../node.js';
import { meansThisMachine, thisNodeName } from './node-name.js';
import { peersFile, readPeersWithTokens, tokensFile, type PeerWithToken } from './config.js';
import { UnreachableNode } from './unreachable-node.js';

/** Builds the Node of an agent peer. */
export type PeerFactory = (peer: PeerWithToken, options?: FleetOptions) => Node | Promise<Node>;

/**
 * How long a one-shot command (`outpost ps --all-nodes`, `outpost place`, `outpost workloads`)
 * waits for each request to a peer (the TLS handshake included) before it reports the peer as
 * unreachable: docs/cli.md says it. A peer that drops packets silently costs this, not more.
 */
export const PEER_REQUEST_DEADLINE_MS = 5000;

export interface FleetOptions {
  /** Builds agent peers (default: RemoteNode when this build has it). */
  factory?: PeerFactory;
  onError?: (message: string) => void;
  /** Deadline of each request to a peer, an engine peer's or an agent peer's (ms; default: each node's own). */
  requestTimeoutMs?: number;
}

/** The endpoint of an engine-only peer's URL. */
export async function peerEndpoint(peer: PeerWithToken): Promise<Endpoint> {
  const { parseHostUrl } = await import('../docker/endpoint.js');
  const endpoint = parseHostUrl(peer.url, '--host');
  // tcp:// on Docker's TLS port means TLS, as the docker CLI reads DOCKER_TLS_VERIFY there.
  if (endpoint.kind === 'tcp' && endpoint.port === 2376 && !endpoint.tls) return parseHostUrl(peer.url, '--host', { enabled: true, verify: true });
  return endpoint;
}

/** `AB:CD:…`, as the agent prints it and its client pins it. */
export function colonFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/** The default agent-peer factory: RemoteNode (its HTTPS client), loaded only when an agent peer is configured. */
export const defaultFactory: PeerFactory = async (peer, options = {}) => {
  if (!peer.token) return new UnreachableNode(peer.name, 'agent', `no token for ${peer.name} in peer-tokens.json: add the peer again with --token`);
  if (!peer.fingerprint) return new UnreachableNode(peer.name, 'agent', `no pinned fingerprint for ${peer.name}`);
  const { RemoteNode } = await import('../remote/remote-node.js');
  return new RemoteNode({ name: peer.name, url: peer.url, fingerprint: colonFingerprint(peer.fingerprint), token: peer.token, ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}) });
};

/** The Node of one peer. */
export async function nodeForPeer(peer: PeerWithToken, options: FleetOptions = {}): Promise<Node> {
  const node = await buildPeerNode(peer, options);
  BUILT_FROM.set(node, signature(peer));
  return node;
}

/** What a peer's node was built from: a node is rebuilt when its entry (or token) changes. */
const BUILT_FROM = new WeakMap<Node, string>();
const signature = (p: PeerWithToken) => JSON.stringify([p.kind, p.url, p.fingerprint ?? '', p.token ?? '']);

async function buildPeerNode(peer: PeerWithToken, options: FleetOptions): Promise<Node> {
  if (peer.kind === 'agent') {
    try {
      return await (options.factory ?? defaultFactory)(peer, options);
    } catch (err) {
      return new UnreachableNode(peer.name, 'agent', err instanceof Error ? err.message : String(err));
    }
  }
  const { LocalNode } = await import('../docker/local-node.js');
  try {
    const endpoint = await peerEndpoint(peer);
    return new LocalNode({
      name: peer.name,
      endpoint,
      isThisMachine: false,
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
  } catch (err) {
    return new UnreachableNode(peer.name, 'engine', err instanceof Error ? err.message : String(err));
  }
}

/** The fleet: `local` first, then every configured peer (the peers file is read here; a bad one throws BadInputError). */
export async function buildFleet(env: NodeJS.ProcessEnv, local: Node, options: FleetOptions = {}): Promise<Fleet> {
  const peers = readPeersWithTokens(env);
  const nodes = await Promise.all(peers.map((p) => nodeForPeer(p, options)));
  return new Fleet([local, ...nodes]);
}

/** One node by name: this machine's fleet name or its alias `local` is this machine; otherwise a peer. Unknown names throw, naming the known ones. */
export async function nodeByName(env: NodeJS.ProcessEnv, name: string, local: () => Node | Promise<Node>, options: FleetOptions = {}): Promise<Node> {
  const own = thisNodeName(env);
  if (meansThisMachine(name, own)) return local();
  const peers = readPeersWithTokens(env);
  const peer = peers.find((p) => p.name === name);
  if (!peer) throw new BadInputError(`--node: no node named \`${name}\`. Known nodes: ${[own, ...peers.map((p) => p.name)].join(', ')}.`);
  return nodeForPeer(peer, options);
}

/**
 * Brings a running fleet in line with the peers file: peers added since are
 * built, connected and added; removed ones are taken out (and closed); one
 * whose entry or token changed is rebuilt. This machine's node is never
 * touched. Throws BadInputError on a bad file (the fleet is left as it was).
 */
export async function syncFleet(fleet: Fleet, env: NodeJS.ProcessEnv, options: FleetOptions = {}): Promise<{ added: string[]; removed: string[] }> {
  const wanted = readPeersWithTokens(env);
  const byName = new Map(wanted.map((p) => [p.name, p]));
  const added: string[] = [];
  const removed: string[] = [];
  for (const node of fleet.nodes()) {
    if (node.isThisMachine) continue;
    const want = byName.get(node.name);
    if (want && BUILT_FROM.get(node) === signature(want)) {
      byName.delete(node.name);
      continue;
    }
    await fleet.remove(node.name);
    if (!want) removed.push(node.name);
  }
  for (const peer of byName.values()) {
    if (fleet.nodes().some((n) => n.name === peer.name)) continue;
    const node = await nodeForPeer(peer, options);
    fleet.add(node);
    node.connect().catch(() => undefined);
    added.push(peer.name);
  }
  return { added, removed };
}

/**
 * Follows the peers file (and the tokens file) while a face runs: a change (by `outpost peers`
 * in another terminal, or the tray's settings) is applied to the fleet
 * within about a second. Checks its modification time once a second (a
 * stat; fs.watch misses renames over the file on some file systems).
 */
export function followPeersFile(fleet: Fleet, env: NodeJS.ProcessEnv, options: FleetOptions & { onChange?: (r: { added: string[]; removed: string[] }) => void; intervalMs?: number } = {}): () => void {
  const files = [peersFile(env), tokensFile(env)];
  const look = () => files.map(stamp).join('|');
  let last = look();
  let busy = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    const now = look();
    if (now === last) return;
    last = now;
    busy = true;
    syncFleet(fleet, env, options)
      .then((r) => {
        if (!stopped && (r.added.length > 0 || r.removed.length > 0)) options.onChange?.(r);
      })
      .catch((err: unknown) => options.onError?.(`peers: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs ?? 1000);
  timer.unref?.();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function stamp(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'none';
  }
}
