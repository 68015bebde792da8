/**
 * The failover controller: runs inside `outpost agent --listen` and carries out the pure
 * decisions of failover.ts on this node (docs/placement.md, "Failover without split brain").
 *
 * It keeps one link per agent peer (link.ts): it dials each peer and beats on that link; it hears
 * each peer on the link the peer dialled, which the API server hands over once the peer's
 * certificate matched the peers file (so the sender of every beat is an authenticated peer,
 * never a field of the message). Each peer's reachability is its own: a completed round trip
 * with it within CONTACT_WINDOW_MS, so a slow peer delays nobody's verdict on the others.
 *
 * Every second it lists this node's own placed copies, calls `step` on the monotonic clock with
 * what the links last heard, persists the state atomically (placement-state.json in the agent's
 * state directory) and acts: `replace` runs the workload on the node `place(…, {count: 1})`
 * chooses among the reachable ones; `fence` stops this node's copy and keeps it fenced (the rule
 * agent and every face of this node refuse to start it without an override); `stop-duplicate`
 * stops the losing copy on its node; `unfence` clears the fence and starts the copy (on another
 * node: through the next beat to it). Every decision's reason, every journal text and every
 * failure goes to the node's journal (kind `placement`) and the agent's log.
 *
 * The loop never overlaps itself and waits for no peer; actions run beside it (one at a time per
 * container or replica), so a slow `docker run` never delays the beats that keep this node
 * reachable.
 */
import { readFileSync, statSync } from 'node:fs';
import { WebSocket, type RawData } from 'ws';
import { join } from 'node:path';
import { isMap as isYamlMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { configDir, writeAtomic } from '../agent/store.js';
import { buildId } from '../build-info.js';
import { journalPlacement, linkFences, linkMover, PLACEMENT_STATE_FILE } from '../agent/placement-link.js';
import { describeIssues } from '../api/routes.js';
import { readRegularFile } from '../model/read-file.js';
import type { Node } from '../node.js';
import { peersFile, readPeersWithTokens, tokensFile, type PeerWithToken } from '../peers/config.js';
import { colonFingerprint } from '../peers/fleet-from-config.js';
import type { ApiClient } from '../remote/client.js';
import type { RemoteNode } from '../remote/remote-node.js';
import { checkKeys, describe, FieldError, isMap } from '../rules/fields.js';
import { place } from './engine.js';
import {
  clearFence,
  elapsed,
  isFenced,
  parseFailoverSettings,
  replicaKey,
  step,
  viewOf,
  type Decision,
  type FailoverSettings,
  type FailoverState,
  type PeerView,
  type PlacedCopy,
} from './failover.js';
import { LABEL_SPEC, placedCopies, planMove, runMove, runSpecFor, snapshotOf, specOf } from './fleet-ops.js';
import { scanNodeName } from '../peers/node-name.js';
import { DEFAULT_RUN_POLICY, type RunPolicy } from './run-policy.js';
import { BEAT_MS, beatSchema, CONTACT_WINDOW_MS, hear, LINK_IDLE_MS, MAX_LINK_MESSAGE, nextBeat, nothingSaid, type Heard, type Said } from './link.js';
import { parseWorkload, type SpecIssue, type Workload } from './spec.js';

export const PLACEMENT_FILE = 'placement.yaml';
const PLACEMENT_KEYS = ['node', 'failover', 'run_policy'] as const;
const RUN_POLICY_KEYS = ['allow_binds', 'allow_mknod'] as const;
const NODE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Largest placement.yaml read. */
const MAX_PLACEMENT_BYTES = 64 * 1024;

/** Between two rounds (the margin of failover.ts assumes at most 1 s between steps). */
export const ROUND_MS = 1000;
/** A peer counts as reachable while its last completed round trip began at most this long ago (link.ts). */
export const REACH_WINDOW_MS = CONTACT_WINDOW_MS;
/** Deadline of dialling a peer's link (TCP, TLS and the upgrade). */
const DIAL_TIMEOUT_MS = 5000;
/** A link whose sends pile up this much unsent is dead (a cut that says nothing). */
const MAX_UNSENT_BYTES = 256 * 1024;
/** Deadline of this node's own container list, and of each snapshot before a re-placement. */
const LIST_TIMEOUT_MS = 3000;
const SNAPSHOT_TIMEOUT_MS = 5000;

export interface PlacementConfig {
  /** This node's name in the fleet: its peers name it so in their peers files. */
  node: string;
  /** The settings; `voters` holds only the file's voter-only names (the fleet's nodes are added at run time). */
  settings: FailoverSettings;
  /** What this node runs on anyone else's behalf (run-policy.ts). */
  runPolicy: RunPolicy;
}

export function placementFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), PLACEMENT_FILE);
}

/**
 * Reads and checks placement.yaml. Never throws: a missing file is `missing` (failover off),
 * every problem comes back with file:line:col and its field, as the rules file's do.
 */
