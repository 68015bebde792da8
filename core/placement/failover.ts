/**
 * Failover of movable workloads without split brain: pure decisions from
 * one node's view of the fleet. No Docker, no network, no timers: the
 * caller passes its monotonic clock, what it reaches, what peers told it and
 * the copies it sees, and acts on the decisions (docs/placement.md, "Failover
 * without split brain", has the rule and the margin argument).
 *
 * Invariants, and why they hold:
 * - Re-placement needs a majority of the configured voters agreeing that the
 *   lost node has been silent for lost_after (this node's own silence plus
 *   fresh peer views): a minority side, or one side of a broken link whose
 *   other end still talks to the rest, never re-places.
 * - A node whose unreachable voters form a majority stops its own movable
 *   singletons after stop_after, and stop_after + margin ≤ lost_after, so it
 *   has stopped before any majority can agree it is lost.
 * - Every duration is a difference of one node's own monotonic readings:
 *   the offset between nodes' clocks never enters.
 * - The duplicate rule is a total order on copies, computed the same way on
 *   every node, so the copy it keeps is never stopped by anyone.
 */
import { checkKeys, describe, durationAt, FieldError, isMap } from '../rules/fields.js';
import type { SpecIssue, Workload } from './spec.js';

export type ReconcileMode = 'keep_original' | 'keep_replacement' | 'best_score' | 'longest_running';
export const RECONCILE_MODES: readonly ReconcileMode[] = ['keep_original', 'keep_replacement', 'best_score', 'longest_running'];

export interface FailoverSettings {
  /** A node silent this long (on the deciding side's clock, agreed by a majority) is lost and its movable workloads re-placed. */
  lostAfterMs: number;
  /** A node cut off from a majority this long (on its own clock) stops its movable singletons. */
  stopAfterMs: number;
  /** Which copy stays when two copies of one replica run. */
  reconcile: ReconcileMode;
  /** The fleet's configured nodes plus voter-only names, sorted: the same list on every node, or majorities differ. */
  voters: string[];
  /** A peer's view older than this (on the receiver's clock) does not count towards agreeing a node is lost. */
  viewMaxAgeMs: number;
  /** A replacement decided but not seen in any copy list after this is decided again. */
  replaceTimeoutMs: number;
}

export const DEFAULT_LOST_AFTER_MS = 5 * 60_000;
export const DEFAULT_STOP_AFTER_MS = 4 * 60_000;
/**
 * lost_after − stop_after must be at least this. It covers, with slack, the
 * sum the margin argument needs: the difference between the two sides'
 * last round trips, one beat 2 s + one round trip 5 s; one step 1 s; and
 * max(two round trips + view age 6 s, docker stop grace 10 s) = 24 s. The
 * contact window (link.ts) delays both sides alike and drops out.
 */
export const MIN_MARGIN_MS = 30_000;
/** Shorter would fence on a blip of a few missed heartbeats. */
export const MIN_STOP_AFTER_MS = 10_000;
/** Views arrive with beats every 2 s (link.ts); one late beat is forgiven. */
export const DEFAULT_VIEW_MAX_AGE_MS = 6_000;
export const DEFAULT_REPLACE_TIMEOUT_MS = 2 * 60_000;
export const DEFAULT_RECONCILE: ReconcileMode = 'keep_replacement';
/** A fenced container still running this long after its stop is stopped again (Docker's stop grace is 10 s). */
export const RESTOP_MS = 30_000;
/** A fenced copy of a node that does not stand in a majority is re-placed once this has passed (two views' age: a node that healed says so before). */
export const BENCHED_GRACE_MS = 2 * DEFAULT_VIEW_MAX_AGE_MS;
/** How long past lost_after peers may disagree before the journal says so (their views lag by a heartbeat or two). */
const DISAGREE_NOTE_MS = 15_000;

export const DEFAULT_FAILOVER: Omit<FailoverSettings, 'voters'> = {
  lostAfterMs: DEFAULT_LOST_AFTER_MS,
  stopAfterMs: DEFAULT_STOP_AFTER_MS,
  reconcile: DEFAULT_RECONCILE,
  viewMaxAgeMs: DEFAULT_VIEW_MAX_AGE_MS,
  replaceTimeoutMs: DEFAULT_REPLACE_TIMEOUT_MS,
};

export const FAILOVER_KEYS = ['lost_after', 'stop_after', 'reconcile', 'voters'] as const;
const VOTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Checks the `failover` mapping of a fleet file. `fleet` is the configured
 * node names; `voters:` adds voter-only names (a third voter for a two-node
 * fleet). Never throws: every problem comes back as an issue naming its
 * field, and settings are null when there is any.
 */
