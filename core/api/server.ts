/**
 * Why this file is ~630 lines: authentication, routing, validation and each
 * route's handler share one request context and one answer path (envelopes,
 * streams with backpressure, the WebSocket upgrade); the route table, the
 * tokens, TLS and the audit log are in their own files.
 *
 * The agent's API: one node (and its rules port) over HTTPS (node:https; ws
 * for exec, the one bidirectional stream). Every request is authenticated
 * first (a request without a valid token gets 401 whatever its path), then
 * routed and validated with the one route table (routes.ts), then answered
 * with the `{result} | {error}` envelope, or as NDJSON (one envelope a
 * line) for streams. See docs/api.md.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { BadInputError, ForbiddenError, httpStatusFor, InternalError, OutpostError, TooManyStreamsError, UnauthorisedError } from '../model/errors.js';
import { errorEnvelope, serializeError } from '../model/envelope.js';
import type { Disposer } from '../model/types.js';
import type { ExecSession, LogStream, Node } from '../node.js';
import type { RulesPort } from '../rules/port.js';
import { AuditLog } from './audit.js';
import { allows, describeIssues, matchRoute, MAX_BODY_BYTES, queryObject, ROUTES, type Input, type Role, type RouteDef, type RouteName } from './routes.js';
import { redeemEnrolment } from './enrol.js';
import { createToken, findToken, readTokens, revokeToken, TokenWatcher, type TokenRecord } from './tokens.js';
import type { TlsIdentity } from './tls.js';
import { hostEncoder, statsEncoder, type DeltaFrame } from '../remote/sample-delta.js';
import { fenceLabel, fenceOf, journalPlacement } from '../agent/placement-link.js';
import { changeForViewer, eventForViewer, summaryForViewer } from './redact.js';
import { buildId } from '../build-info.js';
import { isLoopbackHost } from '../shared/loopback.js';
import { createGzip } from 'node:zlib';
import { LABEL_GENERATION, LABEL_REPLICA, LABEL_SPEC, LABEL_WORKLOAD } from '../placement/copies.js';

/** The failover controller, as the link route sees it (core/placement/controller.ts). */
export interface PlacementPort {
  /** The peer whose pinned certificate this is, or null (the link is then refused). */
  identify(fingerprint: string | null): string | null;
  /** Hands over an authenticated peer's link. */
  attach(name: string, ws: WebSocket): void;
}

export interface ApiServerOptions {
  node: Node;
  /** Takes the agents' links (GET /v1/placement/link); absent or null: failover is off on this node. */
  placement?: () => PlacementPort | null;
  stateDir: string;
  host: string;
  /** 0: any free port (see `port` after start). */
  port: number;
  /** TLS identity; absent only with `insecureHttp` (loopback only). */
  identity?: TlsIdentity;
  insecureHttp?: boolean;
  log?: (line: string) => void;
  /** Deadlines for a request's headers and for its whole request, ms (default 10 s and 30 s; tests shorten them). */
  deadlines?: { headersMs: number; requestMs: number };
  /** Wrong tokens a client address may present in a window before it gets 429 (default 10 a minute). */
  authFailures?: { max: number; windowMs: number };
  /** A stream whose client reads too slowly is ended once this much waits unsent (default 8 MiB). */
  maxStreamBufferBytes?: number;
  /** An empty line on every idle stream at this interval, so clients notice a dead link (default 15 s). */
  heartbeatMs?: number;
}

/** Whether an address is loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return isLoopbackHost(host);
}

interface Ctx {
  token: TokenRecord;
  client: string;
  peer: string;
  /** SHA-256 fingerprint (AB:CD:…) of the certificate the client showed, or null. */
  shown: string | null;
  /** What the audit line's outcome adds (a start that overrode a failover fence says so). */
  auditNote?: string;
}

/** The fingerprint of the certificate a TLS client showed (null for none, or plain HTTP). */
function shownCertificate(req: IncomingMessage): string | null {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate();
  return cert && typeof cert.fingerprint256 === 'string' && cert.fingerprint256 !== '' ? cert.fingerprint256 : null;
}

/** A stream the source pushes (model, events, stats, host, journal); `lossy` sources drop items while the client is behind. */
class PushStream {
  constructor(
    readonly start: (emit: (item: unknown) => void, fail: (err: unknown) => void) => Disposer,
    readonly lossy = false,
  ) {}
}

/** A stream the server pulls (logs): the next item is read only when the last one was taken. */
class PullStream {
  /** `batch`: runs of lines as `{"results": [...]}` envelopes (asked for by the client). */
  constructor(
    readonly source: LogStream,
    readonly batch = false,
  ) {}
}

/**
 * An idle stream carries an empty line this often, and says so in `x-outpost-heartbeat-ms`: a
 * client takes three missed beats for a cut link, so a peer behind one is marked unreachable in
 * under 5 s. Each beat is one small TLS record (about 25 bytes) per open stream.
 */
const HEARTBEAT_MS = 1_500;
/**
 * TLS 1.2's suites with forward secrecy and authenticated encryption only (TLS 1.3's are all
 * AEAD): no CBC, no RSA key exchange, nothing a downgrade could pick.
 */
export const AEAD_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
/** Client addresses whose wrong tokens are counted, at most (the oldest is forgotten first). */
const MAX_TRACKED_ADDRESSES = 10_000;
/** Streams (ndjson and exec) one token, and one client address, may hold open at once. */
export const MAX_STREAMS_PER_TOKEN = 64;
export const MAX_STREAMS_PER_ADDRESS = 128;
/** A request's headers and body must have arrived within this long (Node's default is 300 s). */
const REQUEST_DEADLINE_MS = 30_000;
/** This agent's build, in every answer's `x-outpost-build` (a client names both builds when the protocol differs). */
const BUILD = buildId();
/** How long an idle kept-alive connection stays open: longer than the rule-agent check's minute. */
export const KEEP_ALIVE_MS = 75_000;
/** The longest interval a client may ask for (`x-outpost-heartbeat`). */
const MAX_ASKED_BEAT_MS = 600_000;

