/**
 * The agent API's one route table: method, path, the least role that may
 * call it, and the zod schemas of its path parameters, query and body. The
 * server (core/api/server.ts) routes and validates with it; the client
 * (core/remote/) builds its requests from it and checks its own input with
 * the same schemas; test/api/auth.test.ts walks it, so an endpoint cannot
 * be added without its auth being tested.
 *
 * Query values arrive as strings: the helpers below parse them (and the
 * client writes them with `queryString`).
 */
import { z } from 'zod';
import { describeIssues, devicePathsSchema, nameSchema, refSchema, runSpecSchema } from '../model/schemas.js';

export { describeIssues, nameSchema, refSchema };

/**
 * A person's roles rise viewer < operator < admin. `peer` stands apart: the credential one agent
 * holds for another. It reads what a viewer reads (secrets hidden alike: a technician on the
 * peer's machine sees this node through the same peers file), and does what failover and
 * placement need besides (the routes marked `peer`: the link, and run, stop and remove of placed
 * workloads only); see docs/api.md, "Authentication and roles".
 */
export type Role = 'viewer' | 'operator' | 'admin' | 'peer';
/** The roles a route can require (a person's). */
export type PersonRole = Exclude<Role, 'peer'>;
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin', 'peer'];
const RANK: Record<PersonRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether a token of role `have` may call the route `def`. */
export function allows(have: Role, def: Pick<RouteDef, 'role' | 'peer'>): boolean {
  if (have === 'peer') return def.peer === true || def.role === 'viewer';
  return RANK[have] >= RANK[def.role];
}

/** Largest request body the agent reads (bigger ones get 413). */
export const MAX_BODY_BYTES = 64 * 1024;

const qBool = z.enum(['true', 'false', '1', '0'], { message: 'true or false' }).transform((v) => v === 'true' || v === '1');
/** A number as text; ranges are the node's to check (its messages name the CLI's flags). */
const qNum = z
  .string()
  .max(32)
  .regex(/^-?\d+(\.\d+)?$/, 'a number')
  .transform(Number);
const qInterval = z
  .string()
  .regex(/^\d{1,9}$/, 'whole milliseconds')
  .transform(Number)
  .refine((n) => n >= 100 && n <= 3_600_000, 'from 100 to 3600000 ms');
/** A JSON array in a query value, checked by `items` (`what` names it when it is not JSON). */
const qJsonList = <T extends z.ZodType>(items: T, what: string) =>
  z
    .string()
    .max(MAX_BODY_BYTES)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: what });
        return z.NEVER;
      }
    })
    .pipe(items);
const qJsonStrings = (max: number) => qJsonList(z.array(z.string().max(64 * 1024)).max(max), 'a JSON array of strings');

export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** The least person's role that may call it (admin may call everything). */
  role: PersonRole;
  /** A `peer` token may call it too (only for placed workloads where it acts on a container). */
  peer?: true;
  /** No token: the request proves itself otherwise (an enrolment secret). */
  open?: true;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** `ndjson`: the answer is a stream of envelopes, one a line; `ws`: a WebSocket (exec). */
  stream?: 'ndjson' | 'ws';
  /** Changes something: written to the audit log. */
  mutating?: boolean;
  /** What the route does, for docs/api.md and error messages. */
  summary: string;
}

const ref = z.object({ ref: refSchema }).strict();
const stopBody = z.object({ timeoutSeconds: z.number().optional() }).strict();
/** `overrideFence: true` starts a container failover fenced on this node (it may then run twice): audited by name. */
const overrideFence = z.boolean({ message: 'true or false (true starts a container that failover fenced: it may then run twice)' }).optional();
const startBody = z.object({ overrideFence }).strict();
const restartBody = z.object({ timeoutSeconds: z.number().optional(), overrideFence }).strict();
const target = z.object({ container: refSchema.optional() }).strict();


function route<const D extends RouteDef>(d: D): D {
  return d;
}

