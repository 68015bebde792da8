/**
 * The failover controller: runs inside `outpost agent --listen` and carries out the pure
 * decisions of failover.ts on this node (docs/placement.md, "Failover without split brain").
 *
 * Every second it heartbeats every agent peer in parallel (POST /v1/placement/heartbeat, each
 * with its own 1.5 s deadline: this node's name and view out, the peer's view, placed copies and
 * their specs back), lists this node's own placed copies, calls `step` on the monotonic clock,
 * persists the state atomically (placement-state.json in the agent's state directory) and acts:
 * `replace` runs the workload on the node `place(…, {count: 1})` chooses among the reachable
 * ones; `fence` stops this node's copy and keeps it fenced (the rule agent skips it);
 * `stop-duplicate` stops the losing copy on its node; `unfence` clears the fence and starts the
 * copy (on another node: through its next heartbeat). Every decision's reason, every journal
 * text and every failure goes to the node's journal (kind `placement`) and the agent's log.
 *
 * A heartbeat received from a peer counts as hearing from it, as a reply does. The loop never
 * overlaps itself; actions run beside it (one at a time per container or replica), so a slow
 * `docker run` never delays the heartbeats that keep this node reachable.
 *
 * Test-only partition switch: when OUTPOST_TEST_PARTITION_FILE names a file, the node names in
 * it (separated by spaces, commas or lines) are cut off from this node: no heartbeat is sent to
 * them, and their heartbeats are refused. The e2e tests and the benchmark use it to partition
 * agents on one machine; nothing else should set it.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap as isYamlMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { configDir, writeAtomic } from '../agent/store.js';
import { journalPlacement, linkFences, linkMover, PLACEMENT_STATE_FILE } from '../agent/placement-link.js';
import type { HeartbeatAnswer, HeartbeatBody } from '../api/routes.js';
import { BadInputError, PeerUnreachableError } from '../model/errors.js';
import { readRegularFile } from '../model/read-file.js';
import type { Node } from '../node.js';
import { peersFile, readPeersWithTokens, tokensFile, type PeerWithToken } from '../peers/config.js';
import { colonFingerprint } from '../peers/fleet-from-config.js';
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
import { parseWorkload, type SpecIssue, type Workload } from './spec.js';

export const PLACEMENT_FILE = 'placement.yaml';
export const PARTITION_ENV = 'OUTPOST_TEST_PARTITION_FILE';
const PLACEMENT_KEYS = ['node', 'failover', 'run_policy'] as const;
const RUN_POLICY_KEYS = ['allow_binds', 'allow_mknod'] as const;
const NODE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Largest placement.yaml read. */
const MAX_PLACEMENT_BYTES = 64 * 1024;

/** Between two rounds (the margin of failover.ts assumes at most 1 s between steps). */
export const ROUND_MS = 1000;
/** Each heartbeat's deadline. */
export const HEARTBEAT_TIMEOUT_MS = 1500;
/**
 * A peer counts as reachable while its last exchange (a reply, or a heartbeat it sent) is at
 * most this old, the heartbeat deadline: with exchanges both ways each second, one late beat is
 * forgiven, a missed round is not. Shorter than the 4.5 s the margin assumes, which only helps
 * (a cut-off node notices sooner); a blip costs a journal line, never a fence (that takes
 * stop_after without contact).
 */
export const REACH_WINDOW_MS = 1500;
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
// Clocks, deadlines, the partition switch

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

/** The names the test-only partition file cuts off (empty when there is none). */
export function partitionedNames(file: string | null | undefined): Set<string> {
  if (!file) return new Set();
  try {
    return new Set(readFileSync(file, 'utf8').split(/[\s,]+/).filter((s) => s !== ''));
  } catch {
    return new Set();
  }
}

// ---------------------------------------------------------------------------
// The controller

