/**
 * The client side of the agent API: requests built from the one route table
 * (core/api/routes.ts) and checked with its schemas before they leave, over
 * a TLS connection pinned to the agent's certificate.
 *
 * Pinning: every socket is opened by PinnedAgent.createConnection, which
 * hands it to the HTTP layer only after the handshake and the check (so not
 * one byte, the token least of all, goes to an impostor): the peer
 * certificate's SHA-256 fingerprint must be the pinned one; once the pinned
 * certificate is known, it is the only CA and the chain must verify against
 * it too. The hostname check is replaced by the fingerprint (the agent's
 * certificate names no host). Session resumption is off
 * (`maxCachedSessions: 0`): a resumed session would skip the certificate.
 */
import { request as httpRequest, type IncomingMessage, type ClientRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BadInputError, OutpostError, PeerTimeoutError, PeerUnreachableError, ProtocolError } from '../model/errors.js';
import { deserializeError, fromEnvelope } from '../model/envelope.js';
import { describeIssues, pathFor, queryString, ROUTES, type RouteDef, type RouteName } from '../api/routes.js';
import { pemOfDer } from '../api/tls.js';
import { readAhead } from '../shared/read-ahead.js';
import { buildId, peerBuildId } from '../build-info.js';

export interface PeerOptions {
  name: string;
  /** `https://HOST:PORT` (or `http://` on loopback, for an agent run with --insecure-http). */
  url: string;
  /** The agent certificate's SHA-256 fingerprint, `AB:CD:…`. */
  fingerprint: string;
  token: string;
  /** The pinned certificate (PEM), when the caller keeps it; else it is learnt from the first socket whose fingerprint matches. */
  certificate?: string;
  /** Deadline of every request, ms (default 10 s). */
  timeoutMs?: number;
  /** This side's build as errors name it (default: this build's, core/build-info.ts). */
  build?: string;
  /**
   * The certificate and key this side shows (mutual TLS): an agent shows its own to its peers,
   * which know it pinned in their peers files, so the agents' link knows who speaks. A person's
   * client shows none.
   */
  clientIdentity?: { cert: string; key: string };
}

export interface CallInput {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
}

export interface StreamOptions {
  /**
   * Asks the agent to beat this seldom (`x-outpost-heartbeat`); 0: not at all, for a stream whose
   * owner closes it when another stream of the same peer finds the link lost. An agent that does
   * not know the header beats as it always does, and the stream is watched by its beat.
   */
  heartbeatMs?: number;
  /** Asks for the stream gzip-compressed (a log over a thin link); an agent that cannot sends it plain. */
  gzip?: boolean;
}

/** Longest answer read into memory (a list of many containers, an inspect with a big raw document). */
const MAX_ANSWER = 64 * 1024 * 1024;
/** Longest line of a stream (a 4 MiB log line, escaped). */
const MAX_LINE = 32 * 1024 * 1024;
/** A stream's bytes read ahead of its reader, at most. */
const READ_AHEAD_BYTES = 1024 * 1024;
/**
 * A stream that says nothing (not even the agent's heartbeat) for three of the agent's heartbeat
 * intervals (its `x-outpost-heartbeat-ms` header) is taken for a cut link; an agent that does not
 * say its interval beats every 15 s, so 45 s for it.
 */
const MISSED_BEATS = 3;
const STREAM_IDLE_MS = 45_000;
/** Whatever an agent says, a stream is given at least this long (a busy agent may beat late). */
const MIN_STREAM_IDLE_MS = 3_000;

/**
 * How long a stream may be silent, from the agent's heartbeat header. `0` (the agent beats not,
 * as asked): no limit here, the stream's owner closes it when the link it watches is lost.
 */
export function streamIdleMs(header: unknown): number {
  if (header === '0') return Infinity;
  const beat = typeof header === 'string' && /^\d{1,7}$/.test(header) ? Number(header) : NaN;
  if (!(beat > 0)) return STREAM_IDLE_MS;
  return Math.min(STREAM_IDLE_MS, Math.max(MIN_STREAM_IDLE_MS, beat * MISSED_BEATS));
}

interface Pin {
  fingerprint: string;
  pem: string | null;
}