/** A client's `x-outpost-heartbeat` header: ms (0: none), or null when absent or malformed (the agent's own interval). */
export function requestedBeatMs(header: unknown): number | null {
  if (typeof header !== 'string' || !/^\d{1,7}$/.test(header)) return null;
  const ms = Number(header);
  return ms <= MAX_ASKED_BEAT_MS ? ms : null;
}

/** A compact sample stream's frame, when there is one (nothing is written when nothing moved). */
function emitFrame(emit: (item: unknown) => void, frame: DeltaFrame | null): void {
  if (frame) emit(frame);
}

/** Log lines gathered for one write at most (then written at once, whatever comes next). */
const BATCH_BYTES = 64 * 1024;
/** Log bytes a stream may hold unsent before it stops reading the engine. */
const PIPE_BYTES = 1024 * 1024;

interface OpenStream {
  hash: string;
  client: string;
  close: () => void;
}

type Handler<N extends RouteName> = (input: Input<N>, ctx: Ctx) => Promise<unknown> | unknown;

const STATUS_TEXT: Record<number, string> = { 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 409: 'Conflict' };

export class ApiServer {
  readonly #o: ApiServerOptions;
  readonly #server: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #tokens: TokenWatcher;
  readonly #audit: AuditLog;
  readonly #streams = new Set<OpenStream>();
  readonly #failures = new Map<string, { count: number; start: number; said?: boolean }>();
  readonly #handlers: { [N in RouteName]: Handler<N> };
  readonly #log: (line: string) => void;