export const ROUTES = {
  info: route({ method: 'GET', path: '/v1/info', role: 'viewer', peer: true, summary: 'the engine the agent talks to' }),
  status: route({ method: 'GET', path: '/v1/status', role: 'viewer', peer: true, summary: "the agent's own connection to its engine" }),
  statusWatch: route({ method: 'GET', path: '/v1/status/watch', role: 'viewer', peer: true, stream: 'ndjson', summary: "the agent's connection to its engine, now and at every change" }),
  host: route({ method: 'GET', path: '/v1/host', role: 'viewer', summary: 'host metrics now' }),
  hostWatch: route({ method: 'GET', path: '/v1/host/watch', role: 'viewer', stream: 'ndjson', query: z.object({ intervalMs: qInterval.optional(), compact: qBool.optional() }).strict(), summary: 'host metrics at an interval (compact: only what changed)' }),
  run: route({ method: 'POST', path: '/v1/containers', role: 'admin', peer: true, body: runSpecSchema, mutating: true, summary: 'create and start a container (placement)' }),
  images: route({ method: 'GET', path: '/v1/images', role: 'viewer', peer: true, summary: "the images the engine holds (repo:tag and IDs)" }),
  devices: route({
    method: 'GET',
    path: '/v1/devices',
    role: 'viewer', peer: true,
    query: z
      .object({
        paths: qJsonList(devicePathsSchema, 'a JSON array of paths'),
      })
      .strict(),
    summary: "which host device paths exist on the agent's machine",
  }),
  list: route({ method: 'GET', path: '/v1/containers', role: 'viewer', peer: true, query: z.object({ all: qBool.optional() }).strict(), summary: 'containers (running; all with all=true)' }),
  inspect: route({ method: 'GET', path: '/v1/containers/:ref', role: 'viewer', peer: true, params: ref, summary: 'one container in detail (a viewer gets no env values and no raw document)' }),
  resolve: route({ method: 'GET', path: '/v1/containers/:ref/id', role: 'viewer', peer: true, params: ref, summary: 'the full ID of a name or ID prefix' }),
  start: route({ method: 'POST', path: '/v1/containers/:ref/start', role: 'operator', params: ref, body: startBody, mutating: true, summary: 'start (a container failover fenced here: 409 FENCED unless overrideFence)' }),
  stop: route({ method: 'POST', path: '/v1/containers/:ref/stop', role: 'operator', peer: true, params: ref, body: stopBody, mutating: true, summary: 'stop' }),
  restart: route({ method: 'POST', path: '/v1/containers/:ref/restart', role: 'operator', params: ref, body: restartBody, mutating: true, summary: 'restart (fenced: as start)' }),
  kill: route({
    method: 'POST',
    path: '/v1/containers/:ref/kill',
    role: 'operator',
    params: ref,
    body: z.object({ signal: z.string().max(40).optional() }).strict(),
    mutating: true,
    summary: 'send a signal',
  }),
  remove: route({
    method: 'DELETE',
    path: '/v1/containers/:ref',
    role: 'operator', peer: true,
    params: ref,
    query: z.object({ force: qBool.optional(), volumes: qBool.optional() }).strict(),
    mutating: true,
    summary: 'remove',
  }),
  pause: route({ method: 'POST', path: '/v1/containers/:ref/pause', role: 'operator', params: ref, mutating: true, summary: 'pause' }),
  unpause: route({ method: 'POST', path: '/v1/containers/:ref/unpause', role: 'operator', params: ref, mutating: true, summary: 'unpause' }),
  logs: route({
    method: 'GET',
    path: '/v1/containers/:ref/logs',
    role: 'operator',
    params: ref,
    stream: 'ndjson',
    query: z
      .object({
        tail: z.union([z.literal('all'), qNum]).optional(),
        since: qNum.optional(),
        follow: qBool.optional(),
        timestamps: qBool.optional(),
        maxLineBytes: z.string().regex(/^\d{1,9}$/, 'whole bytes').transform(Number).refine((n) => n >= 256, 'at least 256').optional(),
        batch: qBool.optional(),
      })
      .strict(),
    summary: 'log lines (stdout, stderr or tty), tail and follow',
  }),
  exec: route({
    method: 'GET',
    path: '/v1/containers/:ref/exec',
    role: 'operator',
    params: ref,
    stream: 'ws',
    mutating: true,
    query: z
      .object({
        cmd: qJsonStrings(1024),
        tty: qBool.optional(),
        env: qJsonStrings(1024).optional(),
        user: z.string().max(256).optional(),
        workingDir: z.string().max(4096).optional(),
        cols: z.string().regex(/^\d{1,4}$/).transform(Number).optional(),
        rows: z.string().regex(/^\d{1,4}$/).transform(Number).optional(),
      })
      .strict(),
    summary: 'a process in the container over a WebSocket (see the exec protocol)',
  }),
  model: route({ method: 'GET', path: '/v1/model', role: 'viewer', stream: 'ndjson', summary: 'the live model: a reset, then upserts and removals' }),
  events: route({
    method: 'GET',
    path: '/v1/events',
    role: 'viewer',
    stream: 'ndjson',
    query: z.object({ sinceNano: z.string().regex(/^\d{1,19}$/, 'nanoseconds since the epoch').transform(Number).optional() }).strict(),
    summary: 'container events as they arrive (with sinceNano: those after it first, as far as the engine holds them)',
  }),
  stats: route({ method: 'GET', path: '/v1/stats', role: 'viewer', summary: 'one sample of every running container' }),
  statsWatch: route({ method: 'GET', path: '/v1/stats/watch', role: 'viewer', stream: 'ndjson', query: z.object({ intervalMs: qInterval.optional(), compact: qBool.optional() }).strict(), summary: 'samples at an interval (compact: only what changed)' }),

  rulesAgent: route({ method: 'GET', path: '/v1/rules/agent', role: 'viewer', summary: 'whether the rule agent runs' }),
  rulesExplain: route({ method: 'GET', path: '/v1/rules/explain', role: 'viewer', query: target, summary: 'each rule and its state now' }),
  rulesProblems: route({ method: 'GET', path: '/v1/rules/problems', role: 'viewer', summary: 'problems of the rules' }),
  rulesJournal: route({
    method: 'GET',
    path: '/v1/rules/journal',
    role: 'viewer',
    query: z
      .object({
        limit: z.string().regex(/^\d{1,7}$/).transform(Number).optional(),
        container: refSchema.optional(),
        rule: nameSchema.optional(),
        afterSeq: z.string().regex(/^\d{1,15}$/).transform(Number).optional(),
      })
      .strict(),
    summary: 'journal entries, oldest first',
  }),
  rulesFollow: route({ method: 'GET', path: '/v1/rules/journal/follow', role: 'viewer', stream: 'ndjson', summary: 'new journal entries as they are written' }),
  rulesPaused: route({ method: 'GET', path: '/v1/rules/paused', role: 'viewer', query: target, summary: 'whether rules are paused' }),
  rulesPause: route({
    method: 'POST',
    path: '/v1/rules/pause',
    role: 'operator',
    body: z.object({ container: refSchema.optional(), until: z.number().int().positive().optional() }).strict(),
    mutating: true,
    summary: 'pause the rules (node or container)',
  }),
  rulesResume: route({ method: 'POST', path: '/v1/rules/resume', role: 'operator', body: target, mutating: true, summary: 'end a pause' }),
  rulesReset: route({
    method: 'POST',
    path: '/v1/rules/reset',
    role: 'operator',
    body: z.object({ container: refSchema, rule: nameSchema.optional(), waitMs: z.number().int().min(0).max(60_000).optional() }).strict(),
    mutating: true,
    summary: 're-arm a container',
  }),
  rulesFile: route({ method: 'GET', path: '/v1/rules/file', role: 'admin', summary: 'the rules file' }),

  placementLink: route({
    method: 'GET',
    path: '/v1/placement/link',
    role: 'admin',
    peer: true,
    stream: 'ws',
    summary: "the agents' failover link (a WebSocket): one agent's beats to another, which must show the certificate its peers file pins",
  }),

  enrol: route({
    method: 'POST',
    path: '/v1/enrol',
    role: 'admin',
    open: true,
    body: z.object({ secret: z.string().max(200), name: z.string().max(200) }).strict(),
    mutating: true,
    summary: "exchanges a join code's single-use secret for a new token of its role (no token needed: the secret is the credential)",
  }),
  tokensList: route({ method: 'GET', path: '/v1/tokens', role: 'admin', summary: 'the tokens (names, roles; never the tokens)' }),
  tokensCreate: route({
    method: 'POST',
    path: '/v1/tokens',
    role: 'admin',
    body: z.object({ name: nameSchema, role: z.enum(['viewer', 'operator', 'admin', 'peer']) }).strict(),
    mutating: true,
    summary: 'a new token (answered once)',
  }),
  tokensRevoke: route({ method: 'DELETE', path: '/v1/tokens/:name', role: 'admin', params: z.object({ name: nameSchema }).strict(), mutating: true, summary: 'revoke a token at once' }),
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof ROUTES;
export type RouteOf<N extends RouteName> = (typeof ROUTES)[N];

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
/** The validated input of a route, as its handler gets it. */
export interface Input<N extends RouteName> {
  params: Out<RouteOf<N> extends { params: infer S } ? S : undefined>;
  query: Out<RouteOf<N> extends { query: infer S } ? S : undefined>;
  body: Out<RouteOf<N> extends { body: infer S } ? S : undefined>;
}

interface Compiled {
  name: RouteName;
  def: RouteDef;
  segments: string[];
}

const COMPILED: Compiled[] = (Object.entries(ROUTES) as [RouteName, RouteDef][]).map(([name, def]) => ({ name, def, segments: def.path.split('/').slice(1) }));

export type Match =
  | { kind: 'route'; name: RouteName; def: RouteDef; params: Record<string, string> }
  | { kind: 'no-such-path' }
  | { kind: 'wrong-method'; allowed: string[] }
  | { kind: 'bad-path'; message: string };

/**
 * The route of a request path (without its query). Segments are decoded one
 * by one, so `%2F` can never make a new segment; a segment that does not
 * decode is refused.
 */
export function matchRoute(method: string, pathname: string): Match {
  if (pathname.length > 2048) return { kind: 'bad-path', message: 'the path is longer than 2048 characters' };
  const raw = pathname.split('/').slice(1);
  const segments: string[] = [];
  for (const s of raw) {
    try {
      segments.push(decodeURIComponent(s));
    } catch {
      return { kind: 'bad-path', message: 'the path has a malformed %-escape' };
    }
  }
  const allowed: string[] = [];
  for (const c of COMPILED) {
    if (c.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const want = c.segments[i] as string;
      const got = segments[i] as string;
      if (want.startsWith(':')) params[want.slice(1)] = got;
      else if (want !== got) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (c.def.method === method) return { kind: 'route', name: c.name, def: c.def, params };
    allowed.push(c.def.method);
  }
  return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'no-such-path' };
}

/** The path of a route with its parameters filled in (each one escaped). */
export function pathFor(def: RouteDef, params: Record<string, string> = {}): string {
  return def.path.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(params[k] ?? ''));
}

/** A query object as the server's schemas read it: booleans and numbers as text, arrays as JSON. */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    q.set(k, typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The query of a URL as an object; a key given twice is refused (which one would win is a trap). */
export function queryObject(search: URLSearchParams): { ok: true; value: Record<string, string> } | { ok: false; message: string } {
  const out: Record<string, string> = {};
  for (const [k, v] of search) {
    if (Object.prototype.hasOwnProperty.call(out, k)) return { ok: false, message: `query.${k.slice(0, 40)}: given more than once` };
    out[k] = v;
  }
  return { ok: true, value: out };
}