export function loadPlacementConfig(path: string): { config: PlacementConfig | null; issues: SpecIssue[]; missing: boolean } {
  const read = readRegularFile(path, MAX_PLACEMENT_BYTES);
  if (!read.ok) {
    if (read.reason === 'missing') return { config: null, issues: [], missing: true };
    return { config: null, issues: [{ file: path, field: '(file)', message: read.message }], missing: false };
  }
  return { ...parsePlacementConfig(read.text, path), missing: false };
}

export function parsePlacementConfig(text: string, file: string): { config: PlacementConfig | null; issues: SpecIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    return {
      config: null,
      issues: doc.errors.slice(0, 10).map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, field: '(syntax)', message: e.message.split('\n')[0] as string, line: pos.line, column: pos.col };
      }),
    };
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { config: null, issues: [{ file, field: '(file)', message: (err as Error).message }] };
  }
  const issues: SpecIssue[] = [];
  const at = (path: (string | number)[], field: string, message: string) => issues.push(locate(doc, lines, { file, field, message }, path));
  if (!isMap(root)) {
    at([], '(file)', `expected a mapping {node, failover}, got ${describe(root)}`);
    return { config: null, issues };
  }
  try {
    checkKeys(root, PLACEMENT_KEYS, []);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    for (const x of e.all()) at(x.path, x.path.join('.') || '(file)', x.message);
  }
  const node = root.node;
  if (node === undefined) at([], 'node', "missing: this node's name in the fleet (as its peers name it in their peers files), e.g. `node: n2`");
  else if (typeof node !== 'string' || !NODE_NAME.test(node) || node === 'local') {
    at(['node'], 'node', `expected a node name (1–63 characters of a-z, 0-9 and -, starting with a letter or digit; not \`local\`), got ${describe(node)}`);
  }
  else if (scanNodeName(text) !== node) {
    // The faces read the name with a line scan (core/peers/node-name.ts): they must read the same.
    at(['node'], 'node', `write the name on a top-level line of its own, \`node: ${node}\`, so that every face of this machine reads it as the agent does`);
  }
  const parsed = parseFailoverSettings(root.failover, file, []);
  for (const i of parsed.issues) {
    const sub = i.field === '(failover)' ? [] : i.field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    issues.push(locate(doc, lines, { ...i, field: i.field === '(failover)' ? 'failover' : `failover.${i.field}` }, ['failover', ...sub]));
  }
  const runPolicy = runPolicyAt(root.run_policy, at);
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (issues.length > 0 || !parsed.settings || typeof node !== 'string') return { config: null, issues };
  return { config: { node, settings: parsed.settings, runPolicy }, issues };
}

/** placement.yaml's `run_policy` (absent: the default, which refuses what gives the host away). */
function runPolicyAt(value: unknown, at: (path: (string | number)[], field: string, message: string) => void): RunPolicy {
  if (value === undefined || value === null) return DEFAULT_RUN_POLICY;
  if (!isMap(value)) {
    at(['run_policy'], 'run_policy', `expected a mapping {allow_binds, allow_mknod}, got ${describe(value)}`);
    return DEFAULT_RUN_POLICY;
  }
  for (const k of Object.keys(value)) if (!(RUN_POLICY_KEYS as readonly string[]).includes(k)) at(['run_policy', k], `run_policy.${k}`, `unknown key \`${k.slice(0, 40)}\`; expected one of: ${RUN_POLICY_KEYS.join(', ')}`);
  const binds = value.allow_binds ?? [];
  const allowBinds: string[] = [];
  if (!Array.isArray(binds)) at(['run_policy', 'allow_binds'], 'run_policy.allow_binds', `expected a list of absolute host paths, got ${describe(binds)}`);
  else {
    for (const [i, b] of binds.entries()) {
      if (typeof b !== 'string' || !b.startsWith('/') || /[:,\0\n]/.test(b) || b.length > 4096) at(['run_policy', 'allow_binds', i], `run_policy.allow_binds[${i}]`, `expected an absolute host path, got ${describe(b)}`);
      else allowBinds.push(b);
    }
  }
  const mknod = value.allow_mknod ?? false;
  if (typeof mknod !== 'boolean') at(['run_policy', 'allow_mknod'], 'run_policy.allow_mknod', `expected true or false, got ${describe(mknod)}`);
  return { allowBinds, allowMknod: mknod === true };
}

/** The issue with the line and column of the deepest node along its path that exists. */
function locate(doc: Document, lines: LineCounter, issue: SpecIssue, path: (string | number)[]): SpecIssue {
  let offset: number | undefined;
  if (issue.message.startsWith('unknown key') && path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (isYamlMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      if (pair && isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
  }
  for (let n = path.length; offset === undefined && n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) offset = node.range[0];
  }
  if (offset === undefined) return issue;
  const pos = lines.linePos(offset);
  return { ...issue, line: pos.line, column: pos.col };
}

// ---------------------------------------------------------------------------
// Clocks and deadlines

/** CLOCK_MONOTONIC in ms (process.hrtime): it keeps counting across agent restarts within one boot. */
export function monoNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      timer.unref?.();
    }),
  ]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------
// The controller

