import { hostKeyCheck } from './known-hosts.js';
import { SshTunnelAgent } from './ssh-tunnel.js';
import { readFileSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { ApiVersionError } from '../model/errors.js';
import { applyDeadlines, DEFAULT_ENGINE_TIMEOUT_MS } from './deadline.js';
import { describeEndpoint, type Endpoint } from './endpoint.js';
import { translateEngineError } from './translate-error.js';

/** Oldest engine API Outpost speaks (Docker 1.13). */
export const MIN_API = '1.25';
/** Newest API Outpost knows; newer engines are spoken to at this version. */
export const MAX_API = '1.48';

export function compareApi(a: string, b: string): number {
  const [amaj = 0, amin = 0] = a.split('.').map(Number);
  const [bmaj = 0, bmin = 0] = b.split('.').map(Number);
  return amaj - bmaj || amin - bmin;
}

/**
 * Picks the API version to speak: the engine's own, capped at what Outpost
 * knows, and never below the engine's minimum (Docker 29 refuses < 1.44).
 */
export function negotiateApi(serverApi: string, serverMin: string | undefined, endpoint?: string): string {
  if (!/^\d+\.\d+$/.test(serverApi)) throw new ApiVersionError(serverApi, 'its answer to /version had no usable API version', endpoint);
  if (compareApi(serverApi, MIN_API) < 0) {
    throw new ApiVersionError(serverApi, `Outpost needs at least API ${MIN_API}`, endpoint);
  }
  const chosen = compareApi(serverApi, MAX_API) > 0 ? MAX_API : serverApi;
  if (serverMin && /^\d+\.\d+$/.test(serverMin) && compareApi(chosen, serverMin) < 0) {
    // The engine is newer than anything Outpost knows and refuses older APIs: speak its minimum.
    return serverMin;
  }
  return chosen;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  minApiVersion?: string;
  os: string;
  arch: string;
}

/**
 * A connected Docker engine: dockerode (imported lazily: it is the heaviest
 * module on the startup path) plus the negotiated API version. Each request
 * opens its own connection (cheap on a unix socket): a keep-alive agent was
 * dropped because docker-modem formats its request options, agent included,
 * with util.inspect on every call (~8 ms a request). Nothing to close.
 */
export class Engine {
  readonly label: string;

  private constructor(
    readonly endpoint: Endpoint,
    readonly docker: Dockerode,
    readonly version: EngineVersion,
    readonly apiVersion: string,
  ) {
    this.label = describeEndpoint(endpoint);
  }

  /** Ends what the engine keeps open between requests (an ssh:// engine's SSH connection). */
  close(): void {
    closeModem(this.docker);
  }

  /**
   * `timeoutMs`: the deadline of every request (see deadline.ts); default 10 s.
   * `closed`: aborting it ends every request still waiting (the owner is closing).
   */
  static async connect(endpoint: Endpoint, options: { timeoutMs?: number; closed?: AbortSignal } = {}): Promise<Engine> {
    const { default: DockerCtor } = await import('dockerode');
    const docker = new DockerCtor(modemOptions(endpoint) as Dockerode.DockerOptions);
    const label = describeEndpoint(endpoint);
    applyDeadlines(docker.modem as unknown as Parameters<typeof applyDeadlines>[0], label, options.timeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS, options.closed);
    let raw: { Version?: string; ApiVersion?: string; MinAPIVersion?: string; Os?: string; Arch?: string };
    try {
      // /version is answered at any API version, so it is safe to ask before negotiating.
      raw = (await docker.version()) as typeof raw;
    } catch (err) {
      closeModem(docker);
      throw translateEngineError(err, label);
    }
    let api: string;
    try {
      api = negotiateApi(raw.ApiVersion ?? '', raw.MinAPIVersion, label);
    } catch (err) {
      closeModem(docker);
      throw err;
    }
    (docker as unknown as { modem: { version: string } }).modem.version = `v${api}`;
    return new Engine(
      endpoint,
      docker,
      {
        version: raw.Version ?? '?',
        apiVersion: raw.ApiVersion ?? '?',
        ...(raw.MinAPIVersion ? { minApiVersion: raw.MinAPIVersion } : {}),
        os: raw.Os ?? '?',
        arch: raw.Arch ?? '?',
      },
      api,
    );
  }
}

function closeModem(docker: Dockerode): void {
  const agent = (docker.modem as unknown as { agent?: unknown }).agent;
  if (agent instanceof SshTunnelAgent) agent.destroy();
}

function modemOptions(e: Endpoint): Record<string, unknown> {
  switch (e.kind) {
    case 'unix':
      return { socketPath: e.socketPath };
    case 'tcp': {
      if (!e.tls) return { host: e.host, port: e.port, protocol: 'http' };
      const read = (f?: string) => (f ? readFileSync(f) : undefined);
      return {
        host: e.host,
        port: e.port,
        protocol: 'https',
        ca: read(e.tls.ca),
        cert: read(e.tls.cert),
        key: read(e.tls.key),
        checkServerIdentity: e.tls.verify ? undefined : () => undefined,
        rejectUnauthorized: e.tls.verify,
      };
    }
    case 'ssh':
      // One SSH connection for every request (docker-modem's ssh support makes one per request):
      // plain HTTP through an agent whose connections are dial-stdio channels on it.
      return {
        host: e.host,
        port: e.port,
        protocol: 'http',
        agent: new SshTunnelAgent({
          host: e.host,
          port: e.port,
          ...(e.username ? { username: e.username } : {}),
          ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
          readyTimeout: 10_000,
          keepaliveInterval: 15_000,
          // ssh2 takes any host key without a verifier: the key must be the one known_hosts lists.
          hostVerifier: hostKeyCheck(e.host, e.port),
        }),
      };
  }
}