export function parseFailoverSettings(
  value: unknown,
  file: string,
  fleet: readonly string[] = [],
): { settings: FailoverSettings | null; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const add = (e: FieldError) => {
    for (const x of e.all()) issues.push({ file, field: x.path.join('.') || '(failover)', message: x.message });
  };
  const v = value === undefined || value === null ? {} : value;
  if (!isMap(v)) {
    return { settings: null, issues: [{ file, field: '(failover)', message: `expected a mapping {lost_after, stop_after, reconcile, voters}, got ${describe(v)}` }] };
  }
  try {
    checkKeys(v, FAILOVER_KEYS, []);
  } catch (e) {
    if (e instanceof FieldError) add(e);
    else throw e;
  }
  const field = <T>(key: string, fallback: T, check: (x: unknown) => T): T | undefined => {
    if (v[key] === undefined) return fallback;
    try {
      return check(v[key]);
    } catch (e) {
      if (e instanceof FieldError) add(e);
      else throw e;
      return undefined;
    }
  };
  const lostAfterMs = field('lost_after', DEFAULT_LOST_AFTER_MS, (x) => durationAt(x, ['lost_after'], 'lost_after', MIN_STOP_AFTER_MS + MIN_MARGIN_MS));
  const stopAfterMs = field('stop_after', DEFAULT_STOP_AFTER_MS, (x) => durationAt(x, ['stop_after'], 'stop_after', MIN_STOP_AFTER_MS));
  const reconcile = field('reconcile', DEFAULT_RECONCILE, (x) => {
    if (typeof x !== 'string' || !(RECONCILE_MODES as readonly string[]).includes(x)) {
      throw new FieldError(['reconcile'], `expected one of ${RECONCILE_MODES.join(', ')}, got ${describe(x)}`);
    }
    return x as ReconcileMode;
  });
  const extra = field('voters', [] as string[], (x) => {
    if (!Array.isArray(x)) throw new FieldError(['voters'], `expected a list of node names, got ${describe(x)}`);
    return x.map((n: unknown, i) => {
      if (typeof n !== 'string' || !VOTER_NAME.test(n)) {
        throw new FieldError(['voters', i], `expected a node name (1–63 characters of a-z, 0-9 and -, starting with a letter or digit), got ${describe(n)}`);
      }
      return n;
    });
  });
  if (lostAfterMs !== undefined && stopAfterMs !== undefined && v.lost_after !== undefined && v.stop_after === undefined) {
    // Only lost_after given: stop_after follows it, so a shorter lost_after alone is a valid file.
    return finish(lostAfterMs, Math.max(MIN_STOP_AFTER_MS, Math.min(lostAfterMs - MIN_MARGIN_MS, Math.round(lostAfterMs * 0.8))));
  }
  return finish(lostAfterMs, stopAfterMs);

  function finish(lost: number | undefined, stop: number | undefined) {
    if (lost !== undefined && stop !== undefined && lost - stop < MIN_MARGIN_MS) {
      issues.push({
        file,
        field: 'stop_after',
        message: `stop_after ${compact(stop)} must be at least ${compact(MIN_MARGIN_MS)} shorter than lost_after ${compact(lost)} ` +
          `(a cut-off node must have stopped its singletons before a majority re-places them); use stop_after ${compact(Math.max(0, lost - MIN_MARGIN_MS))} or less`,
      });
    }
    if (issues.length > 0 || lost === undefined || stop === undefined || reconcile === undefined || extra === undefined) return { settings: null, issues };
    const voters = [...new Set([...fleet, ...extra])].sort();
    return { settings: { ...DEFAULT_FAILOVER, lostAfterMs: lost, stopAfterMs: stop, reconcile, voters }, issues };
  }
}

// ---------------------------------------------------------------------------
// Inputs, state, decisions

/** One container of a placed workload, as the labels and the engine describe it. */
export interface PlacedCopy {
  workload: string;
  /** 0-based replica index. */
  replica: number;
  node: string;
  containerId: string;
  movable: boolean;
  /** The workload has replicas: 1 (it must never run twice). */
  singleton: boolean;
  /** Running or restarting: it may be serving. */
  running: boolean;
  /** Wall clock ms on the node that created it (longest_running, keep_original tie-break). */
  createdAt: number;
  /** How many times this replica was re-placed: the original is 0, each replacement one more. */
  generation: number;
  /** The engine's score when it was placed (best_score). */
  score?: number;
  /** Its node's agent has it recorded as fenced (for copies on other nodes; this node's own are in the state). */
  fenced?: boolean;
}