interface Peer {
  name: string;
  /** The pinned certificate's fingerprint, AB:CD:… (who speaks on an inbound link). */
  fingerprint: string;
  /** For snapshots and actions: the usual deadlines. */
  node: RemoteNode;
  /** For dialling the link (pinned, showing this agent's certificate). */
  client: ApiClient;
  sig: string;
  /** This node's voice to the peer, and what it has said on it. */
  out: WebSocket | null;
  said: Said;
  dialing: boolean;
  nextDialMs: number;
  backoffMs: number;
  lastBeatMs: number;
  openedMs: number;
  /** The send time of each recent beat of ours, by sequence number (acknowledged ones make contact). */
  sentAt: Map<number, number>;
  /** The peer's voice to this node, and when it was handed over. */
  inbound: WebSocket | null;
  inboundAt: number;
  heard: Heard | null;
}

export interface ControllerOptions {
  config: PlacementConfig;
  stateDir: string;
  /** This machine's engine (the API's LocalNode). */
  local: Node;
  /** For the peers file. */
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  roundMs?: number;
  /** This agent's certificate and key: shown to its peers when it dials their links (mutual TLS). */
  identity?: { cert: string; key: string };
  /** Writes a line of the API's audit log (refused links, fences asked for by a peer). */
  audit?: (entry: { action: string; target: string | null; outcome: string; peer: string }) => void;
}

interface OwnList {
  copies: PlacedCopy[];
  specs: Record<string, string>;
  at: number;
}

interface Persisted {
  version: 1;
  self: string;
  failover: FailoverState;
  /** The spec text of each workload seen, by name: a lost node's workload is re-placed from it. */
  specs: Record<string, string>;
}

export class FailoverController {
  readonly self: string;
  readonly #o: ControllerOptions;
  readonly #stateFile: string;
  readonly #log: (line: string) => void;
  #state: FailoverState | null = null;
  #specs: Record<string, string> = {};
  #parsed = new Map<string, Workload | null>();
  #peers = new Map<string, Peer>();
  #peersStamp = '';
  #voters: string[] = [];
  /** Monotonic ms at which the last completed round trip with each peer began (its beat acknowledged ours). */
  #contact = new Map<string, number>();
  /** Next sequence number of this node's beats, per peer (it keeps counting across reconnections). */
  #seq = new Map<string, number>();
  #own: OwnList | null = null;
  #ownListing: Promise<OwnList | null> | null = null;
  /** Containers of other nodes the deciding node restarts: sent with the next heartbeat to their node. */
  #unfenceFor = new Map<string, Set<string>>();
  #downs = new Map<string, string>();
  #said = new Set<string>();
  #inflight = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #unlinkFences: (() => void) | null = null;
  #unlinkMover: (() => void) | null = null;

  constructor(o: ControllerOptions) {
    this.#o = o;
    this.self = o.config.node;
    this.#stateFile = join(o.stateDir, PLACEMENT_STATE_FILE);
    this.#log = o.log ?? (() => undefined);
  }

  get state(): FailoverState | null {
    return this.#state;
  }