interface Peer {
  name: string;
  /** For heartbeats: a short deadline. */
  hb: RemoteNode;
  /** For snapshots and actions: the usual deadlines. */
  node: RemoteNode;
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
  heartbeatTimeoutMs?: number;
  /** Builds a peer's node (default: RemoteNode with the peer's pinned fingerprint and token). */
  peerNode?: (peer: PeerWithToken, timeoutMs: number) => Promise<RemoteNode>;
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
  readonly #partitionFile: string | null;
  #state: FailoverState | null = null;
  #specs: Record<string, string> = {};
  #parsed = new Map<string, Workload | null>();
  #peers = new Map<string, Peer>();
  #peersStamp = '';
  #voters: string[] = [];
  /** Monotonic ms of the last exchange with each peer, either way. */
  #lastExchange = new Map<string, number>();
  #views = new Map<string, { view: PeerView; at: number }>();
  #lists = new Map<string, { copies: PlacedCopy[]; at: number }>();
  #own: OwnList | null = null;
  #ownListing: Promise<OwnList | null> | null = null;
  /** Containers of other nodes the deciding node restarts: sent with the next heartbeat to their node. */
  #unfenceFor = new Map<string, Set<string>>();
  #down = new Map<string, string>();
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
    this.#partitionFile = o.env[PARTITION_ENV] || null;
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
        (s.voters.length > 0 ? `, voter-only names ${s.voters.join(', ')}` : '') +
        (this.#partitionFile ? `; test partition switch ${this.#partitionFile}` : ''),
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

  // ---- the heartbeat route ---------------------------------------------------

  /** POST /v1/placement/heartbeat: the caller is heard from; this node's view and copies go back. */
  async heartbeat(body: HeartbeatBody): Promise<HeartbeatAnswer> {
    if (partitionedNames(this.#partitionFile).has(body.from)) {
      throw new PeerUnreachableError(this.self, `REFUSED: ${body.from} is cut off by the test partition switch (${PARTITION_ENV})`);
    }
    if (body.from === this.self) throw new BadInputError(`a heartbeat from ${body.from} to itself: two nodes are configured with the same name in placement.yaml`);
    const known = this.#peers.has(body.from);
    if (known) {
      const now = monoNowMs();
      this.#lastExchange.set(body.from, now);
      this.#views.set(body.from, { view: body.view, at: now });
    } else {
      this.#once(`unknown:${body.from}`, `a heartbeat from ${body.from}, which is not a peer of ${this.self}: it does not count (name the peers identically in every node's peers file)`);
    }
    if (known) for (const id of body.unfence ?? []) this.#unfenceHere(id, `the deciding node ${body.from} restarts it`);
    const own = await this.#ownCopies(1000);
    return { node: this.self, view: this.#view(), listed: own !== null, copies: own?.copies ?? [], specs: own?.specs ?? {} };
  }

  #view(): PeerView {
    return this.#state ? viewOf(this.#state, monoNowMs()) : { heardAgoMs: {} };
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
    const blocked = partitionedNames(this.#partitionFile);
    const roundStart = monoNowMs();
    const view = this.#view();
    const timeout = this.#o.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;
    await Promise.all(
      [...this.#peers.values()].map(async (p) => {
        if (blocked.has(p.name)) return this.#failed(p.name, `cut off by the test partition switch (${PARTITION_ENV})`);
        const unfence = [...(this.#unfenceFor.get(p.name) ?? [])];
        try {
          const a = await withDeadline(p.hb.placementHeartbeat({ from: this.self, view, ...(unfence.length > 0 ? { unfence } : {}) }), timeout, `heartbeat to ${p.name}`);
          if (a.node !== p.name) return this.#failed(p.name, `it answers as ${a.node}: name it ${a.node} in the peers file, or set node: ${p.name} in its placement.yaml`);
          const now = monoNowMs();
          this.#lastExchange.set(p.name, now);
          this.#views.set(p.name, { view: a.view, at: now });
          if (a.listed) this.#lists.set(p.name, { copies: a.copies.filter((c) => c.node === p.name), at: now });
          // A peer speaks for the workloads it runs: it may give the spec of a workload only while it
          // reports a copy of it on itself (it could overwrite any other node's workload before).
          const own = new Set(a.copies.filter((c) => c.node === p.name).map((c) => c.workload));
          for (const [name, text] of Object.entries(a.specs)) {
            if (own.has(name)) this.#specs[name] = text;
            else this.#once(`spec:${p.name}:${name}`, `ignored the spec of ${name.slice(0, 63)} from ${p.name}: it runs no copy of it`);
          }
          for (const id of unfence) this.#unfenceFor.get(p.name)?.delete(id);
          const was = this.#down.get(p.name);
          if (was !== undefined) {
            this.#down.delete(p.name);
            this.#journal(`heartbeat to ${p.name} answered again`);
          }
        } catch (err) {
          this.#failed(p.name, message(err));
        }
      }),
    );
    const own = await this.#ownCopies(LIST_TIMEOUT_MS);
    // Not before the first round has answered (an empty view looks like being cut off), nor without ever having listed this node's copies.
    if (!own) return;
    this.#step(own, roundStart);
  }

  #failed(peer: string, why: string): void {
    if (this.#down.get(peer) === why) return;
    const first = !this.#down.has(peer);
    this.#down.set(peer, why);
    if (first) this.#journal(`heartbeat to ${peer} failed: ${why}`);
  }

  #step(own: OwnList, roundStart: number): void {
    const now = monoNowMs();
    const window = REACH_WINDOW_MS;
    const reachable: Record<string, boolean> = {};
    const views: Record<string, { view: PeerView; receivedAgoMs: number }> = {};
    const copies: PlacedCopy[] = [...own.copies];
    const listed = [this.self];
    for (const name of this.#peers.keys()) {
      const at = this.#lastExchange.get(name);
      reachable[name] = at !== undefined && now - at <= window;
      const v = this.#views.get(name);
      if (v) views[name] = { view: v.view, receivedAgoMs: now - v.at };
      const l = this.#lists.get(name);
      if (reachable[name] && l && l.at >= roundStart) {
        copies.push(...l.copies);
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
        this.#down.delete(this.self);
      } catch (err) {
        if (!this.#down.has(this.self)) {
          this.#down.set(this.self, message(err));
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
      else if (!p.token || !p.fingerprint) this.#once(`no-token:${p.name}`, `peer ${p.name} has no token or fingerprint: it cannot be heartbeaten`);
    }
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
      this.#journal(`voters: ${voters.join(', ')} (${voters.length}; a majority is ${Math.floor(voters.length / 2) + 1}); every node must count the same voters`);
      this.#voters = voters;
    }
  }

  async #buildPeers(peers: PeerWithToken[]): Promise<void> {
    for (const peer of peers) {
      const old = this.#peers.get(peer.name);
      const sig = JSON.stringify([peer.url, peer.fingerprint, peer.token]);
      if (old && (old as Peer & { sig?: string }).sig === sig) continue;
      try {
        const make = this.#o.peerNode ?? defaultPeerNode;
        const built: Peer & { sig: string } = { name: peer.name, hb: await make(peer, this.#o.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS), node: await make(peer, 10_000), sig };
        if (old) void this.#closePeer(old);
        this.#peers.set(peer.name, built);
      } catch (err) {
        this.#once(`peer:${peer.name}:${message(err)}`, `peer ${peer.name} cannot be used for failover: ${message(err)}`);
      }
    }
  }

  async #closePeer(p: Peer): Promise<void> {
    await Promise.allSettled([p.hb.close(), p.node.close()]);
  }

  #reachableNow(name: string): boolean {
    const at = this.#lastExchange.get(name);
    return at !== undefined && monoNowMs() - at <= REACH_WINDOW_MS && !partitionedNames(this.#partitionFile).has(name);
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

async function defaultPeerNode(peer: PeerWithToken, timeoutMs: number): Promise<RemoteNode> {
  const { RemoteNode } = await import('../remote/remote-node.js');
  return new RemoteNode({ name: peer.name, url: peer.url, fingerprint: colonFingerprint(peer.fingerprint ?? ''), token: peer.token ?? '', timeoutMs });
}

function stampOf(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'none';
  }
}