/** What a node tells its peers with each heartbeat: how long since it last heard each voter, on its own clock. */
export interface PeerView {
  heardAgoMs: Record<string, number>;
  /** Its own standing: a fenced copy is restarted only on a node that is not cut off itself (it would fence again at once). */
  mode?: Mode;
  /** The voters it counts: a peer that counts others is not agreed with (majorities would differ). */
  voters?: string[];
}

export interface FailoverInput {
  self: string;
  /** This node's monotonic clock (process.hrtime, CLOCK_MONOTONIC: it keeps counting across agent restarts within a boot). */
  monoNowMs: number;
  /** The boot the clock belongs to (/proc/sys/kernel/random/boot_id): readings of another boot are not compared. */
  clockId?: string;
  /** Defaults to the settings' voters. */
  voters?: string[];
  /** This node's current view of each other voter: an exchange either way within the heartbeat timeout. */
  reachable: Record<string, boolean>;
  /** The latest view from each reachable peer, and how long ago (this node's clock) it arrived. */
  views?: Record<string, { view: PeerView; receivedAgoMs: number }>;
  /** Every copy on this node and on reachable peers. Copies of other nodes are ignored: what was last seen there is in the state. */
  copies: PlacedCopy[];
  /** Nodes whose copy lists are complete in this input (default: self and every reachable voter). */
  listed?: string[];
  /** The specs, from the labels, by workload name. */
  workloads: Record<string, Workload>;
}

interface Pending {
  kind: 'replace' | 'unfence';
  generation: number;
  sinceMs: number;
  lostNode: string | null;
}

/** Per-node state: plain JSON. The caller persists it after every step and passes it back. */
export interface FailoverState {
  version: 1;
  self: string;
  clockId: string | null;
  lastStepMs: number;
  /** Per voter: the last step it was reachable (or when counting began). */
  lastSeenMs: Record<string, number>;
  /** The last step at which this node was not cut off from a majority. */
  lastSafeMs: number;
  mode: Mode;
  /** Voters whose silence passed lost_after, by when it was noticed; agreed: a majority agreed and re-placement may follow. */
  silent: Record<string, { sinceMs: number; agreed: boolean }>;
  /** The copies last seen on each node, by replica key (`workload#replica`). */
  known: Record<string, PlacedCopy[]>;
  pending: Record<string, Pending>;
  /** This node's containers it stopped by fencing: neither the rule engine nor a restart policy may start them again. */
  fenced: Record<string, { workload: string; replica: number; atMs: number; stopMs: number; reason: string }>;
  /** One-shot journal lines and stops already decided, by key, with the container they are about (pruned when it is gone). */
  noted: Record<string, string>;
  /** Fenced copies of other nodes that do not stand in a majority, by container ID: since when (re-placed after BENCHED_GRACE_MS). */
  benched: Record<string, number>;
}

/** majority: the reachable side is more than half; cut-off: the unreachable voters are; minority: neither (an even split, or two nodes). */
export type Mode = 'majority' | 'minority' | 'cut-off';

export type Decision =
  | { kind: 'replace'; workload: string; replica: number; lostNode: string; generation: number; avoid: string[]; reason: string }
  | { kind: 'fence'; containerId: string; workload: string; replica: number; reason: string }
  | { kind: 'stop-duplicate'; containerId: string; node: string; workload: string; replica: number; keep: string; keepNode: string; reason: string }
  | { kind: 'unfence'; containerId: string; node: string; workload: string; replica: number; reason: string }
  | { kind: 'journal'; text: string };

// ---------------------------------------------------------------------------
// Small pure helpers

/** Whether the reachable voters (the map must include self) are more than half of all voters. */
export function hasMajority(voters: readonly string[], reachable: Record<string, boolean>): boolean {
  return voters.filter((v) => reachable[v] === true).length * 2 > voters.length;
}

/** Whether the voters this node cannot reach are more than half: only then could the other side re-place, so only then is fencing needed. */
export function isCutOff(self: string, voters: readonly string[], reachable: Record<string, boolean>): boolean {
  return voters.filter((v) => v !== self && reachable[v] !== true).length * 2 > voters.length;
}