  get voters(): string[] {
    return [...this.#voters];
  }

  /** Whether this node fenced the container (the rule agent asks before it acts). */
  isFenced(containerId: string): boolean {
    return this.#state !== null && isFenced(this.#state, containerId);
  }

  start(): void {
    this.#load();
    this.#unlinkFences = linkFences(this.#o.stateDir, (id) => (this.#state && this.isFenced(id) ? (this.#state.fenced[id] ?? null) : null));
    this.#unlinkMover = linkMover(this.#o.stateDir, (id) => this.move(id));
    const s = this.#o.config.settings;
    this.#journal(
      `failover on: this node is ${this.self}; lost_after ${elapsed(s.lostAfterMs)}, stop_after ${elapsed(s.stopAfterMs)}, reconcile ${s.reconcile}` +
        (s.voters.length > 0 ? `, voter-only names ${s.voters.join(', ')}` : ''),
    );
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await Promise.race([Promise.allSettled([...this.#inflight.values()]), new Promise((r) => setTimeout(r, 15_000).unref())]);
    this.#unlinkFences?.();
    this.#unlinkMover?.();
    for (const p of this.#peers.values()) await this.#closePeer(p);
    this.#peers.clear();
  }

  /**
   * The rules' `move`: this node's placed container goes to the node the placement engine
   * chooses among this one and the peers reachable now (a singleton stops here before its new
   * copy starts there). Resolves with where it went; journaled.
   */
  async move(containerId: string): Promise<string> {
    const peers = [...this.#peers.keys()].filter((n) => this.#reachableNow(n)).map((n) => this.#nodeOf(n) as Node);
    const nodes = [this.#o.local, ...peers];
    const plan = await planMove(nodes, containerId, this.#o.local.name);
    const r = await runMove(nodes, plan);
    const to = r.node === this.#o.local.name ? this.self : r.node;
    this.#journal(`moved ${plan.workload.name} replica ${plan.copy.replica} from ${this.self} to ${to} (container ${r.containerId.slice(0, 12)}, generation ${plan.copy.generation + 1}): asked by a rule`, { container: plan.workload.name, containerId: r.containerId, ok: true });
    return `to ${to}`;
  }

  /** Each peer's link now: this node's voice open, the peer's heard, and how long ago the last round trip began (null: none yet). */
  links(): { peer: string; out: boolean; inbound: boolean; contactAgoMs: number | null; reachable: boolean }[] {
    const now = monoNowMs();
    return [...this.#peers.values()].map((p) => {
      const at = this.#contact.get(p.name);
      return { peer: p.name, out: p.out?.readyState === WebSocket.OPEN, inbound: p.inbound !== null, contactAgoMs: at === undefined ? null : Math.round(now - at), reachable: this.#reachableNow(p.name) };
    });
  }

  // ---- the link, as the API server hands it over ----------------------------

  /** The peer whose pinned certificate this is (the API server asks before it upgrades a link), or null. */
  identify(fingerprint: string | null): string | null {
    if (!fingerprint) return null;
    const fp = fingerprint.toUpperCase();
    for (const p of this.#peers.values()) if (p.fingerprint === fp) return p.name;
    return null;
  }

  /** A peer's voice to this node, authenticated by its certificate: the one before it is closed. */
  attach(name: string, ws: WebSocket): void {
    const peer = this.#peers.get(name);
    if (!peer) {
      ws.close(1008, 'not a peer of this node');
      return;
    }
    if (peer.inbound && peer.inbound !== ws) peer.inbound.terminate();
    peer.inbound = ws;
    peer.inboundAt = monoNowMs();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (peer.inbound !== ws) return;
      this.#heard(peer, data, isBinary, ws);
    });
    ws.on('close', () => {
      if (peer.inbound === ws) peer.inbound = null;
    });
    ws.on('error', () => undefined);
  }

  #heard(peer: Peer, data: RawData, isBinary: boolean, ws: WebSocket): void {
    const refuse = (why: string) => {
      this.#once(`link-bad:${peer.name}:${why.slice(0, 80)}`, `refused a message of ${peer.name} on its link: ${why}; the link is closed`);
      this.#o.audit?.({ action: 'placementLink', target: peer.name, outcome: `refused: ${why.slice(0, 300)}`, peer: peer.name });
      ws.close(1008, 'not the link protocol');
    };
    if (isBinary) return refuse('a binary frame');
    let json: unknown;
    try {
      json = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    } catch {
      return refuse('not JSON');
    }
    const parsed = beatSchema.safeParse(json);
    if (!parsed.success) return refuse(describeIssues('beat', parsed.error).message);
    const beat = parsed.data;
    const now = monoNowMs();
    if (beat.a !== undefined) {
      const sent = peer.sentAt.get(beat.a);
      if (sent !== undefined && sent > (this.#contact.get(peer.name) ?? -Infinity)) this.#contact.set(peer.name, sent);
    }
    // A peer speaks for its own copies only.
    const heard = hear(peer.heard, beat.c ? { ...beat, c: beat.c.filter((c) => c.node === peer.name) } : beat, now);
    peer.heard = heard;
    // …and gives the spec of a workload only while it reports a copy of it on itself (it could overwrite any other node's workload before).
    const own = new Set((heard.copies ?? []).map((c) => c.workload));
    for (const [name, text] of Object.entries(beat.p ?? {})) {
      if (own.has(name)) this.#specs[name] = text;
      else this.#once(`spec:${peer.name}:${name}`, `ignored the spec of ${name.slice(0, 63)} from ${peer.name}: it runs no copy of it`);
    }
    for (const id of beat.u ?? []) {
      if (!this.#state || !isFenced(this.#state, id)) continue;
      this.#o.audit?.({ action: 'placementLink', target: id, outcome: `unfence asked by the deciding node ${peer.name}`, peer: peer.name });
      this.#unfenceHere(id, `the deciding node ${peer.name} restarts it`);
    }
  }

  #view(): PeerView {
    // Voters heard within the last rounds are left out: an idle, healthy fleet's view is empty.
    return this.#state ? viewOf(this.#state, monoNowMs(), 2 * ROUND_MS) : { heardAgoMs: {} };
  }

  // ---- the loop --------------------------------------------------------------

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const began = monoNowMs();
      this.#round()
        .catch((err: unknown) => this.#once(`round:${message(err)}`, `failover round failed: ${message(err)}`))
        .finally(() => this.#schedule(Math.max(0, (this.#o.roundMs ?? ROUND_MS) - (monoNowMs() - began))));
    }, delay);
    this.#timer.unref?.();
  }

  async #round(): Promise<void> {
    await this.#syncPeers();
    // A slow or hung engine must not hold the beats that keep this node reachable: once there is
    // a list, the round goes on with the last one while a new one is asked for.
    const listing = this.#ownCopies(LIST_TIMEOUT_MS);
    const own = this.#own ? { ...this.#own, copies: this.#own.copies.map((c) => ({ ...c, fenced: this.isFenced(c.containerId) })) } : await listing;
    // Not before this node's copies were ever listed (an empty list looks like having none).
    if (!own) return;
    this.#step(own);
    this.#speak(own);
  }

  /** Each peer's link: dialled when down, a beat when one is due or something changed, closed when dead. */
  #speak(own: OwnList): void {
    const now = monoNowMs();
    const view = this.#view();
    for (const peer of this.#peers.values()) {
      const heardAt = Math.max(peer.heard?.at ?? -Infinity, peer.inboundAt);
      if (peer.inbound && now - heardAt > LINK_IDLE_MS) {
        peer.inbound.terminate();
        peer.inbound = null;
      }
      const out = peer.out;
      if (!out) {
        if (!peer.dialing && now >= peer.nextDialMs) this.#dial(peer);
        continue;
      }
      if (out.readyState !== WebSocket.OPEN) continue;
      const quiet = now - Math.max(peer.openedMs, this.#contact.get(peer.name) ?? -Infinity);
      if (out.bufferedAmount > MAX_UNSENT_BYTES || quiet > LINK_IDLE_MS) {
        this.#down(peer.name, out.bufferedAmount > MAX_UNSENT_BYTES ? 'its link takes nothing (unsent beats pile up)' : `no round trip on its link for ${elapsed(quiet)}`);
        out.terminate();
        continue;
      }
      const seq = this.#seq.get(peer.name) ?? 1;
      const unfence = [...(this.#unfenceFor.get(peer.name) ?? [])];
      const { beat, said } = nextBeat(peer.said, { seq, ack: peer.heard?.seq ?? 0, view, voters: this.#voters, copies: own.copies, specs: own.specs, unfence });
      const news = Object.keys(beat).some((k) => k !== 's' && k !== 'a');
      if (!news && now - peer.lastBeatMs < BEAT_MS - 50) continue;
      try {
        out.send(JSON.stringify(beat));
      } catch {
        continue;
      }
      peer.said = said;
      peer.lastBeatMs = now;
      peer.sentAt.set(seq, now);
      if (peer.sentAt.size > 64) peer.sentAt.delete(peer.sentAt.keys().next().value as number);
      this.#seq.set(peer.name, seq + 1);
      for (const id of unfence) this.#unfenceFor.get(peer.name)?.delete(id);
    }
  }

  #dial(peer: Peer): void {
    peer.dialing = true;
    const url = `${peer.client.url.protocol === 'https:' ? 'wss' : 'ws'}://${peer.client.url.host}/v1/placement/link`;
    const ws = new WebSocket(url, {
      agent: peer.client.agent,
      headers: { authorization: `Bearer ${peer.client.token}`, 'x-outpost-build': buildId() },
      handshakeTimeout: DIAL_TIMEOUT_MS,
      perMessageDeflate: false,
      maxPayload: MAX_LINK_MESSAGE,
    });
    const failed = (why: string) => {
      if (!peer.dialing) return;
      peer.dialing = false;
      peer.backoffMs = Math.min(5000, Math.max(1000, peer.backoffMs * 2));
      peer.nextDialMs = monoNowMs() + peer.backoffMs;
      this.#down(peer.name, why);
    };
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        if (text.length < 2000) text += c.toString('utf8');
      });
      res.on('end', () => {
        let why = `it answers ${res.statusCode ?? '?'}`;
        try {
          const env = JSON.parse(text) as { error?: { message?: unknown } };
          if (typeof env.error?.message === 'string') why += `: ${env.error.message.slice(0, 300)}`;
        } catch {
          // not an envelope: the status says enough
        }
        failed(why);
      });
      res.on('error', () => failed(`it answers ${res.statusCode ?? '?'}`));
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.#stopped || this.#peers.get(peer.name) !== peer) return ws.terminate();
      peer.dialing = false;
      peer.backoffMs = 0;
      peer.out = ws;
      peer.said = nothingSaid();
      peer.openedMs = monoNowMs();
      peer.lastBeatMs = 0;
      if (this.#downs.has(peer.name)) {
        this.#downs.delete(peer.name);
        this.#journal(`link to ${peer.name} is up again`);
      }
    });
    // This is our voice: the peer says nothing on it.
    ws.on('message', () => undefined);
    ws.on('error', (err) => failed(message(err)));
    ws.on('close', (code, reason) => {
      if (peer.out === ws) {
        peer.out = null;
        peer.nextDialMs = monoNowMs() + 1000;
        this.#down(peer.name, `its link closed (${code}${reason.length > 0 ? `: ${reason.toString('utf8').slice(0, 120)}` : ''})`);
      } else failed(`the link closed before it opened (${code})`);
    });
  }

  #down(peer: string, why: string): void {
    if (this.#downs.get(peer) === why) return;
    const first = !this.#downs.has(peer);
    this.#downs.set(peer, why);
    if (first) this.#journal(`link to ${peer} is down: ${why}`);
  }

  #step(own: OwnList): void {
    const now = monoNowMs();
    const reachable: Record<string, boolean> = {};
    const views: Record<string, { view: PeerView; receivedAgoMs: number }> = {};
    const copies: PlacedCopy[] = [...own.copies];
    const listed = [this.self];
    for (const [name, peer] of this.#peers) {
      reachable[name] = this.#reachableNow(name);
      const h = peer.heard;
      if (!h) continue;
      views[name] = { view: h.voters ? { ...h.view, voters: h.voters } : h.view, receivedAgoMs: now - h.at };
      if (reachable[name] && h.copies) {
        copies.push(...h.copies);
        listed.push(name);
      }
    }
    const workloads: Record<string, Workload> = {};
    for (const c of copies) {
      const w = this.#workload(c.workload);
      if (w) workloads[c.workload] = w;
    }
    const r = step(this.#state, { self: this.self, monoNowMs: now, clockId: bootId() ?? undefined, reachable, views, copies, listed, workloads }, this.#settings());
    this.#state = r.state;
    this.#persist();
    for (const d of r.decisions) this.#carryOut(d);
  }

  #settings(): FailoverSettings {
    return { ...this.#o.config.settings, voters: this.#voters };
  }

  #workload(name: string): Workload | null {
    const text = this.#specs[name];
    if (text === undefined) return null;
    if (!this.#parsed.has(text)) {
      const r = parseWorkload(text, `${name}:${LABEL_SPEC}`);
      this.#parsed.set(text, r.workload);
      if (this.#parsed.size > 500) this.#parsed.clear();
    }
    return this.#parsed.get(text) ?? null;
  }

  /** This node's placed copies (failover's shape) and their specs; the last good list while the engine does not answer, null before any. */
  #ownCopies(timeoutMs: number): Promise<OwnList | null> {
    if (this.#own && monoNowMs() - this.#own.at < 500) return Promise.resolve(this.#own);
    this.#ownListing ??= (async () => {
      try {
        const list = await withDeadline(this.#o.local.list({ all: true }), timeoutMs, `the container list of ${this.self}`);
        const specs: Record<string, string> = {};
        const copies: PlacedCopy[] = [];
        const byId = new Map(list.map((c) => [c.id, c]));
        for (const c of placedCopies(this.self, list)) {
          const summary = byId.get(c.containerId);
          const spec = summary ? specOf(summary) : { workload: null };
          const text = summary?.labels[LABEL_SPEC];
          if (typeof text === 'string' && spec.workload) specs[c.workload] = text;
          copies.push({
            workload: c.workload,
            replica: c.replica,
            node: this.self,
            containerId: c.containerId,
            movable: c.movable,
            // Without a readable spec a copy counts as a singleton: fencing it too is the safe side.
            singleton: spec.workload ? spec.workload.replicas === 1 : true,
            running: c.running,
            createdAt: c.createdAt,
            generation: c.generation,
            fenced: this.isFenced(c.containerId),
          });
        }
        for (const [name, text] of Object.entries(specs)) this.#specs[name] = text;
        this.#own = { copies, specs, at: monoNowMs() };
        this.#downs.delete(this.self);
      } catch (err) {
        if (!this.#downs.has(this.self)) {
          this.#downs.set(this.self, message(err));
          this.#journal(`cannot list this node's containers (${message(err)}); failover works from the last list until the engine answers`);
        }
      } finally {
        this.#ownListing = null;
      }
      // Fenced flags follow the state, not the list's moment.
      return this.#own ? { ...this.#own, copies: this.#own.copies.map((c) => ({ ...c, fenced: this.isFenced(c.containerId) })) } : null;
    })();
    return this.#ownListing;
  }

  // ---- peers -----------------------------------------------------------------

  async #syncPeers(): Promise<void> {
    const stamp = [peersFile(this.#o.env), tokensFile(this.#o.env)].map(stampOf).join('|');
    if (stamp === this.#peersStamp) return;
    this.#peersStamp = stamp;
    let wanted: PeerWithToken[];
    try {
      wanted = readPeersWithTokens(this.#o.env);
    } catch (err) {
      this.#journal(`the peers file cannot be read (${message(err)}); failover keeps the peers it had`);
      return;
    }
    const agents = wanted.filter((p) => p.kind === 'agent' && p.name !== this.self);
    for (const p of wanted) {
      if (p.kind !== 'agent') this.#once(`engine-peer:${p.name}`, `peer ${p.name} is an engine without an agent: it is not a voter and not a failover target`);
      else if (!p.token || !p.fingerprint) this.#once(`no-token:${p.name}`, `peer ${p.name} has no token or fingerprint: no link to it`);
      else if (!p.url.startsWith('https:')) this.#once(`no-tls:${p.name}`, `peer ${p.name} is reached over plain HTTP: its link needs HTTPS (the certificates say who speaks)`);
    }
    if (!this.#o.identity) this.#once('no-identity', 'this agent has no certificate (plain HTTP): its peers cannot tell it from anyone else, so it links to nobody');
    const keep = new Set(agents.filter((p) => p.token && p.fingerprint).map((p) => p.name));
    for (const [name, p] of this.#peers) {
      if (!keep.has(name)) {
        this.#peers.delete(name);
        void this.#closePeer(p);
      }
    }
    await this.#buildPeers(agents.filter((p) => keep.has(p.name)));
    const voters = [...new Set([...this.#o.config.settings.voters, this.self, ...keep])].sort();
    if (voters.join(',') !== this.#voters.join(',')) {
      this.#journal(`voters: ${voters.join(', ')} (${voters.length}; a majority is ${Math.floor(voters.length / 2) + 1}); every node must count the same voters, and nothing is re-placed while a reachable peer counts others`);
      this.#voters = voters;
    }
  }

  async #buildPeers(peers: PeerWithToken[]): Promise<void> {
    for (const peer of peers) {
      const old = this.#peers.get(peer.name);
      const sig = JSON.stringify([peer.url, peer.fingerprint, peer.token]);
      if (old && old.sig === sig) continue;
      try {
        const { node, client } = await peerParts(peer, this.#o.identity);
        const built: Peer = {
          name: peer.name,
          fingerprint: colonFingerprint(peer.fingerprint ?? '').toUpperCase(),
          node,
          client,
          sig,
          out: null,
          said: nothingSaid(),
          dialing: false,
          nextDialMs: 0,
          backoffMs: 0,
          lastBeatMs: 0,
          openedMs: 0,
          sentAt: new Map(),
          inbound: null,
          inboundAt: 0,
          heard: null,
        };
        if (old) void this.#closePeer(old);
        this.#peers.set(peer.name, built);
      } catch (err) {
        this.#once(`peer:${peer.name}:${message(err)}`, `peer ${peer.name} cannot be used for failover: ${message(err)}`);
      }
    }
  }

  async #closePeer(p: Peer): Promise<void> {
    p.out?.terminate();
    p.inbound?.terminate();
    p.out = null;
    p.inbound = null;
    p.client.destroy();
    await Promise.allSettled([p.node.close()]);
  }

  #reachableNow(name: string): boolean {
    const at = this.#contact.get(name);
    return at !== undefined && monoNowMs() - at <= REACH_WINDOW_MS;
  }

  #nodeOf(name: string): Node | null {
    if (name === this.self) return this.#o.local;
    return this.#peers.get(name)?.node ?? null;
  }

  // ---- decisions -------------------------------------------------------------

  #carryOut(d: Decision): void {
    if (d.kind === 'journal') return this.#journal(d.text);
    const about = d.kind === 'replace' ? { container: d.workload } : { container: d.workload, containerId: d.containerId };
    this.#journal(d.reason, about);
    switch (d.kind) {
      case 'replace':
        return this.#run(`replace:${replicaKey(d.workload, d.replica)}`, () => this.#replace(d));
      case 'fence':
        return this.#run(`stop:${d.containerId}`, async () => {
          try {
            await this.#o.local.stop(d.containerId, { timeoutSeconds: 10 });
            this.#journal(`fenced ${d.workload} (${d.containerId.slice(0, 12)}): stopped; it stays stopped until the deciding node restarts it or a replacement runs`, { ...about, ok: true });
          } catch (err) {
            this.#journal(`fencing ${d.workload} (${d.containerId.slice(0, 12)}) failed: ${message(err)}; it is stopped again within 30 s`, { ...about, ok: false, error: message(err) });
          }
        });
      case 'stop-duplicate':
        return this.#run(`stop:${d.containerId}`, async () => {
          const node = this.#nodeOf(d.node);
          try {
            if (!node) throw new Error(`${d.node} is not a peer of ${this.self}`);
            await node.stop(d.containerId, { timeoutSeconds: 10 });
            this.#journal(`stopped the duplicate ${d.containerId.slice(0, 12)} of ${d.workload} on ${d.node}; ${d.keep.slice(0, 12)} on ${d.keepNode} stays`, { ...about, ok: true });
          } catch (err) {
            this.#journal(`stopping the duplicate ${d.containerId.slice(0, 12)} of ${d.workload} on ${d.node} failed: ${message(err)}`, { ...about, ok: false, error: message(err) });
          }
        });
      case 'unfence':
        if (d.node === this.self) return this.#unfenceHere(d.containerId, 'no copy runs anywhere and this node has a majority');
        {
          const set = this.#unfenceFor.get(d.node) ?? new Set<string>();
          set.add(d.containerId);
          this.#unfenceFor.set(d.node, set);
          this.#journal(`asking ${d.node} to restart its fenced copy ${d.containerId.slice(0, 12)} of ${d.workload} with the next heartbeat`, about);
        }
        return;
    }
  }

  /** Clears a fence on this node and starts the container (an id that is not fenced here is left alone). */
  #unfenceHere(containerId: string, why: string): void {
    if (!this.#state || !isFenced(this.#state, containerId)) return;
    const rec = this.#state.fenced[containerId];
    this.#state = clearFence(this.#state, containerId);
    this.#persist();
    const what = rec?.workload ?? containerId.slice(0, 12);
    this.#run(`start:${containerId}`, async () => {
      try {
        await this.#o.local.start(containerId);
        this.#journal(`unfenced ${what} (${containerId.slice(0, 12)}) and started it: ${why}`, { container: what, containerId, ok: true });
      } catch (err) {
        this.#journal(`unfenced ${what} (${containerId.slice(0, 12)}) but starting it failed: ${message(err)}`, { container: what, containerId, ok: false, error: message(err) });
      }
    });
  }

  async #replace(d: Extract<Decision, { kind: 'replace' }>): Promise<void> {
    const fail = (why: string) => this.#journal(`re-placing ${d.workload} (generation ${d.generation}) failed: ${why}; it is decided again after the replacement timeout`, { container: d.workload, ok: false, error: why });
    const text = this.#specs[d.workload];
    const workload = this.#workload(d.workload);
    if (text === undefined || !workload) return fail(`no readable spec of ${d.workload} is known here`);
    const avoid = new Set([...d.avoid, d.lostNode]);
    const names = [this.self, ...this.#peers.keys()].filter((n) => !avoid.has(n) && (n === this.self || this.#reachableNow(n)));
    const snaps = await Promise.all(
      names.map(async (name) => {
        const node = this.#nodeOf(name) as Node;
        try {
          const s = await withDeadline(snapshotOf(node, workload), SNAPSHOT_TIMEOUT_MS, `the snapshot of ${name}`);
          return { ...s.snapshot, name };
        } catch (err) {
          this.#journal(`${name} is left out of the re-placement of ${d.workload}: ${message(err)}`);
          return { name, reachable: false, arch: '', os: '', hostname: '', labels: {}, cpuCores: 0, memoryBytes: 0, allocated: { cpu: 0, memoryBytes: 0 }, devices: [], images: [] };
        }
      }),
    );
    const plan = place(workload, snaps, { count: 1 });
    const chosen = plan.chosen[0];
    if (!chosen) return fail(plan.summary ?? `no node among ${names.join(', ') || 'none'} fits`);
    const node = this.#nodeOf(chosen);
    if (!node) return fail(`no node ${chosen}`);
    try {
      const id = await node.run(runSpecFor(workload, text, d.replica, d.generation));
      this.#journal(`re-placed ${d.workload} replica ${d.replica} on ${chosen} (container ${id.slice(0, 12)}, generation ${d.generation}; lost ${d.lostNode})`, { container: d.workload, containerId: id, ok: true });
    } catch (err) {
      fail(`running it on ${chosen}: ${message(err)}`);
    }
  }

  /** Runs an action beside the loop; one at a time per key (a container or a replica). Never throws. */
  #run(key: string, fn: () => Promise<void>): void {
    if (this.#inflight.has(key)) return;
    const p = fn()
      .catch((err: unknown) => this.#journal(`failover action ${key} failed: ${message(err)}`))
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
  }

  // ---- state and journal -----------------------------------------------------

  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#stateFile, 'utf8');
    } catch {
      return;
    }
    try {
      const doc = JSON.parse(text) as Partial<Persisted>;
      if (doc.version !== 1 || !doc.failover || typeof doc.failover !== 'object') throw new Error('not a placement state of version 1');
      if (doc.self !== this.self) {
        this.#journal(`${PLACEMENT_STATE_FILE} belongs to ${String(doc.self)}, not ${this.self}: starting afresh`);
        return;
      }
      this.#state = doc.failover;
      this.#specs = doc.specs && typeof doc.specs === 'object' ? doc.specs : {};
      const fenced = Object.keys(this.#state.fenced ?? {});
      this.#journal(`restored the failover state from ${PLACEMENT_STATE_FILE}${fenced.length > 0 ? `: ${fenced.length} fenced container(s) stay stopped` : ''}`);
    } catch (err) {
      this.#journal(`${this.#stateFile} cannot be read (${message(err)}): starting afresh`);
    }
  }

  #persist(): void {
    if (!this.#state) return;
    const doc: Persisted = { version: 1, self: this.self, failover: this.#state, specs: this.#specs };
    try {
      writeAtomic(this.#stateFile, `${JSON.stringify(doc)}\n`);
    } catch (err) {
      this.#once(`persist:${message(err)}`, `cannot write ${this.#stateFile}: ${message(err)}`);
    }
  }

  #journal(reason: string, extra: { container?: string; containerId?: string; ok?: boolean; error?: string } = {}): void {
    this.#log(`placement: ${reason}`);
    journalPlacement(this.#o.stateDir, { reason, ...extra });
  }

  #once(key: string, reason: string): void {
    if (this.#said.has(key)) return;
    if (this.#said.size > 1000) this.#said.clear();
    this.#said.add(key);
    this.#journal(reason);
  }
}

/** A peer's node for actions and the client its link is dialled with: pinned to its certificate, showing this agent's. */
async function peerParts(peer: PeerWithToken, identity: { cert: string; key: string } | undefined): Promise<{ node: RemoteNode; client: ApiClient }> {
  const [{ RemoteNode }, { ApiClient }] = await Promise.all([import('../remote/remote-node.js'), import('../remote/client.js')]);
  const o = { name: peer.name, url: peer.url, fingerprint: colonFingerprint(peer.fingerprint ?? ''), token: peer.token ?? '', ...(identity ? { clientIdentity: identity } : {}) };
  return { node: new RemoteNode({ ...o, timeoutMs: 10_000 }), client: new ApiClient({ ...o, timeoutMs: DIAL_TIMEOUT_MS }) };
}

function stampOf(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'none';
  }
}
