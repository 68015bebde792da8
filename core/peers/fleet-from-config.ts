/**
 * One fleet for every face: this machine's node (built by the face, with
 * its rules port) plus every peer of the peers file. Engine-only peers are a
 * LocalNode on their endpoint (not this machine, no rules); agent peers are
 * built by the factory (RemoteNode, through its agent's HTTPS API).
 */
import type { Endpoint } from '../docker/endpoint.js';
import { Fleet } from '../fleet.js';
import { BadInputError } from '../model/errors.js';
import type { Node } from '../node.js';
import { readPeersWithTokens, type PeerWithToken } from './config.js';
import { UnreachableNode } from './unreachable-node.js';

/** Builds the Node of an agent peer. */
export type PeerFactory = (peer: PeerWithToken) => Node | Promise<Node>;

export interface FleetOptions {
  /** Builds agent peers (default: RemoteNode when this build has it). */
  factory?: PeerFactory;
  onError?: (message: string) => void;
  /** Engine request deadline for engine peers (ms). */
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
export const defaultFactory: PeerFactory = async (peer) => {
  if (!peer.token) return new UnreachableNode(peer.name, 'agent', `no token for ${peer.name} in peer-tokens.json: add the peer again with --token`);
  if (!peer.fingerprint) return new UnreachableNode(peer.name, 'agent', `no pinned fingerprint for ${peer.name}`);
  const { RemoteNode } = await import('../remote/remote-node.js');
  return new RemoteNode({ name: peer.name, url: peer.url, fingerprint: colonFingerprint(peer.fingerprint), token: peer.token });
};

/** The Node of one peer. */
export async function nodeForPeer(peer: PeerWithToken, options: FleetOptions = {}): Promise<Node> {
  if (peer.kind === 'agent') {
    try {
      return await (options.factory ?? defaultFactory)(peer);
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

/** One node by name: `local` (or the local node's own name) is `local`; otherwise a peer. Unknown names throw, naming the known ones. */
export async function nodeByName(env: NodeJS.ProcessEnv, name: string, local: () => Node | Promise<Node>, options: FleetOptions = {}): Promise<Node> {
  if (name === 'local') return local();
  const peers = readPeersWithTokens(env);
  const peer = peers.find((p) => p.name === name);
  if (!peer) throw new BadInputError(`--node: no node named \`${name}\`. Known nodes: ${['local', ...peers.map((p) => p.name)].join(', ')}.`);
  return nodeForPeer(peer, options);
}