export function modeOf(self: string, voters: readonly string[], reachable: Record<string, boolean>): Mode {
  const withSelf = { ...reachable, [self]: true };
  return hasMajority(voters, withSelf) ? 'majority' : isCutOff(self, voters, reachable) ? 'cut-off' : 'minority';
}

/**
 * The node that decides re-placements, as `self` sees it: null without a
 * majority; else the lowest-named voter that is self, reachable, or in
 * `mayBeAlive` (unreachable but not yet agreed lost). Counting those keeps
 * the role with a lower node that the rest still hears, so the two ends of
 * one broken link do not both decide.
 */
export function whoDecides(self: string, voters: readonly string[], reachable: Record<string, boolean>, mayBeAlive: readonly string[] = []): string | null {
  if (!hasMajority(voters, { ...reachable, [self]: true })) return null;
  const candidates = voters.filter((v) => v === self || reachable[v] === true || mayBeAlive.includes(v)).sort();
  return candidates[0] ?? null;
}

/** "5m 0s", "45s", "1h 2m", "250ms": an elapsed time in a reason. */
export function elapsed(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  if (t < 1000) return `${t}ms`;
  const s = Math.floor(t / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** "5m", "1m30s", "250ms": a setting as it would be written. */
export function compact(ms: number): string {
  let rest = Math.max(0, Math.round(ms));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

export const replicaKey = (workload: string, replica: number) => `${workload}#${replica}`;

function label(c: { workload: string; replica: number; singleton?: boolean }): string {
  return c.singleton === false || c.replica !== 0 ? `${c.workload} replica ${c.replica}` : c.workload;
}

function list(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/**
 * The reconcile order: negative when `a` is kept over `b`. A total order
 * (node name and container id break every tie), so every node that sees
 * the same copies keeps the same one, and the best copy of all is never
 * stopped by a node that sees only some of them.
 */
export function compareCopies(mode: ReconcileMode, a: PlacedCopy, b: PlacedCopy): number {
  const gen = b.generation - a.generation;
  const age = a.createdAt - b.createdAt;
  const score = (b.score ?? -1) - (a.score ?? -1);
  const first =
    mode === 'keep_replacement' ? [gen]
    : mode === 'keep_original' ? [-gen, age]
    : mode === 'best_score' ? [score, gen]
    : [age, -gen];
  for (const d of first) if (d !== 0) return d;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0;
}

function reconcileWhy(mode: ReconcileMode, keep: PlacedCopy, stop: PlacedCopy): string {
  switch (mode) {
    case 'keep_replacement':
      return keep.generation !== stop.generation ? `generation ${keep.generation} replaces ${stop.generation}` : 'same generation: the lower node name';
    case 'keep_original':
      return keep.generation !== stop.generation ? `generation ${keep.generation} is older than ${stop.generation}` : 'same generation: created first';
    case 'best_score':
      return keep.score !== stop.score ? `score ${Math.round(keep.score ?? 0)} over ${Math.round(stop.score ?? 0)}` : 'same score: the newer generation';
    case 'longest_running':
      return keep.createdAt !== stop.createdAt ? 'created first' : 'same creation time: the older generation';
  }
}

/** A fresh state: every voter's silence, and the time since contact with a majority, count from now. */
export function initialFailoverState(self: string, monoNowMs: number, voters: readonly string[], clockId: string | null = null): FailoverState {
  const lastSeenMs: Record<string, number> = {};
  for (const v of voters) lastSeenMs[v] = monoNowMs;
  return { version: 1, self, clockId, lastStepMs: monoNowMs, lastSeenMs, lastSafeMs: monoNowMs, mode: 'majority', silent: {}, known: {}, pending: {}, fenced: {}, noted: {}, benched: {} };
}

/** What this node tells its peers: how long since it heard each voter (only those quiet for more than `quietMs`: the link sends no news). */
export function viewOf(state: FailoverState, monoNowMs: number, quietMs = 0): PeerView {
  const heardAgoMs: Record<string, number> = {};
  for (const [v, at] of Object.entries(state.lastSeenMs)) {
    const ago = Math.max(0, monoNowMs - at);
    if (ago > quietMs || quietMs === 0) heardAgoMs[v] = ago;
  }
  return { heardAgoMs, mode: state.mode };
}

/** Whether this node stopped the container by fencing: the rule engine and any restart must leave it alone. */
export function isFenced(state: FailoverState, containerId: string): boolean {
  return Object.hasOwn(state.fenced, containerId);
}

/** The state once the deciding node's `unfence` for this container has been carried out here (the caller then starts it). */
export function clearFence(state: FailoverState, containerId: string): FailoverState {
  const fenced = { ...state.fenced };
  delete fenced[containerId];
  return { ...state, fenced };
}

// ---------------------------------------------------------------------------
// The step

/**
 * One round of this node's failover logic. Call it every second or so (the
 * margin assumes at most 1 s between steps), with the latest input; persist
 * the returned state; carry out the decisions and journal every reason and
 * text. Pure: the state passed in is not changed.
 */
export function step(
  previous: FailoverState | null,
  input: FailoverInput,
  settings: FailoverSettings,
): { state: FailoverState; decisions: Decision[] } {
  const { self } = input;
  const now = input.monoNowMs;
  const voters = [...(input.voters ?? settings.voters)].sort();
  if (!voters.includes(self)) throw new Error(`failover: ${self} is not among the voters (${list(voters)}); every node that runs placed workloads must be one`);
  if (!Number.isFinite(now)) throw new Error(`failover: monoNowMs must be a finite number, got ${String(now)}`);
  const n = voters.length;
  const L = settings.lostAfterMs;
  const S = settings.stopAfterMs;
  const decisions: Decision[] = [];
  const journal = (text: string) => decisions.push({ kind: 'journal', text });

  let state: FailoverState = previous ? (JSON.parse(JSON.stringify(previous)) as FailoverState) : initialFailoverState(self, now, voters, input.clockId ?? null);
  const clockId = input.clockId ?? null;
  if (now < state.lastStepMs || state.clockId !== clockId) {
    // Readings of another boot (or a clock that went back) are not comparable: every timer restarts. Silence then counts
    // from now (the deciding side waits longer); after a reboot no movable container runs (restart policy "no").
    journal(`failover: the monotonic clock changed (${state.clockId ?? 'unknown'} → ${clockId ?? 'unknown'}): every timer restarts now`);
    const fresh = initialFailoverState(self, now, voters, clockId);
    const rebase = <T extends { sinceMs?: number; atMs?: number }>(r: Record<string, T>) =>
      Object.fromEntries(Object.entries(r).map(([k, x]) => [k, { ...x, ...(x.sinceMs !== undefined ? { sinceMs: now } : {}), ...(x.atMs !== undefined ? { atMs: now } : {}) }]));
    state = { ...fresh, known: state.known, fenced: rebase(state.fenced), pending: rebase(state.pending), silent: rebase(state.silent), noted: state.noted };
  }
  state.benched ??= {};
  state.lastStepMs = now;
  const reach: Record<string, boolean> = { [self]: true };
  const prevSeen = { ...state.lastSeenMs };
  for (const v of voters) {
    if (v !== self && input.reachable[v] === true) reach[v] = true;
    state.lastSeenMs[v] ??= now;
    if (reach[v]) state.lastSeenMs[v] = now;
  }
  for (const v of Object.keys(state.lastSeenMs)) if (!voters.includes(v)) delete state.lastSeenMs[v];
  const reachable = voters.filter((v) => reach[v]);
  const unreachable = voters.filter((v) => !reach[v]);

  // Where this node stands.
  const mode = modeOf(self, voters, reach);
  if (mode !== state.mode) {
    const away = now - state.lastSafeMs;
    journal(
      mode === 'cut-off'
        ? `cut off from a majority: ${unreachable.length} of ${n} voters unreachable (${list(unreachable)}); movable singletons here stop after stop_after ${compact(S)} without contact, before a majority may re-place them at lost_after ${compact(L)}`
        : mode === 'minority'
          ? `no majority: ${reachable.length} of ${n} voters reachable (${list(reachable)}) and the ${unreachable.length} unreachable are no majority either: nothing is fenced or re-placed${n === 2 ? ' (a two-node fleet never fails over: configure a third voter)' : ''}`
          : `majority: ${reachable.length} of ${n} voters reachable (${list(reachable)})${state.mode === 'cut-off' ? ` after ${elapsed(away)} cut off` : ''}` +
            (Object.keys(state.fenced).length > 0 ? '; fenced containers stay stopped until the deciding node restarts them or a replacement runs' : ''),
    );
    state.mode = mode;
  }
  if (mode !== 'cut-off') state.lastSafeMs = now;

  // What is known of each node's copies: current for self and reachable nodes, last seen for the others.
  const listed = new Set((input.listed ?? reachable).filter((v) => reach[v] === true || v === self));
  listed.add(self);
  const fresh: Record<string, PlacedCopy[]> = {};
  for (const c of input.copies) {
    if (!listed.has(c.node) || !voters.includes(c.node)) continue;
    (fresh[replicaKey(c.workload, c.replica)] ??= []).push({ ...c });
  }
  const known: Record<string, PlacedCopy[]> = {};
  for (const key of new Set([...Object.keys(state.known), ...Object.keys(fresh)])) {
    const kept = (state.known[key] ?? []).filter((c) => !listed.has(c.node));
    const all = [...kept, ...(fresh[key] ?? [])];
    if (all.length > 0) known[key] = all;
  }
  state.known = known;
  const ownIds = new Set(input.copies.filter((c) => c.node === self).map((c) => c.containerId));
  for (const id of Object.keys(state.fenced)) if (!ownIds.has(id)) delete state.fenced[id];
  const fencedCopy = (c: PlacedCopy) => (c.node === self ? isFenced(state, c.containerId) : c.fenced === true);
  const movable = (c: PlacedCopy) => input.workloads[c.workload]?.movable ?? c.movable;
  const singleton = (c: PlacedCopy) => (input.workloads[c.workload] ? input.workloads[c.workload]?.replicas === 1 : c.singleton);

  // The voter list must be the same on every node before it is used: a reachable peer that counts
  // other voters (peers being added) is not agreed with, and nothing is decided for the fleet meanwhile.
  const sameVoters = (p: string) => {
    const theirs = input.views?.[p]?.view.voters;
    return theirs === undefined || [...theirs].sort().join(',') === voters.join(',');
  };
  const otherVoters = reachable.filter((p) => p !== self && !sameVoters(p));
  const votersKey = `voters:${otherVoters.join(',')}`;
  if (otherVoters.length > 0 && state.noted[votersKey] === undefined) {
    journal(`${list(otherVoters)} count other voters than ${self} (${list(voters)}): nothing is re-placed, restarted or stopped for the fleet until every node counts the same (check their peers files and placement.yaml voters)`);
    state.noted[votersKey] = self;
  }

  // Silence: which voters a majority agrees are lost.
  const agreeing = (v: string): string[] => {
    if (reach[v] || now - (state.lastSeenMs[v] ?? now) < L) return [];
    const who = [self];
    for (const p of reachable) {
      if (p === self || p === v || !sameVoters(p)) continue;
      const got = input.views?.[p];
      const heard = got?.view.heardAgoMs[v];
      if (got && got.receivedAgoMs <= settings.viewMaxAgeMs && typeof heard === 'number' && heard >= L) who.push(p);
    }
    return who;
  };
  const lost = new Set<string>();
  for (const v of voters) {
    if (v === self) continue;
    const was = state.silent[v];
    if (reach[v]) {
      if (was) {
        journal(`${v} is back after ${elapsed(now - (prevSeen[v] ?? now))} unreachable${was.agreed ? ' (it was lost; its copies are reconciled by ' + settings.reconcile + ')' : ''}`);
        delete state.silent[v];
      }
      continue;
    }
    const quiet = now - (state.lastSeenMs[v] ?? now);
    if (quiet < L) continue;
    const who = agreeing(v);
    const agreed = who.length * 2 > n;
    if (agreed) lost.add(v);
    // Peers' views lag this node's by a heartbeat or two: a disagreement is journaled only once it has lasted.
    if (!agreed && quiet < L + DISAGREE_NOTE_MS) continue;
    if (!was || was.agreed !== agreed) {
      journal(
        agreed
          ? `${v} lost: unreachable for ${elapsed(quiet)} (lost_after ${compact(L)}) and ${who.length} of ${n} voters agree (${list(who)}): its movable workloads are re-placed`
          : `${v} unreachable for ${elapsed(quiet)} (lost_after ${compact(L)}) but only ${who.length} of ${n} voters agree (${list(who)}), no majority: nothing is re-placed${n === 2 ? ' (a two-node fleet needs a third voter)' : ''}`,
      );
      state.silent[v] = { sinceMs: was?.sinceMs ?? now, agreed };
    }
  }

  // Fencing: this node's own running movable singletons, once cut off for stop_after.
  if (mode === 'cut-off' && now - state.lastSafeMs >= S) {
    for (const c of input.copies) {
      if (c.node !== self || !c.running || !movable(c) || !singleton(c)) continue;
      const was = state.fenced[c.containerId];
      if (was) {
        // Still running RESTOP_MS after a stop (a failed stop, or a crash between decision and stop): stop it again; stops are idempotent.
        if (now - was.stopMs < RESTOP_MS) continue;
        was.stopMs = now;
        const reason = `fenced ${label(c)} (${c.containerId.slice(0, 12)}) still runs ${elapsed(now - was.atMs)} after fencing: stopping it again`;
        decisions.push({ kind: 'fence', containerId: c.containerId, workload: c.workload, replica: c.replica, reason });
        continue;
      }
      const reason =
        `${self} cut off from a majority for ${elapsed(now - state.lastSafeMs)} (stop_after ${compact(S)}; ${unreachable.length} of ${n} voters unreachable: ${list(unreachable)}): ` +
        `stopping ${label(c)} so it never runs twice when a majority re-places it at lost_after ${compact(L)}; it stays stopped (fenced) until the deciding node restarts it or a replacement runs`;
      state.fenced[c.containerId] = { workload: c.workload, replica: c.replica, atMs: now, stopMs: now, reason };
      decisions.push({ kind: 'fence', containerId: c.containerId, workload: c.workload, replica: c.replica, reason });
    }
  }

  const decider = otherVoters.length > 0 ? null : whoDecides(self, voters, reach, unreachable.filter((v) => !lost.has(v)));
  const deciding = decider === self;
  const current = (c: PlacedCopy) => reach[c.node] === true;

  for (const [key, copies] of Object.entries(state.known)) {
    const visible = copies.filter(current);
    const running = visible.filter((c) => c.running).sort((a, b) => compareCopies(settings.reconcile, a, b));
    const best = running[0];

    // Duplicates: every running copy but the best is stopped, by its own node or by the deciding node.
    if (best) {
      for (const c of running.slice(1)) {
        const why = `two copies of ${label(c)} run (${c.containerId.slice(0, 12)} on ${c.node}, generation ${c.generation}; ${best.containerId.slice(0, 12)} on ${best.node}, generation ${best.generation}): reconcile ${settings.reconcile} keeps the one on ${best.node} (${reconcileWhy(settings.reconcile, best, c)})`;
        const noteKey = `dup:${c.containerId}`;
        if (state.noted[noteKey] !== undefined) continue;
        if (c.node === self || (deciding && mode === 'majority')) {
          decisions.push({ kind: 'stop-duplicate', containerId: c.containerId, node: c.node, workload: c.workload, replica: c.replica, keep: best.containerId, keepNode: best.node, reason: why });
          state.noted[noteKey] = c.containerId;
        } else if (best.node === self) {
          journal(`${why}; this copy stays`);
          state.noted[noteKey] = c.containerId;
        }
      }
      for (const c of visible) {
        if (c.node !== self || c.running || !isFenced(state, c.containerId)) continue;
        const noteKey = `stay:${c.containerId}`;
        if (state.noted[noteKey] !== undefined) continue;
        journal(`fenced copy ${c.containerId.slice(0, 12)} of ${label(c)} stays stopped: generation ${best.generation} runs on ${best.node}`);
        state.noted[noteKey] = c.containerId;
      }
    }

    // A decision in flight is counted until its result is seen, so one loss is never re-placed twice.
    const pend = state.pending[key];
    // A replacement that timed out keeps its generation: should it appear after all, the new one is told apart from it.
    const decided = pend?.kind === 'replace' ? pend.generation : -1;
    if (pend) {
      const seen = pend.kind === 'replace' ? visible.some((c) => c.generation >= pend.generation) : running.length > 0;
      if (seen) delete state.pending[key];
      else if (now - pend.sinceMs >= settings.replaceTimeoutMs) {
        journal(`${pend.kind === 'replace' ? `replacement generation ${pend.generation}` : 'restart of the fenced copy'} of ${key.replace('#', ' replica index ')} not seen after ${elapsed(now - pend.sinceMs)}: deciding again`);
        delete state.pending[key];
      }
    }
    if (!deciding || state.pending[key] || running.length > 0) continue;
    // A copy last seen running on a node that is neither reachable nor lost may still run: wait for it.
    const unsure = copies.filter((c) => !current(c) && !lost.has(c.node) && c.running);
    if (unsure.length > 0) continue;
    const gone = copies.filter((c) => lost.has(c.node) && c.running);
    const top = Math.max(decided, ...copies.map((c) => c.generation));
    if (gone.length > 0) {
      const last = [...gone].sort((a, b) => compareCopies(settings.reconcile, a, b))[0] as PlacedCopy;
      if (visible.some((c) => c.generation > last.generation && !c.running && !fencedCopy(c))) continue; // a replacement is starting
      if (!movable(last)) {
        const noteKey = `fixed:${key}@${last.node}`;
        if (state.noted[noteKey] === undefined) {
          journal(`${label(last)} on lost ${last.node} is not movable: it is not re-placed`);
          state.noted[noteKey] = last.containerId;
        }
        continue;
      }
      const quiet = now - (state.lastSeenMs[last.node] ?? now);
      const reason = `${last.node} unreachable for ${elapsed(quiet)} (lost_after ${compact(L)}) and ${agreeing(last.node).length} of ${n} voters agree: re-placing ${label(last)} on another node (generation ${top + 1})`;
      decisions.push({ kind: 'replace', workload: last.workload, replica: last.replica, lostNode: last.node, generation: top + 1, avoid: [...lost].sort(), reason });
      state.pending[key] = { kind: 'replace', generation: top + 1, sinceMs: now, lostNode: last.node };
      continue;
    }
    // Nothing runs and nothing was lost running: a copy fenced by a partition that healed before lost_after comes back.
    const standsWell = (node: string) => {
      if (node === self) return true;
      const got = input.views?.[node];
      return got !== undefined && got.receivedAgoMs <= settings.viewMaxAgeMs && got.view.mode === 'majority';
    };
    const fencedStopped = visible.filter((c) => fencedCopy(c) && !c.running && movable(c));
    const stopped = fencedStopped.filter((c) => standsWell(c.node)).sort((a, b) => compareCopies(settings.reconcile, a, b));
    const back = stopped[0];
    if (back && mode === 'majority') {
      const reason = `${label(back)} was fenced on ${back.node} and no copy runs anywhere (${reachable.length} of ${n} voters reachable): restarting the fenced copy ${back.containerId.slice(0, 12)}`;
      decisions.push({ kind: 'unfence', containerId: back.containerId, node: back.node, workload: back.workload, replica: back.replica, reason });
      state.pending[key] = { kind: 'unfence', generation: back.generation, sinceMs: now, lostNode: null };
      continue;
    }
    // The complement of fencing: a copy its node fenced (it stays stopped until the deciding node
    // restarts it) whose node still does not stand in a majority is re-placed now, without
    // waiting for lost_after: its node may be heard now and then on a poor link and never go
    // silent that long, and the singleton would run nowhere meanwhile.
    const benched = fencedStopped.filter((c) => !standsWell(c.node)).sort((a, b) => compareCopies(settings.reconcile, a, b))[0];
    // Not at the first sight: a node that just healed says so with its next beats; its copy is then restarted instead.
    const benchedSince = benched ? (state.benched[benched.containerId] ??= now) : now;
    if (benched && mode === 'majority' && now - benchedSince >= BENCHED_GRACE_MS) {
      const away = input.views?.[benched.node]?.view.mode ?? 'unknown';
      const reason = `${label(benched)} was fenced on ${benched.node}, which stands ${away === 'unknown' ? 'without a fresh view' : `in ${away}`}, and no copy runs anywhere: re-placing it on another node (generation ${top + 1}); the fenced copy stays stopped`;
      decisions.push({ kind: 'replace', workload: benched.workload, replica: benched.replica, lostNode: benched.node, generation: top + 1, avoid: [...new Set([...lost, benched.node])].sort(), reason });
      state.pending[key] = { kind: 'replace', generation: top + 1, sinceMs: now, lostNode: benched.node };
    }
  }

  // Forget what is about containers no longer known anywhere (or no longer fenced).
  const ids = new Set(Object.values(state.known).flatMap((cs) => cs.map((c) => c.containerId)));
  const stillBenched = new Set(Object.values(state.known).flatMap((cs) => cs.filter((c) => c.node !== self && c.fenced === true && !c.running).map((c) => c.containerId)));
  for (const id of Object.keys(state.benched)) if (!stillBenched.has(id)) delete state.benched[id];
  for (const [k, id] of Object.entries(state.noted)) {
    if (k.startsWith('voters:')) {
      // Said once while the same peers count other voters; said again when that changes.
      if (k !== votersKey || otherVoters.length === 0) delete state.noted[k];
      continue;
    }
    const still = ids.has(id) && (!k.startsWith('dup:') || Object.values(state.known).some((cs) => cs.some((c) => c.containerId === id && c.running)));
    if (!still) delete state.noted[k];
  }
  for (const k of Object.keys(state.pending)) if (!state.known[k]) delete state.pending[k];
  return { state, decisions };
}