  private constructor(o: ApiServerOptions) {
    this.#o = o;
    this.#log = o.log ?? (() => undefined);
    this.#audit = new AuditLog(o.stateDir, this.#log);
    this.#tokens = new TokenWatcher(o.stateDir, (tokens) => this.#tokensChanged(tokens), this.#log);
    const tls = !o.insecureHttp;
    if (!tls && !isLoopback(o.host)) throw new BadInputError(`Plain HTTP is allowed only on a loopback address, not on ${o.host}; drop --insecure-http.`, { field: 'listen' });
    if (tls && !o.identity) throw new InternalError('the API server needs a TLS identity');
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((err: unknown) => this.#fail(res, err));
    };
    // Deadlines given at construction (Node's connection checker reads them then; set later, they
    // did not hold): a request's headers within 10 s, the whole request within 30 s (a body that
    // never ends held its socket for Node's 300 s), checked every second; a socket that never says
    // anything gets 408 at the headers' deadline.
    const deadlines = { headersTimeout: o.deadlines?.headersMs ?? 10_000, requestTimeout: o.deadlines?.requestMs ?? REQUEST_DEADLINE_MS, connectionsCheckingInterval: 1000 };
    this.#server = tls
      ? createHttpsServer(
          {
            cert: o.identity?.cert,
            key: o.identity?.key,
            minVersion: 'TLSv1.2',
            ciphers: AEAD_CIPHERS,
            honorCipherOrder: true,
            // A client may show a certificate (an agent shows its own to its peers): it is never
            // required nor trusted by a CA, only compared with the fingerprints of the peers file.
            requestCert: true,
            rejectUnauthorized: false,
            ...deadlines,
          },
          handler,
        )
      : createHttpServer(deadlines, handler);
    // A kept-alive connection waits this long for its next request (Node's default is 5 s): a
    // client that asks every minute, or opens a shell or a log now and then, finds its connection
    // warm instead of paying TCP's and TLS's handshakes again (four round trips and ~2 KB with the
    // certificate: seconds on a 300 ms, 64 kbit/s link).
    this.#server.keepAliveTimeout = KEEP_ALIVE_MS;
    this.#server.maxHeadersCount = 100;
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // Not HTTP at all (or a body where none was announced): an envelope all the same, then the connection ends.
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        rawError(socket, 408, new BadInputError('The request did not arrive within its deadline (headers 10 s, the whole request 30 s); send it again.'));
        return;
      }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      rawError(socket, status, new BadInputError(`Malformed HTTP request (${String(err.code ?? err.message).slice(0, 60)}).`));
    });
    this.#server.on('tlsClientError', () => undefined);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      this.#upgrade(req, socket, head).catch((err: unknown) => rawError(socket, httpStatusFor(err), err));
    });
    this.#handlers = this.#makeHandlers();
  }

  /** Listens; resolves once the port is open. */
  static async start(o: ApiServerOptions): Promise<ApiServer> {
    const s = new ApiServer(o);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(o.port, o.host, () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    return s;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    const h = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    return `${this.#o.insecureHttp ? 'http' : 'https'}://${h}:${this.port}`;
  }

  get auditPath(): string {
    return this.#audit.path;
  }

  /** Re-reads the tokens now (a revoke through the API or a test). */
  reloadTokens(): void {
    this.#tokens.reload();
  }

  async close(): Promise<void> {
    this.#tokens.close();
    for (const s of [...this.#streams]) s.close();
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #tokensChanged(tokens: TokenRecord[]): void {
    const live = new Set(tokens.map((t) => t.hash));
    for (const s of [...this.#streams]) if (!live.has(s.hash)) s.close();
  }

  // ---- authentication ---------------------------------------------------------

  #authenticate(req: IncomingMessage): { ok: true; ctx: Ctx } | { ok: false; status: number; err: OutpostError; headers?: Record<string, string> } {
    const client = req.socket.remoteAddress ?? 'unknown';
    const peer = String(req.headers.host ?? 'this address').slice(0, 100);
    const max = this.#o.authFailures?.max ?? 10;
    const windowMs = this.#o.authFailures?.windowMs ?? 60_000;
    const now = Date.now();
    const f = this.#failures.get(client);
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,200})$/.exec(header) : null;
    // A valid token always passes, even from an address that is locked out: tokens are 256 random
    // bits, so the lockout cannot be about guessing them; it sheds what wrong ones cost, and must
    // never shut out a technician behind the same NAT as a peer with a stale token.
    const token = m ? findToken(this.#tokens.tokens, m[1] as string) : null;
    if (token) return { ok: true, ctx: { token, client, peer, shown: shownCertificate(req) } };
    if (f && now - f.start < windowMs && f.count >= max) {
      const wait = Math.ceil((f.start + windowMs - now) / 1000);
      return { ok: false, status: 429, err: new UnauthorisedError(peer, `too many wrong tokens from ${client}; wait ${wait} s`), headers: { 'retry-after': String(wait) } };
    }
    if (!f || now - f.start >= windowMs) {
      if (f) this.#failures.delete(client);
      // The oldest address goes first when the table is full (it was cleared whole: a flood of
      // addresses wiped every lockout).
      if (this.#failures.size >= MAX_TRACKED_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value as string);
      this.#failures.set(client, { count: 1, start: now });
    } else f.count++;
    if (!m) return { ok: false, status: 401, err: new UnauthorisedError(peer, 'no token: send `Authorization: Bearer TOKEN`') };
    return { ok: false, status: 401, err: new UnauthorisedError(peer, 'the token is wrong or revoked') };
  }

  // ---- requests ---------------------------------------------------------------

  /**
   * A call refused before its token was known good: answered at once without reading its body
   * (a 10 MiB body was read to the end before the 401), the connection closed after the answer,
   * and written to the audit log while the address is under its limit of wrong tokens (a flood
   * is one line: the lockout's).
   */
  #refuseUnauthenticated(req: IncomingMessage, res: ServerResponse, auth: { status: number; err: OutpostError; headers?: Record<string, string> }): void {
    const client = req.socket.remoteAddress ?? 'unknown';
    const f = this.#failures.get(client);
    const max = this.#o.authFailures?.max ?? 10;
    if (auth.status !== 429 || (f && f.count === max && !f.said)) {
      if (f && auth.status === 429) f.said = true;
      const found = this.#route(req);
      this.#audit.write({ token: null, role: null, action: 'status' in found ? `${String(req.method).slice(0, 10)} ${String(req.url ?? '').split('?')[0]?.slice(0, 200)}` : found.name, target: null, outcome: auth.status === 429 ? 'locked out: too many wrong tokens' : `refused ${auth.status}: ${auth.err.message}`, client });
    }
    res.shouldKeepAlive = false;
    this.#send(res, auth.status, errorEnvelope(auth.err), { ...auth.headers, connection: 'close' });
    res.on('finish', () => req.socket.destroySoon());
  }

  /** Why one more stream is refused for this token or address (429), or null. */
  #streamLimit(ctx: Ctx): OutpostError | null {
    let byToken = 0;
    let byAddress = 0;
    for (const s of this.#streams) {
      if (s.hash === ctx.token.hash) byToken++;
      if (s.client === ctx.client) byAddress++;
    }
    if (byToken >= MAX_STREAMS_PER_TOKEN) return new TooManyStreamsError(`token ${ctx.token.name} holds ${byToken} open streams, the most one token may; close some (each TUI and tray holds about ten)`);
    if (byAddress >= MAX_STREAMS_PER_ADDRESS) return new TooManyStreamsError(`${ctx.client} holds ${byAddress} open streams, the most one address may; close some`);
    return null;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const first = this.#route(req);
    if (!('status' in first) && first.def.open === true) return this.#openRoute(req, res, first);
    const auth = this.#authenticate(req);
    if (!auth.ok) return this.#refuseUnauthenticated(req, res, auth);
    const ctx = auth.ctx;
    const found = this.#route(req);
    if ('status' in found) {
      req.resume();
      return this.#send(res, found.status, errorEnvelope(found.err), found.headers);
    }
    const { name, def } = found;
    if (!allows(ctx.token.role, def)) {
      req.resume();
      // Every refused call is audited, reads too: a viewer probing for admin routes is worth a line.
      this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target: targetOf(found.params, undefined), outcome: 'forbidden', client: ctx.client });
      return this.#send(res, 403, errorEnvelope(new ForbiddenError(ctx.peer, `${def.method} ${def.path}`, ctx.token.role)));
    }
    if (def.stream === 'ws') {
      req.resume();
      return this.#send(res, 400, errorEnvelope(new BadInputError(`${def.path} is a WebSocket: send the request with \`Upgrade: websocket\`.`)));
    }
    const body = await readBody(req, res);
    if (body === null) return; // answered (too large, or the client went away)
    const input = validate(def, found.params, found.query, body);
    if (!input.ok) {
      this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target: targetOf(found.params, undefined), outcome: `refused 400: ${input.err.message.slice(0, 300)}`, client: ctx.client });
      return this.#send(res, 400, errorEnvelope(input.err));
    }
    if (def.stream === 'ndjson') {
      const busy = this.#streamLimit(ctx);
      if (busy) {
        this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target: targetOf(found.params, undefined), outcome: `refused 429: ${busy.message}`, client: ctx.client });
        return this.#send(res, 429, errorEnvelope(busy), { 'retry-after': '5' });
      }
    }
    let answer: unknown;
    try {
      answer = await (this.#handlers[name] as Handler<RouteName>)(input.value as Input<RouteName>, ctx);
    } catch (err) {
      if (def.mutating) this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target: targetOf(found.params, input.value.body), outcome: `error: ${serializeError(err).code}${ctx.auditNote ? ` (${ctx.auditNote})` : ''}`, client: ctx.client });
      throw err;
    }
    if (def.mutating) this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target: targetOf(found.params, input.value.body), outcome: ctx.auditNote ? `ok (${ctx.auditNote})` : 'ok', client: ctx.client });
    if (answer instanceof PushStream || answer instanceof PullStream) return this.#stream(res, answer, ctx, requestedBeatMs(req.headers['x-outpost-heartbeat']), /(^|[\s,])gzip\b/.test(String(req.headers['accept-encoding'] ?? '')));
    this.#send(res, 200, { result: answer ?? null });
  }

  /**
   * A route without a token (POST /v1/enrol: the join code's secret is the credential): a wrong
   * secret counts against the address as a wrong token does, and the lockout applies to it.
   */
  async #openRoute(req: IncomingMessage, res: ServerResponse, found: { name: RouteName; def: RouteDef; params: Record<string, string>; query: Record<string, string> }): Promise<void> {
    const client = req.socket.remoteAddress ?? 'unknown';
    const peer = String(req.headers.host ?? 'this address').slice(0, 100);
    const max = this.#o.authFailures?.max ?? 10;
    const windowMs = this.#o.authFailures?.windowMs ?? 60_000;
    const now = Date.now();
    const audit = (outcome: string, token: string | null = null, role: Role | null = null) => this.#audit.write({ token, role, action: found.name, target: null, outcome, client });
    const f = this.#failures.get(client);
    if (f && now - f.start < windowMs && f.count >= max) {
      const wait = Math.ceil((f.start + windowMs - now) / 1000);
      return this.#refuseUnauthenticated(req, res, { status: 429, err: new UnauthorisedError(peer, `too many wrong tokens or join codes from ${client}; wait ${wait} s`), headers: { 'retry-after': String(wait) } });
    }
    const body = await readBody(req, res);
    if (body === null) return;
    const input = validate(found.def, found.params, found.query, body);
    if (!input.ok) {
      audit(`refused 400: ${input.err.message.slice(0, 300)}`);
      return this.#send(res, 400, errorEnvelope(input.err));
    }
    const { secret, name } = (input.value as Input<'enrol'>).body;
    try {
      const got = redeemEnrolment(this.#o.stateDir, secret, name, peer);
      this.#tokens.reload();
      audit(`ok: made token ${got.name} (${got.role})`, got.name, got.role);
      return this.#send(res, 200, { result: got });
    } catch (err) {
      if (!(err instanceof UnauthorisedError)) throw err;
      if (!f || now - f.start >= windowMs) {
        if (f) this.#failures.delete(client);
        if (this.#failures.size >= MAX_TRACKED_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value as string);
        this.#failures.set(client, { count: 1, start: now });
      } else f.count++;
      audit(`refused 401: ${err.message}`);
      return this.#send(res, 401, errorEnvelope(err));
    }
  }

  #route(req: IncomingMessage):
    | { name: RouteName; def: RouteDef; params: Record<string, string>; query: Record<string, string> }
    | { status: number; err: OutpostError; headers?: Record<string, string> } {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (!pathname.startsWith('/')) return { status: 400, err: new BadInputError('The request path must start with `/`.') };
    if (pathname.includes('\0')) return { status: 400, err: new BadInputError('The request path holds a NUL character.') };
    const m = matchRoute(req.method ?? '', pathname);
    if (m.kind === 'bad-path') return { status: 400, err: new BadInputError(`Bad path: ${m.message}.`) };
    if (m.kind === 'no-such-path') return { status: 404, err: new BadInputError(`No such endpoint: ${String(req.method).slice(0, 10)} ${pathname.slice(0, 200)} (\`outpost docs api\` lists them).`) };
    if (m.kind === 'wrong-method') return { status: 405, err: new BadInputError(`${pathname.slice(0, 200)} does not take ${String(req.method).slice(0, 10)}; it takes ${m.allowed.join(', ')}.`), headers: { allow: m.allowed.join(', ') } };
    let search: URLSearchParams;
    try {
      search = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    } catch {
      return { status: 400, err: new BadInputError('The query does not parse.') };
    }
    const query = queryObject(search);
    if (!query.ok) return { status: 400, err: new BadInputError(query.message, { field: 'query' }) };
    return { name: m.name, def: m.def, params: m.params, query: query.value };
  }

  #send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end(`${JSON.stringify(body)}\n`);
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-outpost-build': BUILD,
      ...headers,
    });
    res.end(text);
  }

  #fail(res: ServerResponse, err: unknown): void {
    if (!(err instanceof OutpostError)) this.#log(`api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    try {
      this.#send(res, httpStatusFor(err), errorEnvelope(err));
    } catch {
      res.destroy();
    }
  }

  // ---- streams ----------------------------------------------------------------

  /**
   * `asked`: the client's `x-outpost-heartbeat` (0: no beats, it knows the link is alive from
   * another stream; more: beat that seldom), or null for the agent's own interval.
   */
  #stream(res: ServerResponse, s: PushStream | PullStream, ctx: Ctx, asked: number | null, gzipAsked = false): void {
    const own = this.#o.heartbeatMs ?? HEARTBEAT_MS;
    const beatMs = asked === null ? own : asked === 0 ? 0 : Math.max(own, asked);
    // A log's lines compress 5–10 times: a client on a thin link asks for gzip (a log's last
    // thousand lines took 8–25 s at 64 kbit/s). Each run of lines is flushed whole, so a live
    // line is not held back by the compressor.
    const gz = gzipAsked && s instanceof PullStream ? createGzip({ level: 6 }) : null;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-outpost-heartbeat-ms': String(beatMs), 'x-outpost-build': BUILD, ...(gz ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}) });
    res.flushHeaders();
    if (gz) {
      gz.pipe(res);
      gz.on('error', () => res.destroy());
    }
    /** What is written goes through the compressor when there is one. */
    const out = {
      write: (text: string): boolean => {
        if (!gz) return res.write(text);
        const ok = gz.write(text);
        gz.flush();
        return ok;
      },
      end: (text?: string) => (gz ? gz.end(text) : res.end(text)),
      waiting: () => res.writableLength + (gz?.writableLength ?? 0),
      needDrain: () => res.writableNeedDrain || gz?.writableNeedDrain === true,
      drains: gz ?? res,
    };
    const maxBuffer = this.#o.maxStreamBufferBytes ?? 8 * 1024 * 1024;
    let closed = false;
    let dispose: Disposer = () => undefined;
    const finish = (err?: unknown) => {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      this.#streams.delete(entry);
      dispose();
      if (!res.writableEnded && !res.destroyed) out.end(err === undefined ? undefined : `${JSON.stringify(errorEnvelope(err))}\n`);
    };
    const entry: OpenStream = { hash: ctx.token.hash, client: ctx.client, close: () => finish(new UnauthorisedError(ctx.peer, 'the token was revoked')) };
    this.#streams.add(entry);
    // A stream that beats costs its link a TLS record each time (~30 bytes on the wire, more with
    // TCP's acknowledgements): on a 64 kbit/s link, streams the client watches through another
    // one's beat ask for none.
    const beat = setInterval(() => {
      if (beatMs > 0 && !closed && out.waiting() === 0) out.write('\n');
    }, beatMs > 0 ? beatMs : 2 ** 31 - 1);
    beat.unref();
    res.on('close', () => finish());
    if (s instanceof PushStream) {
      const emit = (item: unknown) => {
        if (closed) return;
        if (s.lossy && res.writableNeedDrain) return; // the client is behind: skip this sample, the next one says it all
        if (res.writableLength > maxBuffer) return finish(new BadInputError(`the client read too slowly (over ${maxBuffer} bytes waiting); reconnect`));
        res.write(`${JSON.stringify({ result: item })}\n`);
      };
      try {
        dispose = s.start(emit, (err) => finish(err));
      } catch (err) {
        finish(err);
      }
      if (closed) dispose();
      return;
    }
    const source = s.source;
    dispose = () => source.close();
    // Lines the engine gave in one go leave in one write (a write per line was 40 % of the
    // agent's time): they gather until the reader has to wait for the engine (setImmediate runs
    // after the decoded lines' microtasks) or BATCH_BYTES are waiting. With `batch`, a gathered
    // run is one envelope `{"results": [...]}`, which the other side parses in one go.
    let held: unknown[] = [];
    let heldBytes = 0;
    let scheduled = false;
    let behind = false;
    const flush = () => {
      scheduled = false;
      if (held.length === 0 || closed) return;
      const text = s.batch ? `${JSON.stringify({ results: held })}\n` : held.map((l) => `${JSON.stringify({ result: l })}\n`).join('');
      held = [];
      heldBytes = 0;
      // Up to PIPE_BYTES may wait in the socket's buffer before the engine's stream is paused: a
      // deeper pipe keeps the engine writing while the client catches up (at the socket's own
      // 16 KiB mark the engine waited on every round trip). Memory per stream stays bounded.
      if (!out.write(text) && out.waiting() > PIPE_BYTES) behind = true;
    };
    const drained = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          out.drains.off('drain', done);
          res.off('close', done);
          resolve();
        };
        out.drains.on('drain', done);
        res.on('close', done);
      });
    void (async () => {
      try {
        for await (const line of source) {
          if (closed) return;
          held.push(line);
          heldBytes += line.text.length + 48;
          if (heldBytes >= BATCH_BYTES) flush();
          else if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
          if (behind) {
            // Backpressure: take the next line only once what was written has gone out (the
            // write may have been made from setImmediate and drained already: no wait then).
            behind = false;
            if (out.needDrain() && out.waiting() > PIPE_BYTES) await drained();
          }
        }
        flush();
        finish();
      } catch (err) {
        flush();
        finish(err);
      }
    })();
  }

  // ---- exec over a WebSocket ---------------------------------------------------

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const auth = this.#authenticate(req);
    if (!auth.ok) return rawError(socket, auth.status, auth.err);
    const ctx = auth.ctx;
    const found = this.#route(req);
    if ('status' in found) return rawError(socket, found.status, found.err);
    const { name, def } = found;
    if (!allows(ctx.token.role, def)) {
      if (def.mutating) this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target: targetOf(found.params, undefined), outcome: 'forbidden', client: ctx.client });
      return rawError(socket, 403, new ForbiddenError(ctx.peer, `${def.method} ${def.path}`, ctx.token.role));
    }
    if (name === 'placementLink') return this.#link(req, socket, head, ctx);
    if (name !== 'exec') return rawError(socket, 400, new BadInputError(`${def.path} is not a WebSocket endpoint.`));
    const input = validate(def, found.params, found.query, '');
    if (!input.ok) return rawError(socket, 400, input.err);
    const { params, query } = input.value as Input<'exec'>;
    // What runs, and as whom, is in the audit line: an exec is a command on the host's container.
    const target = `${params.ref} ${JSON.stringify(query.cmd)}${query.user ? ` as ${JSON.stringify(query.user)}` : ''}`.slice(0, 500);
    const audit = (outcome: string) => this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: name, target, outcome, client: ctx.client });
    // The handshake is checked before anything starts (a process was started, and leaked, for an
    // upgrade without Sec-WebSocket-Key, which the WebSocket library then refused).
    const key = req.headers['sec-websocket-key'];
    const version = req.headers['sec-websocket-version'];
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key) || version !== '13') {
      audit('refused 400: not a WebSocket handshake');
      return rawError(socket, 400, new BadInputError('Not a WebSocket handshake: send `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key` (RFC 6455).', { field: 'headers' }));
    }
    const busy = this.#streamLimit(ctx);
    if (busy) {
      audit(`refused 429: ${busy.message}`);
      return rawError(socket, 429, busy);
    }
    let session: ExecSession;
    try {
      session = await this.#o.node.exec(params.ref, { ...query });
    } catch (err) {
      audit(`error: ${serializeError(err).code}`);
      return rawError(socket, httpStatusFor(err), err);
    }
    audit('ok');
    if (socket.destroyed) return session.close();
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#execSocket(ws, session, ctx));
  }

  /**
   * A peer's failover link: only from an agent whose certificate the peers file pins (the sender
   * of every beat on it is that peer); refused otherwise, and audited either way.
   */
  #link(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: Ctx): void {
    const audit = (outcome: string, target: string | null = null) => this.#audit.write({ token: ctx.token.name, role: ctx.token.role, action: 'placementLink', target, outcome, client: ctx.client });
    const key = req.headers['sec-websocket-key'];
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key) || req.headers['sec-websocket-version'] !== '13') {
      audit('refused 400: not a WebSocket handshake');
      return rawError(socket, 400, new BadInputError('Not a WebSocket handshake: send `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key` (RFC 6455).', { field: 'headers' }));
    }
    const p = this.#o.placement?.() ?? null;
    if (!p) {
      audit('refused 400: failover is off here');
      return rawError(socket, 400, new BadInputError(`Failover is off on ${this.#o.node.name}: it has no placement.yaml with its fleet name (\`outpost docs placement\`, "Failover without split brain").`));
    }
    const name = p.identify(ctx.shown);
    if (!name) {
      const why = ctx.shown ? `the certificate it shows (${ctx.shown}) is not pinned for any agent in this node's peers file` : 'it shows no certificate (an agent shows its own; a token alone cannot speak for a node)';
      audit(`refused 403: ${why}`);
      return rawError(socket, 403, new ForbiddenError(ctx.peer, `a failover link: ${why}`, ctx.token.role));
    }
    const busy = this.#streamLimit(ctx);
    if (busy) {
      audit(`refused 429: ${busy.message}`, name);
      return rawError(socket, 429, busy);
    }
    audit('ok', name);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const entry: OpenStream = { hash: ctx.token.hash, client: ctx.client, close: () => ws.close(4001, 'the token was revoked') };
      this.#streams.add(entry);
      ws.once('close', () => this.#streams.delete(entry));
      p.attach(name, ws);
    });
  }

  /** A line of the audit log for what the failover controller is told on a link (a peer's restart of a fenced copy, a refused message). */
  auditLink(entry: { action: string; target: string | null; outcome: string; peer: string }): void {
    this.#audit.write({ token: `peer:${entry.peer}`, role: 'peer', action: entry.action, target: entry.target, outcome: entry.outcome, client: entry.peer });
  }

  #execSocket(ws: WebSocket, session: ExecSession, ctx: Ctx): void {
    let closed = false;
    let queue = Promise.resolve();
    const finish = (code = 1000, reason = '') => {
      if (closed) return;
      closed = true;
      this.#streams.delete(entry);
      off();
      session.close();
      if (ws.readyState === ws.OPEN) ws.close(code, reason.slice(0, 120));
    };
    const entry: OpenStream = { hash: ctx.token.hash, client: ctx.client, close: () => finish(4001, 'the token was revoked') };
    this.#streams.add(entry);
    // Handlers first, synchronously: nothing the client sends may arrive before them.
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      queue = queue.then(async () => {
        if (closed) return;
        if (isBinary) return session.write(buf);
        let msg: { type?: unknown; cols?: unknown; rows?: unknown; id?: unknown };
        try {
          msg = JSON.parse(buf.toString('utf8')) as typeof msg;
        } catch {
          return send({ type: 'error', error: serializeError(new BadInputError('a control message must be JSON')) });
        }
        if (msg.type === 'end') return session.end();
        if (msg.type === 'resize') {
          const ok = Number.isInteger(msg.cols) && Number.isInteger(msg.rows) && (msg.cols as number) > 0 && (msg.rows as number) > 0 && (msg.cols as number) < 10000 && (msg.rows as number) < 10000;
          try {
            if (!ok) throw new BadInputError('resize needs whole cols and rows from 1 to 9999', { field: 'cols' });
            await session.resize(msg.cols as number, msg.rows as number);
            send({ type: 'resized', id: msg.id ?? null });
          } catch (err) {
            send({ type: 'resized', id: msg.id ?? null, error: serializeError(err) });
          }
          return;
        }
        send({ type: 'error', error: serializeError(new BadInputError(`unknown control message type \`${String(msg.type).slice(0, 20)}\``)) });
      });
    });
    ws.on('close', () => finish());
    ws.on('error', () => finish());
    const send = (m: unknown) => {
      if (!closed && ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const maxBuffer = this.#o.maxStreamBufferBytes ?? 8 * 1024 * 1024;
    const off = session.onOutput((data, stream) => {
      if (closed || ws.readyState !== ws.OPEN) return;
      // ws.send does not report backpressure: its buffer does.
      if (ws.bufferedAmount > maxBuffer) return finish(1013, 'the client read too slowly');
      const frame = Buffer.allocUnsafe(data.length + 1);
      frame[0] = stream === 'stderr' ? 2 : 1;
      frame.set(data, 1);
      ws.send(frame, { binary: true });
    });
    session
      .wait()
      .then((code) => {
        send({ type: 'exit', code });
        finish();
      })
      .catch((err: unknown) => {
        send({ type: 'error', error: serializeError(err) });
        finish(1011, 'exec failed');
      });
  }

  // ---- the handlers -------------------------------------------------------------

  #rules(): RulesPort {
    const r = this.#o.node.rules;
    if (!r) throw new BadInputError(`The node ${this.#o.node.name} has no rule engine.`);
    return r;
  }

  /** A peer acts only on placed copies (failover's duplicates, a move's old copy): nothing else of this node. */
  async #placedOnly(ctx: Ctx, ref: string, what: string): Promise<void> {
    if (ctx.token.role !== 'peer') return;
    const d = await this.#o.node.inspect(ref);
    if (typeof d.labels[LABEL_WORKLOAD] !== 'string') throw new ForbiddenError(ctx.peer, `${what} of ${d.name.slice(0, 63)}, which is not a placed workload`, 'peer');
  }

  /**
   * The override of a failover fence, as the node takes it; named in the audit line's outcome
   * (`ok (overrideFence: …)`), so a start that may run a singleton twice is on record with its token.
   * A refused start is audited by the error's code (`error: FENCED`).
   */
  async #fenceOverride(ref: string, override: boolean | undefined, ctx: Ctx): Promise<{ overrideFence?: true }> {
    if (override !== true) return {};
    // Whether there was a fence to override, by the same decision the node makes (core/agent/placement-link.ts).
    const fence = fenceOf(this.#o.stateDir, await this.#o.node.resolve(ref));
    ctx.auditNote = fence ? `overrideFence: ${fenceLabel(fence)} was fenced by failover; started anyway, it may run twice` : 'overrideFence: given, but it was not fenced';
    return { overrideFence: true };
  }

  #makeHandlers(): { [N in RouteName]: Handler<N> } {
    const node = this.#o.node;
    return {
      info: () => node.info(),
      status: () => node.status(),
      statusWatch: () =>
        new PushStream((emit) => {
          emit(node.status());
          return node.onStatus(emit);
        }),
      host: () => node.host(),
      hostWatch: (i) => {
        const every = i.query.intervalMs ? { intervalMs: i.query.intervalMs } : {};
        if (i.query.compact !== true) return new PushStream((emit) => node.watchHost(emit, every), true);
        // Changes only: every frame must reach the reader, so this stream is not lossy (the buffer cap still holds).
        const enc = hostEncoder();
        return new PushStream((emit) => node.watchHost((h) => emitFrame(emit, enc.frame([h], h.at)), every));
      },
      list: async (i, ctx) => {
        const list = await node.list({ all: i.query.all === true });
        return hidesSecrets(ctx.token.role) ? list.map(summaryForViewer) : list;
      },
      run: async (i, ctx) => {
        const workload = i.body.labels?.[LABEL_WORKLOAD];
        if (ctx.token.role === 'peer' && (typeof workload !== 'string' || typeof i.body.labels?.[LABEL_SPEC] !== 'string')) {
          throw new ForbiddenError(ctx.peer, 'a container that is not a placed workload (labels outpost.workload and outpost.workload.spec)', 'peer');
        }
        const what = workload === undefined ? null : `${workload} replica ${i.body.labels?.[LABEL_REPLICA] ?? '?'} (generation ${i.body.labels?.[LABEL_GENERATION] ?? '?'})`;
        try {
          const id = await node.run(i.body);
          // The node that starts a placed copy journals it too, not only the node that decided it.
          if (what) journalPlacement(this.#o.stateDir, { reason: `started ${what} here (container ${id.slice(0, 12)}), asked by ${ctx.token.name}`, container: workload as string, containerId: id, ok: true });
          return id;
        } catch (err) {
          if (what) journalPlacement(this.#o.stateDir, { reason: `could not start ${what} here, asked by ${ctx.token.name}: ${err instanceof Error ? err.message : String(err)}`, container: workload as string, ok: false, error: err instanceof Error ? err.message : String(err) });
          throw err;
        }
      },
      images: () => node.images(),
      devices: (i) => node.devices(i.query.paths),
      inspect: async (i, ctx) => {
        const d = await node.inspect(i.params.ref);
        if (!hidesSecrets(ctx.token.role)) return d;
        // A viewer reads state, not secrets: the variables' names only, no raw document, no workload spec.
        return { ...summaryForViewer(d), env: d.env.map((e) => e.split('=')[0] ?? ''), raw: null };
      },
      resolve: (i) => node.resolve(i.params.ref),
      start: async (i, ctx) => node.start(i.params.ref, await this.#fenceOverride(i.params.ref, i.body?.overrideFence, ctx)),
      stop: async (i, ctx) => {
        await this.#placedOnly(ctx, i.params.ref, 'stop');
        return node.stop(i.params.ref, i.body ?? {});
      },
      restart: async (i, ctx) => node.restart(i.params.ref, { ...(i.body?.timeoutSeconds !== undefined ? { timeoutSeconds: i.body.timeoutSeconds } : {}), ...(await this.#fenceOverride(i.params.ref, i.body?.overrideFence, ctx)) }),
      kill: (i) => node.kill(i.params.ref, i.body?.signal),
      remove: async (i, ctx) => {
        await this.#placedOnly(ctx, i.params.ref, 'remove');
        return node.remove(i.params.ref, { force: i.query.force === true, volumes: i.query.volumes === true });
      },
      pause: (i) => node.pause(i.params.ref),
      unpause: (i) => node.unpause(i.params.ref),
      logs: async (i) => {
        const { batch, ...options } = i.query;
        return new PullStream(await node.logs(i.params.ref, options), batch === true);
      },
      exec: () => {
        throw new BadInputError('exec is a WebSocket');
      },
      model: (_i, ctx) => new PushStream((emit) => node.watch(hidesSecrets(ctx.token.role) ? (c) => emit(changeForViewer(c)) : emit)),
      events: (i, ctx) => new PushStream((emit) => node.watchEvents(hidesSecrets(ctx.token.role) ? (e) => emit(eventForViewer(e)) : emit, i.query.sinceNano ? { sinceNano: i.query.sinceNano } : {})),
      stats: () => node.statsOnce(),
      statsWatch: (i) => {
        const every = i.query.intervalMs ? { intervalMs: i.query.intervalMs } : {};
        if (i.query.compact !== true) return new PushStream((emit) => node.watchStats(emit, every), true);
        const enc = statsEncoder();
        return new PushStream((emit) => node.watchStats((rows) => emitFrame(emit, enc.frame(rows, rows[0]?.at ?? Date.now())), every));
      },
      rulesAgent: () => this.#rules().agent(),
      rulesExplain: (i) => this.#rules().explain(i.query.container),
      rulesProblems: () => this.#rules().problems(),
      rulesJournal: async (i) => {
        const page = await this.#rules().journal(i.query);
        return { entries: [...page], unreadable: page.unreadable ?? 0 };
      },
      rulesFollow: () => {
        const rules = this.#rules();
        return new PushStream((emit) => rules.followJournal(emit));
      },
      rulesPaused: (i) => this.#rules().paused(i.query),
      rulesPause: async (i) => (await this.#rules().pause({ ...(i.body.container ? { container: i.body.container } : {}) }, i.body.until ? { until: i.body.until } : {})) ?? null,
      rulesResume: async (i) => (await this.#rules().resume(i.body ?? {})) ?? null,
      rulesReset: (i) => this.#rules().reset(i.body.container, i.body.rule, i.body.waitMs === undefined ? {} : { waitMs: i.body.waitMs }),
      rulesFile: () => this.#rules().rulesFile(),
      enrol: () => {
        throw new BadInputError('enrol is answered before tokens are checked');
      },
      placementLink: () => {
        throw new BadInputError('the link is a WebSocket');
      },
      tokensList: () => readTokens(this.#o.stateDir).map((t) => ({ name: t.name, role: t.role, created: t.created })),
      tokensCreate: (i) => {
        const token = createToken(this.#o.stateDir, i.body.name, i.body.role);
        this.#tokens.reload();
        return { name: i.body.name, role: i.body.role, token };
      },
      tokensRevoke: (i) => {
        revokeToken(this.#o.stateDir, i.params.name);
        this.#tokens.reload();
        return null;
      },
    };
  }
}

/** A viewer reads state, not secrets; so does a peer (a spec reaches a peer only through the agents' link, for the workloads it may run). */
function hidesSecrets(role: Role): boolean {
  return role === 'viewer' || role === 'peer';
}

function targetOf(params: Record<string, string>, body: unknown): string | null {
  if (params.ref) return params.ref;
  if (params.name) return params.name;
  if (body && typeof body === 'object') {
    const b = body as { container?: unknown; name?: unknown };
    if (typeof b.container === 'string') return b.container;
    if (typeof b.name === 'string') return b.name;
  }
  return null;
}

/** The body's text, at most MAX_BODY_BYTES; null when it answered already (413) or the client went away. */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () => {
    const text = JSON.stringify(errorEnvelope(new BadInputError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`, { field: 'body' })));
    res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), connection: 'close' });
    res.end(text);
    req.resume();
  };
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    tooLarge();
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        tooLarge();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => {
      if (done) return;
      done = true;
      resolve(null);
    });
    req.on('close', () => {
      if (done) return;
      done = true;
      resolve(null);
    });
  });
}

const EMPTY = { safeParse: (v: Record<string, unknown>) => (Object.keys(v).length === 0 ? { success: true as const, data: undefined } : null) };

/** Params, query and body checked against the route's schemas; any failure in words. */
function validate(def: RouteDef, params: Record<string, string>, query: Record<string, string>, body: string): { ok: true; value: { params: unknown; query: unknown; body: unknown } } | { ok: false; err: BadInputError } {
  const out: { params: unknown; query: unknown; body: unknown } = { params: undefined, query: undefined, body: undefined };
  const parts: ['params' | 'query', Record<string, string>][] = [
    ['params', params],
    ['query', query],
  ];
  for (const [where, value] of parts) {
    const schema = def[where];
    if (!schema) {
      if (!EMPTY.safeParse(value)) {
        const key = Object.keys(value)[0] ?? '';
        return { ok: false, err: new BadInputError(`${where}.${key.slice(0, 40)}: ${def.method} ${def.path} takes no ${where === 'query' ? 'query parameters' : 'parameters'}.`, { field: `${where}.${key.slice(0, 40)}` }) };
      }
      continue;
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      const d = describeIssues(where, r.error);
      return { ok: false, err: new BadInputError(d.message, { field: d.field }) };
    }
    out[where] = r.data;
  }
  const text = body.trim();
  if (!def.body) {
    if (text !== '') return { ok: false, err: new BadInputError(`body: ${def.method} ${def.path} takes no body.`, { field: 'body' }) };
    return { ok: true, value: out };
  }
  let json: unknown = {};
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { ok: false, err: new BadInputError(`body: not JSON (${(err as Error).message.slice(0, 200)}).`, { field: 'body' }) };
    }
  }
  const r = def.body.safeParse(json);
  if (!r.success) {
    const d = describeIssues('body', r.error);
    return { ok: false, err: new BadInputError(d.message, { field: d.field }) };
  }
  out.body = r.data;
  return { ok: true, value: out };
}

/** An HTTP error answer on a socket that asked for an upgrade (no 101 is ever sent for it). */
function rawError(socket: Duplex, status: number, err: unknown): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(errorEnvelope(err));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  (socket as Socket).destroySoon?.();
}

export { ROUTES };