class PinnedAgent extends HttpsAgent {
  readonly #pin: Pin;
  readonly #peer: string;
  readonly #handshakeMs: number;
  readonly #identity: { cert: string; key: string } | null;
  constructor(pin: Pin, peer: string, handshakeMs: number, identity: { cert: string; key: string } | null = null) {
    super({ keepAlive: true, maxCachedSessions: 0, maxSockets: 32 });
    this.#pin = pin;
    this.#peer = peer;
    this.#handshakeMs = handshakeMs;
    this.#identity = identity;
  }

  override createConnection(options: RequestOptions, cb?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    const host = options.host ?? 'localhost';
    // Sockets opened together before the first one learnt the certificate have no CA to verify against:
    // for them the fingerprint alone decides (as for the first), not a chain check they were never given.
    const pinnedPem = this.#pin.pem;
    const socket: TLSSocket = tlsConnect({
      host,
      port: Number(options.port),
      ...(isIP(host) ? {} : { servername: host }),
      minVersion: 'TLSv1.2',
      ...(pinnedPem ? { ca: [pinnedPem] } : {}),
      ...(this.#identity ? { cert: this.#identity.cert, key: this.#identity.key } : {}),
      // Verified below, before the socket is handed over: the fingerprint, and the chain against the pinned certificate.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    let done = false;
    // A peer that takes the connection and never speaks TLS must not hold anyone: the handshake has its own deadline.
    const handshake = setTimeout(() => finish(new PeerTimeoutError(this.#peer, 'the TLS handshake', this.#handshakeMs)), this.#handshakeMs);
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(handshake);
      if (err) {
        socket.destroy();
        cb?.(err, socket);
      } else cb?.(null, socket);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const got = cert?.fingerprint256 ?? '(no certificate)';
      if (got !== this.#pin.fingerprint) {
        return finish(
          new PeerUnreachableError(
            this.#peer,
            `REFUSED: its certificate is not the pinned one: pinned ${this.#pin.fingerprint}, presented ${got}. ` +
              'If the agent was reinstalled, add the peer again with its new join code; otherwise something else answers at that address',
          ),
        );
      }
      if (pinnedPem && !socket.authorized) {
        return finish(new PeerUnreachableError(this.#peer, `REFUSED: its certificate does not verify against the pinned one (${String(socket.authorizationError)})`));
      }
      if (!this.#pin.pem && cert.raw) this.#pin.pem = pemOfDer(cert.raw);
      finish(null);
    });
    socket.once('error', (err) => finish(err));
    return undefined;
  }
}

/** What a network failure means, for a peer. */
export function peerError(err: unknown, peer: string): OutpostError {
  if (err instanceof OutpostError) return err;
  const e = err as NodeJS.ErrnoException;
  return new PeerUnreachableError(peer, e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err));
}

export class ApiClient {
  readonly url: URL;
  readonly timeoutMs: number;
  readonly #token: string;
  readonly #agent: HttpsAgent | HttpAgent;
  readonly #tls: boolean;
  readonly #open = new Set<ClientRequest>();
  readonly #build: string;

  constructor(o: PeerOptions) {
    this.url = new URL(o.url);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') throw new BadInputError(`A peer's address must be https://HOST:PORT, not ${o.url.slice(0, 100)}.`, { field: 'url' });
    this.#tls = this.url.protocol === 'https:';
    this.#token = o.token;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.#build = o.build ?? buildId();
    this.#agent = this.#tls ? new PinnedAgent({ fingerprint: o.fingerprint.toUpperCase(), pem: o.certificate ?? null }, this.label, o.timeoutMs ?? 10_000, o.clientIdentity ?? null) : new HttpAgent({ keepAlive: true });
  }

  get label(): string {
    return this.url.origin;
  }

  /** The peer's build, from its last answer's `x-outpost-build` (null until it said one; older agents say none). */
  peerBuild: string | null = null;

  /**
   * An answer this build cannot read, or a refusal of a route or key it sent, from an agent of
   * another build: both builds are named, and what that means (a mismatch, not a fault).
   */
  #builds(err: OutpostError): OutpostError {
    const ours = this.#build;
    const theirs = this.peerBuild;
    const protocol = err instanceof ProtocolError || (err instanceof BadInputError && /No such endpoint|unknown key|Unrecognized key|unrecognized_keys/i.test(err.message));
    if (!protocol || theirs === ours || ours === 'dev') return err;
    const cls = err.constructor as new (message: string, details: Record<string, unknown>) => OutpostError;
    return new cls(`${err.message} — ${this.label} runs ${theirs ? `outpost ${theirs}` : 'an older outpost that does not say its build'}, this is outpost ${ours}: the two builds speak different versions of the agents' protocol; update the older one.`, err.details);
  }

  get agent(): HttpsAgent | HttpAgent {
    return this.#agent;
  }

  get token(): string {
    return this.#token;
  }

  /** The path and query of a call, checked against the route's schemas (a bad argument never leaves this machine). */
  target(name: RouteName, input: CallInput = {}): { def: RouteDef; path: string; body: string | null } {
    const def: RouteDef = ROUTES[name];
    const check = (where: string, schema: RouteDef['params'], value: unknown) => {
      if (!schema) return;
      const r = schema.safeParse(value);
      if (!r.success) {
        const d = describeIssues(where, r.error);
        throw new BadInputError(d.message, { field: d.field });
      }
    };
    check('params', def.params, input.params ?? {});
    const qs = queryString(input.query);
    check('query', def.query, Object.fromEntries(new URLSearchParams(qs.slice(1))));
    let body: string | null = null;
    if (def.body) {
      check('body', def.body, input.body ?? {});
      body = JSON.stringify(input.body ?? {});
    }
    return { def, path: pathFor(def, input.params) + qs, body };
  }

  #request(name: RouteName, input: CallInput, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; req: ClientRequest }> {
    const { def, path, body } = this.target(name, input);
    const what = `${def.method} ${def.path}`;
    // A stop or restart waits on the peer for the container's grace period (10 s unless given), as a local engine's does.
    const grace = (input.body as { timeoutSeconds?: unknown } | undefined)?.timeoutSeconds;
    const extraMs = name === 'stop' || name === 'restart' ? (typeof grace === 'number' && Number.isFinite(grace) ? grace : 10) * 1000 : 0;
    return new Promise((resolve, reject) => {
      const req = (this.#tls ? httpsRequest : httpRequest)({
        agent: this.#agent,
        host: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(this.url.port || (this.#tls ? 443 : 80)),
        method: def.method,
        path,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body !== null ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
      });
      this.#open.add(req);
      req.on('close', () => this.#open.delete(req));
      const deadline = this.timeoutMs + (extraMs ?? 0);
      // Rejected here, not only through the request's 'error': a request still waiting for its socket may never emit one.
      const timer = setTimeout(() => {
        const err = new PeerTimeoutError(this.label, what, deadline);
        req.destroy(err);
        reject(err);
      }, deadline);
      req.on('response', (res) => {
        clearTimeout(timer);
        this.peerBuild = peerBuildId(res.headers['x-outpost-build']) ?? this.peerBuild;
        resolve({ res, req });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(peerError(err, this.label));
      });
      req.end(body ?? undefined);
    });
  }

  /** A JSON call: its result, or its error as the named class. */
  async call<T>(name: RouteName, input: CallInput = {}): Promise<T> {
    const { res, req } = await this.#request(name, input);
    const timer = setTimeout(() => req.destroy(new PeerTimeoutError(this.label, `${ROUTES[name].method} ${ROUTES[name].path}`, this.timeoutMs)), this.timeoutMs);
    try {
      const text = await readAll(res, MAX_ANSWER);
      return fromEnvelope<T>(parseJson(text, res.statusCode));
    } catch (err) {
      throw this.#builds(peerError(err, this.label));
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A stream's items, pulled (the next line is read when the last one was
   * taken, so a slow reader slows the agent down through TCP). Rejects with
   * the agent's error when it refuses; `close()` ends it.
   */
  /** An ndjson stream; `serverTime` is the agent's clock when it answered (its Date header, ms; null when absent). */
  async stream<T>(name: RouteName, input: CallInput = {}, o: StreamOptions = {}): Promise<{ items: AsyncIterable<T>; close: () => void; serverTime: number | null }> {
    const s = await this.streamBatches<T>(name, input, o);
    const items = (async function* () {
      for await (const batch of s.items) yield* batch;
    })();
    return { ...s, items };
  }

  /**
   * The same stream, as the runs of items the agent wrote together (one for each `result`
   * envelope, many for a `results` one): a reader of many log lines takes them without a promise
   * per line.
   */
  async streamBatches<T>(name: RouteName, input: CallInput = {}, o: StreamOptions = {}): Promise<{ items: AsyncIterable<T[]>; close: () => void; serverTime: number | null }> {
    const { res, req } = await this.#request(name, input, {
      accept: 'application/x-ndjson',
      ...(o.heartbeatMs !== undefined ? { 'x-outpost-heartbeat': String(o.heartbeatMs) } : {}),
      ...(o.gzip ? { 'accept-encoding': 'gzip' } : {}),
    });
    if (res.statusCode !== 200) {
      const text = await readAll(res, MAX_ANSWER).catch(() => '');
      throw this.#builds(peerError(fromEnvelopeError(text, res.statusCode), this.label));
    }
    // A silent stream is a cut link. One timer checks the time of the last bytes (re-arming a
    // timer on every chunk of a fast log stream cost more than reading it).
    const idleMs = streamIdleMs(res.headers['x-outpost-heartbeat-ms']);
    let last = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - last > idleMs) req.destroy(new PeerTimeoutError(this.label, `${ROUTES[name].path} (a stream that went silent)`, idleMs));
    }, Number.isFinite(idleMs) ? Math.min(500, Math.floor(idleMs / 10)) : 2 ** 31 - 1);
    watchdog.unref();
    const label = this.label;
    const items = (async function* () {
      let pending: Buffer = Buffer.alloc(0);
      try {
        // Read ahead of the reader (bounded): the agent keeps sending while a run of lines is taken.
        // A compressed answer is read through gunzip; a cut stream ends it as it ends the answer.
        const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()).on('error', (err) => req.destroy(new ProtocolError(`a compressed stream from ${label} that does not decompress (${err.message})`))) : res;
        if (body !== res) {
          res.on('close', () => {
            if (!res.complete) body.destroy();
          });
        }
        const chunks = readAhead(body, READ_AHEAD_BYTES, () => false, false); // a cut before the end: `res.complete` below says so
        for (let r = await chunks.next(); !r.done; r = await chunks.next()) {
          const chunk = r.value;
          last = Date.now();
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          let start = 0;
          let nl: number;
          while ((nl = pending.indexOf(10, start)) >= 0) {
            const line = pending.toString('utf8', start, nl);
            start = nl + 1;
            if (line.length === 0 || line.trim() === '') continue; // heartbeat
            yield fromStreamEnvelope<T>(parseJson(line, 200));
          }
          pending = start === 0 ? pending : pending.subarray(start);
          if (pending.length > MAX_LINE) throw new ProtocolError(`a stream line longer than ${MAX_LINE} bytes from ${label}`);
        }
        if (!res.complete) throw new PeerUnreachableError(label, 'the stream broke off');
      } finally {
        clearInterval(watchdog);
        req.destroy();
      }
    })();
    const date = typeof res.headers.date === 'string' ? Date.parse(res.headers.date) : NaN;
    return {
      items,
      serverTime: Number.isFinite(date) ? date : null,
      close: () => {
        clearInterval(watchdog);
        req.destroy();
      },
    };
  }

  /** Ends every request in flight and the kept-alive sockets. */
  destroy(): void {
    for (const r of [...this.#open]) r.destroy();
    this.#agent.destroy();
  }
}

function readAll(res: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        res.destroy(new ProtocolError(`an answer larger than ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the answer broke off')));
  });
}

/** A stream line: `{"result": x}` is one item, `{"results": [...]}` a run of them, `{"error"}` the stream's failure. */
function fromStreamEnvelope<T>(value: unknown): T[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'results' in value) {
    const r = (value as { results: unknown }).results;
    if (!Array.isArray(r)) throw new ProtocolError(`malformed stream line from the other side (results is not a list)`);
    return r as T[];
  }
  return [fromEnvelope<T>(value)];
}

function parseJson(text: string, status: number | undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProtocolError(`an answer that is not JSON (HTTP ${status ?? '?'}): ${text.slice(0, 200)}`);
  }
}

/** The error of a refused request's body (an envelope), or a ProtocolError naming the status. */
export function fromEnvelopeError(text: string, status: number | undefined): OutpostError {
  try {
    const v = JSON.parse(text) as { error?: unknown };
    if (v && typeof v === 'object' && 'error' in v) return deserializeError(v.error);
  } catch {
    // below
  }
  return new ProtocolError(`HTTP ${status ?? '?'} without an error envelope: ${text.slice(0, 200)}`);
}
