/**
 * Domain errors. Each has a stable `code` (scripts and peers key on it), a
 * message that says what to do next, and survives JSON: a RemoteNode turns
 * the agent's `{code, message, details}` back into the same class.
 */

export type ErrorCode =
  | 'ENGINE_UNREACHABLE'
  | 'ENGINE_TIMEOUT'
  | 'ENGINE_PERMISSION'
  | 'ENGINE_TLS'
  | 'API_VERSION'
  | 'NO_SUCH_CONTAINER'
  | 'AMBIGUOUS_CONTAINER'
  | 'NAME_CONFLICT'
  | 'NOT_ALLOWED'
  | 'BAD_INPUT'
  | 'ENGINE_ERROR';

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class OutpostError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** The engine's socket or address does not answer. */
export class EngineUnreachableError extends OutpostError {
  constructor(endpoint: string, cause: string) {
    super(
      'ENGINE_UNREACHABLE',
      `Cannot reach the Docker engine at ${endpoint} (${cause}). ` +
        'Is it running? Start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at a running engine.',
      { endpoint, cause },
    );
  }
}

/** The engine took the connection but did not answer within the deadline (hung or overloaded). */
export class EngineTimeoutError extends OutpostError {
  constructor(endpoint: string, request: string, timeoutMs: number) {
    super(
      'ENGINE_TIMEOUT',
      `The Docker engine at ${endpoint} did not answer ${request} within ${formatSeconds(timeoutMs)}. ` +
        'It may be hung or overloaded: check it (e.g. `sudo systemctl status docker`), or allow longer with OUTPOST_ENGINE_TIMEOUT=SECONDS.',
      { endpoint, request, timeoutMs },
    );
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The socket exists but this user may not open it. */
export class EnginePermissionError extends OutpostError {
  constructor(endpoint: string) {
    super(
      'ENGINE_PERMISSION',
      `Permission denied on ${endpoint}. Add your user to the docker group ` +
        '(`sudo usermod -aG docker $USER`, then log in again) or run Outpost as root.',
      { endpoint },
    );
  }
}

/** The TLS handshake with a tcp:// engine failed: certificates, not the network. */
export class EngineTlsError extends OutpostError {
  constructor(endpoint: string, cause: string, side: 'client' | 'server') {
    super(
      'ENGINE_TLS',
      side === 'client'
        ? `The engine at ${endpoint} refused Outpost's client certificate (${cause}). ` +
            'Put cert.pem and key.pem signed by the engine\'s CA in DOCKER_CERT_PATH (default ~/.docker).'
        : `Cannot verify the certificate of the engine at ${endpoint} (${cause}). ` +
            'Put the CA that signed it as ca.pem in DOCKER_CERT_PATH, or check DOCKER_HOST names the right host.',
      { endpoint, cause, side },
    );
  }
}

export class ApiVersionError extends OutpostError {
  constructor(serverApi: string, detail: string) {
    super(
      'API_VERSION',
      `The Docker engine speaks API ${serverApi}, which Outpost cannot use: ${detail}. ` +
        'Upgrade the engine to Docker 1.13 (API 1.25) or newer.',
      { serverApi },
    );
  }
}

export class NoSuchContainerError extends OutpostError {
  constructor(ref: string, node?: string) {
    super(
      'NO_SUCH_CONTAINER',
      `No container named or with an ID starting with \`${ref}\`${node ? ` on node ${node}` : ''}. ` +
        'Run `outpost ps --all` to see the containers.',
      { ref, node },
    );
  }
}

export class AmbiguousContainerError extends OutpostError {
  constructor(ref: string, candidates: { id: string; name: string }[]) {
    const list = candidates
      .slice(0, 10)
      .map((c) => `${c.name} (${c.id.slice(0, 12)})`)
      .join(', ');
    super(
      'AMBIGUOUS_CONTAINER',
      `\`${ref}\` matches ${candidates.length} containers: ${list}${candidates.length > 10 ? ', …' : ''}. ` +
        'Give more characters of the ID or the full name.',
      { ref, candidates },
    );
  }
}

export class NameConflictError extends OutpostError {
  constructor(name: string, engineMessage: string) {
    super(
      'NAME_CONFLICT',
      `The name \`${name}\` is already in use (${engineMessage}). Remove the other container or choose another name.`,
      { name },
    );
  }
}

/** An action refused by policy (read-only mode, a viewer token). */
export class NotAllowedError extends OutpostError {
  constructor(message: string) {
    super('NOT_ALLOWED', message);
  }
}

/** Malformed input from a person or a peer. */
export class BadInputError extends OutpostError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BAD_INPUT', message, details);
  }
}

/** Anything else the engine refused, with its own words and status. */
export class EngineError extends OutpostError {
  constructor(message: string, statusCode?: number) {
    super('ENGINE_ERROR', message, { statusCode });
  }
}

/** Rebuilds a domain error from its JSON form (what an agent sends). */
export function errorFromJSON(value: unknown): OutpostError {
  if (typeof value !== 'object' || value === null) {
    return new EngineError(`Malformed error from peer: ${JSON.stringify(value)}`);
  }
  const v = value as Partial<SerializedError>;
  const code = typeof v.code === 'string' ? v.code : 'ENGINE_ERROR';
  const message = typeof v.message === 'string' ? v.message : 'Unknown error';
  const details = typeof v.details === 'object' && v.details !== null ? v.details : {};
  const known: ErrorCode[] = [
    'ENGINE_UNREACHABLE',
    'ENGINE_TIMEOUT',
    'ENGINE_PERMISSION',
    'ENGINE_TLS',
    'API_VERSION',
    'NO_SUCH_CONTAINER',
    'AMBIGUOUS_CONTAINER',
    'NAME_CONFLICT',
    'NOT_ALLOWED',
    'BAD_INPUT',
    'ENGINE_ERROR',
  ];
  const err = new OutpostError(known.includes(code as ErrorCode) ? (code as ErrorCode) : 'ENGINE_ERROR', message, details);
  // Same class as on the agent's side, so `instanceof` works across the wire.
  const cls = errorClasses[err.code];
  Object.setPrototypeOf(err, cls.prototype);
  err.name = cls.name;
  return err;
}

const errorClasses: Record<ErrorCode, { prototype: OutpostError; name: string }> = {
  ENGINE_UNREACHABLE: EngineUnreachableError,
  ENGINE_TIMEOUT: EngineTimeoutError,
  ENGINE_PERMISSION: EnginePermissionError,
  ENGINE_TLS: EngineTlsError,
  API_VERSION: ApiVersionError,
  NO_SUCH_CONTAINER: NoSuchContainerError,
  AMBIGUOUS_CONTAINER: AmbiguousContainerError,
  NAME_CONFLICT: NameConflictError,
  NOT_ALLOWED: NotAllowedError,
  BAD_INPUT: BadInputError,
  ENGINE_ERROR: EngineError,
};

/** Exit codes the CLI promises to scripts. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof OutpostError)) return 1;
  switch (err.code) {
    case 'BAD_INPUT':
      return 2;
    case 'NO_SUCH_CONTAINER':
    case 'AMBIGUOUS_CONTAINER':
      return 3;
    case 'ENGINE_UNREACHABLE':
    case 'ENGINE_TIMEOUT':
    case 'ENGINE_PERMISSION':
    case 'ENGINE_TLS':
    case 'API_VERSION':
      return 4;
    case 'NOT_ALLOWED':
      return 5;
    case 'NAME_CONFLICT':
    case 'ENGINE_ERROR':
      return 1;
  }
}
