import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { BadInputError } from '../model/errors.js';
import { readRegularFile } from '../model/read-file.js';

/** Where and how to reach a Docker engine. */
export type Endpoint =
  | { kind: 'unix'; socketPath: string; source: EndpointSource }
  | { kind: 'tcp'; host: string; port: number; tls: TlsFiles | null; source: EndpointSource }
  | { kind: 'ssh'; host: string; port: number; username?: string; source: EndpointSource };

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  verify: boolean;
}

export type EndpointSource = 'DOCKER_HOST' | '--host' | 'context' | 'default';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** Human form of an endpoint, e.g. `unix:///var/run/docker.sock`. */
export function describeEndpoint(e: Endpoint): string {
  switch (e.kind) {
    case 'unix':
      return `unix://${e.socketPath}`;
    case 'tcp':
      return `${e.tls ? 'https' : 'tcp'}://${e.host}:${e.port}`;
    case 'ssh':
      return `ssh://${e.username ? `${e.username}@` : ''}${e.host}:${e.port}`;
  }
}

/**
 * Parses a DOCKER_HOST-style URL. `certPath` and `verify` come from
 * DOCKER_CERT_PATH / DOCKER_TLS_VERIFY (or a context's TLS folder).
 */
export function parseHostUrl(
  url: string,
  source: EndpointSource,
  tls: { certPath?: string; verify?: boolean; enabled?: boolean } = {},
): Endpoint {
  const trimmed = url.trim();
  // The messages name where the URL came from: the -H option, DOCKER_HOST or the docker context.
  const name = source === '--host' ? '--host' : source === 'context' ? 'the docker context\'s host' : 'DOCKER_HOST';
  if (trimmed.startsWith('unix://')) {
    const socketPath = trimmed.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      throw new BadInputError(`${name} \`${url}\` needs an absolute socket path, e.g. unix:///var/run/docker.sock.`);
    }
    return { kind: 'unix', socketPath, source };
  }
  if (trimmed.startsWith('npipe://')) {
    throw new BadInputError(`${name} \`${url}\`: Windows named pipes are not supported; use tcp:// or ssh://.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new BadInputError(
      `${name} \`${url}\` is not a URL. Use unix:///path/docker.sock, tcp://host:2376 or ssh://user@host.`,
    );
  }
  if (parsed.protocol === 'ssh:') {
    if (!parsed.hostname) throw new BadInputError(`${name} \`${url}\` has no host name. Use ssh://user@host or ssh://host.`);
    if (parsed.pathname && parsed.pathname !== '/') throw new BadInputError(`${name} \`${url}\`: an ssh:// URL takes no path.`);
    let username: string;
    try {
      // As ssh does: the login name when the URL gives none.
      username = parsed.username ? decodeURIComponent(parsed.username) : (process.env.USER || userInfo().username);
    } catch {
      throw new BadInputError(`${name} \`${url}\` has no user name and none could be found for this login; use ssh://user@host.`);
    }
    return { kind: 'ssh', host: parsed.hostname, port: parsed.port ? Number(parsed.port) : 22, username, source };
  }
  if (parsed.protocol === 'tcp:' || parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    const useTls = parsed.protocol === 'https:' || tls.enabled === true || tls.verify === true || Boolean(tls.certPath);
    const port = parsed.port ? Number(parsed.port) : useTls ? 2376 : 2375;
    let files: TlsFiles | null = null;
    if (useTls) {
      const dir = tls.certPath ?? join(homedir(), '.docker');
      const read = (f: string) => (existsSync(join(dir, f)) ? join(dir, f) : undefined);
      files = { verify: tls.verify !== false };
      const ca = read('ca.pem');
      const cert = read('cert.pem');
      const key = read('key.pem');
      if (ca) files.ca = ca;
      if (cert) files.cert = cert;
      if (key) files.key = key;
    }
    if (!parsed.hostname) throw new BadInputError(`${name} \`${url}\` has no host name.`);
    return { kind: 'tcp', host: parsed.hostname, port, tls: files, source };
  }
  throw new BadInputError(
    `${name} \`${url}\` uses an unknown scheme \`${parsed.protocol}\`. Use unix://, tcp:// or ssh://.`,
  );
}

export interface EndpointEnv {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
  DOCKER_CONTEXT?: string;
  DOCKER_CONFIG?: string;
  HOME?: string;
}

/**
 * Chooses the engine the way the docker CLI does: DOCKER_HOST, then
 * DOCKER_CONTEXT, then the current context in ~/.docker/config.json, then
 * the default socket.
 */
export function resolveEndpoint(env: EndpointEnv = process.env): Endpoint {
  if (env.DOCKER_HOST) {
    const verify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0';
    return parseHostUrl(env.DOCKER_HOST, 'DOCKER_HOST', {
      verify,
      enabled: verify,
      ...(env.DOCKER_CERT_PATH ? { certPath: env.DOCKER_CERT_PATH } : {}),
    });
  }
  const configDir = env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  const contextName = env.DOCKER_CONTEXT ?? readCurrentContext(configDir);
  if (contextName && contextName !== 'default') {
    return contextEndpoint(configDir, contextName);
  }
  return { kind: 'unix', socketPath: DEFAULT_SOCKET, source: 'default' };
}

/** Docker's own config files are small; a FIFO, a device or a huge file there must not hold every command. */
const MAX_DOCKER_CONFIG_BYTES = 1024 * 1024;

function readDockerFile(file: string): string {
  const r = readRegularFile(file, MAX_DOCKER_CONFIG_BYTES);
  if (!r.ok) throw new BadInputError(`${file} ${r.message}; fix it or set DOCKER_HOST.`, { field: file });
  return r.text;
}

function readCurrentContext(configDir: string): string | undefined {
  const file = join(configDir, 'config.json');
  if (!existsSync(file)) return undefined;
  const text = readDockerFile(file);
  try {
    const parsed = JSON.parse(text) as { currentContext?: unknown };
    return typeof parsed.currentContext === 'string' ? parsed.currentContext : undefined;
  } catch {
    throw new BadInputError(`${file} is not valid JSON; fix it or set DOCKER_HOST.`);
  }
}

/** Docker stores a context under the SHA-256 of its name. */
function contextEndpoint(configDir: string, name: string): Endpoint {
  // node:crypto is loaded only here: it costs ~10 ms at start, and only contexts need it.
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const digest = createHash('sha256').update(name).digest('hex');
  const metaFile = join(configDir, 'contexts', 'meta', digest, 'meta.json');
  if (!existsSync(metaFile)) {
    throw new BadInputError(
      `Docker context \`${name}\` not found (no ${metaFile}). Run \`docker context ls\`, or unset DOCKER_CONTEXT.`,
    );
  }
  let host: unknown;
  let skipVerify = false;
  const text = readDockerFile(metaFile);
  try {
    const meta = JSON.parse(text) as {
      Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
    };
    host = meta.Endpoints?.docker?.Host;
    skipVerify = meta.Endpoints?.docker?.SkipTLSVerify === true;
  } catch {
    throw new BadInputError(`${metaFile} is not valid JSON; recreate the context \`${name}\`.`);
  }
  if (typeof host !== 'string') {
    throw new BadInputError(`Docker context \`${name}\` has no docker endpoint in ${metaFile}.`);
  }
  const tlsDir = join(configDir, 'contexts', 'tls', digest, 'docker');
  const hasTls = existsSync(tlsDir);
  return parseHostUrl(host, 'context', {
    ...(hasTls ? { certPath: tlsDir, enabled: true } : {}),
    verify: hasTls && !skipVerify,
  });
}
