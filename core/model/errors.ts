/**
 * Domain errors. Each has a stable `code` (scripts and peers key on it), a
 * message that says what to do next, and survives JSON: a RemoteNode turns
 * the agent's `{code, message, details}` back into the same class.
 */

/**
 * The codes, each the static `code` of its class (ERROR_CLASSES below is the
 * one table: class → code → exit status → HTTP status).
 */
export type ErrorCode = (typeof ERROR_CLASSES)[number]['code'];

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class OutpostError extends Error {
  /** The class's code; each class below sets its own (the base is only ever built through one of them). */
  static readonly code: ErrorCode = 'INTERNAL';
  /** The CLI's exit status for it (what scripts key on). */
  static readonly exit: number = 1;
  /** The HTTP status the agent API answers it with. */
  static readonly http: number = 500;

  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    const cls = new.target as unknown as { code: ErrorCode; name: string };
    this.name = cls.name;
    this.code = cls.code;
    this.details = details;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** The engine's socket or address does not answer. */
export class EngineUnreachableError extends OutpostError {
  static override readonly code = 'ENGINE_UNREACHABLE';
  static override readonly exit = 4;
  static override readonly http = 502;
  constructor(endpoint: string, cause: string) {
    super(
      `Cannot reach the Docker engine at ${endpoint} (${cause}). ` +
        'Is it running? Start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at a running engine.',
      { endpoint, cause },
    );
  }
}

/** Something answers at the endpoint, but not as a Docker engine (another server, a wrong socket). */
export class NotAnEngineError extends OutpostError {
  static override readonly code = 'NOT_AN_ENGINE';
  static override readonly exit = 4;
  static override readonly http = 502;
  constructor(endpoint: string, cause: string) {
    super(`What answers at ${endpoint} is not a Docker engine: ${cause}. Check that DOCKER_HOST (or -H) names the engine's socket or address.`, { endpoint, cause });
  }
}

/** The engine took the connection but did not answer within the deadline (hung or overloaded). */
export class EngineTimeoutError extends OutpostError {
  static override readonly code = 'ENGINE_TIMEOUT';
  static override readonly exit = 4;
  static override readonly http = 504;
  constructor(endpoint: string, request: string, timeoutMs: number) {
    super(
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
  static override readonly code = 'ENGINE_PERMISSION';
  static override readonly exit = 4;
  static override readonly http = 502;
  constructor(endpoint: string) {
    super(
      `Permission denied on ${endpoint}. Add your user to the docker group ` +
        '(`sudo usermod -aG docker $USER`, then log in again) or run Outpost as root.',
      { endpoint },
    );
  }
}

/** The TLS handshake with a tcp:// engine failed: certificates, not the network. */
export class EngineTlsError extends OutpostError {
  static override readonly code = 'ENGINE_TLS';
  static override readonly exit = 4;
  static override readonly http = 502;
  constructor(endpoint: string, cause: string, side: 'client' | 'server') {
    super(
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
  static override readonly code = 'API_VERSION';
  static override readonly exit = 4;
  static override readonly http = 502;
  /** `endpoint`: where the engine is (unix:///var/run/docker.sock), named in the message when known. */
  constructor(serverApi: string, detail: string, endpoint?: string) {
    const engine = endpoint ? `The Docker engine at ${endpoint}` : 'The Docker engine';
    super(
      /^\d+\.\d+$/.test(serverApi)
        ? `${engine} speaks API ${serverApi}, which Outpost cannot use: ${detail}. Upgrade the engine to Docker 1.13 (API 1.25) or newer.`
        : `${engine} did not say which API it speaks (${detail}): is it a Docker engine, and is it Docker 1.13 (API 1.25) or newer?`,
      { serverApi, ...(endpoint ? { endpoint } : {}) },
    );
  }
}

export class NoSuchContainerError extends OutpostError {
  static override readonly code = 'NO_SUCH_CONTAINER';
  static override readonly exit = 3;
  static override readonly http = 404;
  constructor(ref: string, node?: string) {
    super(
      `No container named or with an ID starting with \`${ref}\`${node ? ` on node ${node}` : ''}. ` +
        'Run `outpost ps --all` to see the containers.',
      { ref, node },
    );
  }
}

export class AmbiguousContainerError extends OutpostError {
  static override readonly code = 'AMBIGUOUS_CONTAINER';
  static override readonly exit = 3;
  static override readonly http = 409;
  constructor(ref: string, candidates: { id: string; name: string }[]) {
    const list = candidates
      .slice(0, 10)
      .map((c) => `${c.name} (${c.id.slice(0, 12)})`)
      .join(', ');
    super(
      `\`${ref}\` matches ${candidates.length} containers: ${list}${candidates.length > 10 ? ', …' : ''}. ` +
        'Give more characters of the ID or the full name.',
      { ref, candidates },
    );
  }
}

export class NameConflictError extends OutpostError {
  static override readonly code = 'NAME_CONFLICT';
  static override readonly exit = 1;
  static override readonly http = 409;
  constructor(name: string, engineMessage: string) {
    super(`The name \`${name}\` is already in use (${engineMessage}). Remove the other container or choose another name.`, { name });
  }
}

/** An action refused by policy (read-only mode, a file Outpost may not write). */
export class NotAllowedError extends OutpostError {
  static override readonly code = 'NOT_ALLOWED';
  static override readonly exit = 5;
  static override readonly http = 403;
}

/**
 * A start (or restart) of a container that placement failover fenced on this node: the node was
 * cut off from a majority, so failover stopped this singleton and a replacement may run on
 * another node. Starting it could run the workload twice; an explicit override lets it through.
 */
export class FencedError extends OutpostError {
  static override readonly code = 'FENCED';
  static override readonly exit = 5;
  static override readonly http = 409;
  constructor(fence: { workload: string; containerId: string; node: string; reason?: string; atMs?: number }) {
    super(
      `${fence.workload} (container ${fence.containerId.slice(0, 12)}) is fenced on ${fence.node}: placement failover stopped it because ` +
        `${fence.node} was cut off from a majority of the fleet, and a replacement may run on another node. Starting it now may run it twice. ` +
        'Check `outpost workloads` first; to start it anyway, override the fence (`--override-fence` on the command line, ' +
        '`"overrideFence": true` in the API, y when the terminal UI or the tray asks).',
      { workload: fence.workload, containerId: fence.containerId, node: fence.node, ...(fence.reason ? { reason: fence.reason } : {}), ...(fence.atMs !== undefined ? { fencedAtMs: fence.atMs } : {}) },
    );
  }
}

/** Malformed input from a person, a window or a peer (`details.field` names the field when there is one). */
export class BadInputError extends OutpostError {
  static override readonly code = 'BAD_INPUT';
  static override readonly exit = 2;
  static override readonly http = 400;
}

/** An ssh:// engine whose host key is not the one known_hosts lists (unknown, changed or revoked). */
export class EngineHostKeyError extends OutpostError {
  static override readonly code = 'ENGINE_HOST_KEY';
  static override readonly exit = 4;
  static override readonly http = 502;
  constructor(endpoint: string, reason: string) {
    super(`Refused the engine at ${endpoint}: ${reason}`, { endpoint });
  }
}

/** Anything else the engine refused, with its own words and status. */
export class EngineError extends OutpostError {
  static override readonly code = 'ENGINE_ERROR';
  static override readonly exit = 1;
  static override readonly http = 502;
  constructor(message: string, statusCode?: number) {
    super(message, { statusCode });
  }
}

/** An agent refused one more stream: the token or the address holds as many as it may (HTTP 429). */
export class TooManyStreamsError extends OutpostError {
  static override readonly code = 'TOO_MANY_STREAMS';
  static override readonly exit = 5;
  static override readonly http = 429;
}

/** A peer's agent refused the token (missing, wrong or revoked): HTTP 401. */
export class UnauthorisedError extends OutpostError {
  static override readonly code = 'UNAUTHORISED';
  static override readonly exit = 5;
  static override readonly http = 401;
  constructor(peer: string, reason = 'the token is missing, wrong or revoked') {
    super(`The agent at ${peer} refused the token (${reason}). Add the peer again with a valid token: \`outpost peers add URL --token T\`.`, { peer, reason });
  }
}

/** The token is valid but its role does not allow the call (a viewer asking to restart): HTTP 403. */
export class ForbiddenError extends OutpostError {
  static override readonly code = 'FORBIDDEN';
  static override readonly exit = 5;
  static override readonly http = 403;
  constructor(peer: string, action: string, role?: string) {
    super(`The agent at ${peer} does not allow ${action}${role ? ` for a ${role} token` : ''}. Ask its admin for a token with a role that does.`, { peer, action, role });
  }
}

/** A peer's agent does not answer (refused, no route, DNS, TLS, a changed certificate). */
export class PeerUnreachableError extends OutpostError {
  static override readonly code = 'PEER_UNREACHABLE';
  static override readonly exit = 4;
  static override readonly http = 502;
  constructor(peer: string, cause: string) {
    // A refusal (another certificate than the pinned one) is not a down agent: say what it is first, not "is it running?".
    super(
      cause.startsWith('REFUSED')
        ? `Refused the agent at ${peer}: ${cause.replace(/^REFUSED: /, '')}.`
        : `Cannot reach the Outpost agent at ${peer} (${cause}). Is it running and is its port open? Outpost keeps retrying.`,
      { peer, cause },
    );
  }
}

/** A peer's agent took the request but did not answer within the deadline. */
export class PeerTimeoutError extends OutpostError {
  static override readonly code = 'PEER_TIMEOUT';
  static override readonly exit = 4;
  static override readonly http = 504;
  constructor(peer: string, request: string, timeoutMs: number) {
    super(`The Outpost agent at ${peer} did not answer ${request} within ${formatSeconds(timeoutMs)}; the peer or the network may be overloaded.`, { peer, request, timeoutMs });
  }
}

/** An answer that does not follow the protocol (not JSON, not an envelope, an unknown error code, a newer version). */
export class ProtocolError extends OutpostError {
  static override readonly code = 'PROTOCOL_ERROR';
  static override readonly exit = 1;
  static override readonly http = 502;
}

/** A bug: something threw that is not one of the errors above (its message kept, for a bug report). */
export class InternalError extends OutpostError {
  static override readonly code = 'INTERNAL';
  static override readonly exit = 1;
  static override readonly http = 500;
}

/** The one table of the domain errors: each class with its code, exit status and HTTP status. */
export const ERROR_CLASSES = [
  EngineUnreachableError,
  NotAnEngineError,
  EngineHostKeyError,
  EngineTimeoutError,
  EnginePermissionError,
  EngineTlsError,
  ApiVersionError,
  NoSuchContainerError,
  AmbiguousContainerError,
  NameConflictError,
  FencedError,
  NotAllowedError,
  BadInputError,
  EngineError,
  UnauthorisedError,
  TooManyStreamsError,
  ForbiddenError,
  PeerUnreachableError,
  PeerTimeoutError,
  ProtocolError,
  InternalError,
] as const;

type ErrorClass = (typeof ERROR_CLASSES)[number];

const BY_CODE: ReadonlyMap<string, ErrorClass> = new Map(ERROR_CLASSES.map((c) => [c.code, c]));

/** Every code, from the table. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && BY_CODE.has(code);
}

/**
 * Builds an instance of a named class from its code, message and details
 * without its constructor's arguments (what arrives over a wire has only
 * those). `instanceof`, `name`, `code` and `details` are as on the sender's side.
 */
export function rebuildError(code: ErrorCode, message: string, details: Record<string, unknown> = {}): OutpostError {
  const cls = BY_CODE.get(code) ?? InternalError;
  return Reflect.construct(OutpostError, [message, details], cls) as OutpostError;
}

/** Exit codes the CLI promises to scripts. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof OutpostError)) return 1;
  return BY_CODE.get(err.code)?.exit ?? 1;
}

/** The HTTP status the agent API answers an error with. */
export function httpStatusFor(err: unknown): number {
  if (!(err instanceof OutpostError)) return 500;
  return BY_CODE.get(err.code)?.http ?? 500;
}
