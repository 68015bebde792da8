/**
 * The placement engine: pure functions from node snapshots and a compiled
 * workload to a ranked table. Filter, then score, as the Kubernetes
 * scheduler does; replicas are placed one at a time so each one sees the
 * ones before it. No Docker, no network, no clock: the same input gives the
 * same output. The formulas are written out, with worked examples, in
 * docs/placement.md.
 */
import { normalizeArch, type Constraint, type Workload } from './spec.js';

export interface NodeSnapshot {
  name: string;
  reachable: boolean;
  /** As Docker reports it (x86_64, aarch64) or as a platform (amd64, arm64): both are understood. */
  arch: string;
  os: string;
  hostname: string;
  labels: Record<string, string>;
  cpuCores: number;
  memoryBytes: number;
  /** What is taken already: the requests of placed workloads (and, if the caller wants, running containers' use). */
  allocated: { cpu: number; memoryBytes: number };
  /** Host device paths present, like /dev/ttyUSB0. */
  devices: string[];
  /** Images present: repo:tag references and ids. */
  images: string[];
  /** How many replicas of each workload run there already. */
  replicasOf?: Record<string, number>;
  /** Host ports taken, as `tcp/8080` (optional: without it, only this workload's own replicas are checked). */
  portsInUse?: string[];
}

export interface PlaceOptions {
  /** How many new replicas to place (default: the workload's `replicas`). Replicas already running are in the snapshots' `replicasOf`. */
  count?: number;
}

/** Why a node was rejected: the kind is what the summary counts, the text is the node's own detail. */
export interface Rejection {
  kind: string;
  text: string;
}

export interface ScoreParts {
  strategy: 'least-allocated' | 'most-allocated';
  /** The per-resource scores of the strategy (0–100) and their mean. */
  cpu: number;
  memory: number;
  fit: number;
  /** (1 − std of the cpu and memory fractions) · 100. */
  balanced: number;
  /** (2·fit + balanced) / 3. */
  resources: number;
  /** Preferences the node matches, with their weights. */
  matched: { text: string; weight: number }[];
  /** Σ of every preference's weight (the normalisation's denominator is 100 + this). */
  totalWeight: number;
}

export interface NodeVerdict {
  node: string;
  fits: boolean;
  /** 0–100, unrounded (0 when rejected). */
  score: number;
  /** The score as shown: rounded to a whole number. */
  shown: number;
  /** Replicas of this workload on the node: already running plus placed by this decision. */
  replicas: number;
  /** Replicas this decision put on the node. */
  placed: number;
  /** Rejected: each reason; fits: each part of the score. */
  reasons: string[];
  rejections: Rejection[];
  parts: ScoreParts | null;
  /** One line: "rejected: needs 512 MiB, 300 MiB free" or "score 71 = …". */
  text: string;
}

export interface Placement {
  /** The node of each new replica, in order (shorter than asked when some could not be placed). */
  chosen: string[];
  /**
   * Every node, ranked: those that fit by score (then tie-breaks), then the
   * rejected by name. The round shown is the first replica's, or the round
   * that failed, so the table always explains the summary.
   */
  verdicts: NodeVerdict[];
  /** null when every replica was placed; else the Kubernetes-like line, "0/3 nodes are available: …". */
  summary: string | null;
}

/** Weights of the resource score: the strategy's fit counts twice, balance once (docs/placement.md). */
export const FIT_WEIGHT = 2;
export const BALANCED_WEIGHT = 1;
/** The resource score counts as a preference of this weight when preferences are normalised. */
export const RESOURCE_WEIGHT = 100;

/** Per-node state that changes as replicas are placed. */
interface NodeState {
  snap: NodeSnapshot;
  arch: string;
  os: string;
  hostname: string;
  cpuUsed: number;
  memUsed: number;
  existing: number;
  placed: number;
  /** Rejections that no placement changes: reachability, constraints, devices, images, ports taken by others. */
  fixed: Rejection[];
  /** Whether the node counts as a domain of the spread key (reachable and every constraint holds). */
  eligible: boolean;
  domain: string;
  /** Preferences matched (they do not change between rounds). */
  matched: { text: string; weight: number }[];
  matchedWeight: number;
}

interface Evaluation {
  state: NodeState;
  /** Replicas of this workload on the node when it was evaluated (the tie-break; later rounds change the state). */
  here: number;
  fits: boolean;
  score: number;
  rejections: Rejection[];
  parts: ScoreParts | null;
}

/** Own properties only: a node labelled by a peer must not match `label.constructor`. */
function labelOf(labels: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function attrValue(state: NodeState, c: Extract<Constraint, { kind: 'attr' }>): string | undefined {
  switch (c.attr) {
    case 'arch':
      return state.arch;
    case 'os':
      return state.os;
    case 'hostname':
      return state.hostname;
    case 'node':
      return state.snap.name;
    case 'label':
      return labelOf(state.snap.labels, c.key);
  }
}

function holds(state: NodeState, c: Constraint, w: Workload): boolean {
  switch (c.kind) {
    case 'image-present':
      return w.imageRefs.some((r) => state.snap.images.includes(r));
    case 'device':
      return state.snap.devices.includes(c.path);
    case 'attr': {
      const v = attrValue(state, c);
      const inSet = v !== undefined && c.values.includes(v);
      return c.op === '==' || c.op === 'in' ? inSet : !inSet;
    }
  }
}

/** The words for a failed constraint, as the brief has them: "arch amd64, needs arm64", "label.zone is line-1, needs line-2". */
function constraintText(state: NodeState, c: Constraint, w: Workload): string {
  if (c.kind === 'image-present') return `image ${w.image} not present`;
  if (c.kind === 'device') return c.negated;
  const v = attrValue(state, c);
  const list = c.values.join(', ');
  const is = c.attr === 'arch' || c.attr === 'os' ? `${c.field} ${v ?? '(unknown)'}` : v === undefined ? `${c.field} not set` : `${c.field} is ${v}`;
  return c.op === '==' ? `${is}, needs ${list}`
    : c.op === '!=' ? `${is}, must not be ${list}`
    : c.op === 'in' ? `${is}, needs one of (${list})`
    : `${is}, must not be one of (${list})`;
}

/** A failed constraint: its kind is fixed text from the compiled spec; its words are made only when read. */
class ConstraintRejection implements Rejection {
  readonly kind: string;
  #text: string | null = null;

  constructor(
    private readonly state: NodeState,
    private readonly c: Constraint,
    private readonly w: Workload,
  ) {
    this.kind = c.kind === 'image-present' ? `image ${w.image} not present` : c.negated;
  }

  get text(): string {
    if (this.#text === null) this.#text = constraintText(this.state, this.c, this.w);
    return this.#text;
  }
}

function domainOf(state: NodeState, w: Workload): string {
  const s = w.spread;
  if (!s) return '';
  if (s.label !== null) {
    const v = labelOf(state.snap.labels, s.label);
    // Nodes without the label are one domain of their own (Swarm's spread preference); the NUL keeps it apart from any value.
    return v === undefined ? '\0unlabelled' : `=${v}`;
  }
  if (s.key === 'node') return `=${state.snap.name}`;
  if (s.key === 'hostname') return `=${state.hostname}`;
  return `=${s.key === 'arch' ? state.arch : state.os}`;
}

function hostPorts(w: Workload): string[] {
  return w.ports.filter((p) => p.host !== null).map((p) => `${p.protocol}/${p.host}`);
}

function initialState(snap: NodeSnapshot, w: Workload, ports: string[]): NodeState {
  const state: NodeState = {
    snap,
    arch: normalizeArch(snap.arch),
    os: snap.os.toLowerCase(),
    hostname: snap.hostname.toLowerCase(),
    cpuUsed: Math.max(0, snap.allocated.cpu),
    memUsed: Math.max(0, snap.allocated.memoryBytes),
    existing: Math.max(0, snap.replicasOf && Object.hasOwn(snap.replicasOf, w.name) ? (snap.replicasOf[w.name] as number) : 0),
    placed: 0,
    fixed: [],
    eligible: false,
    domain: '',
    matched: [],
    matchedWeight: 0,
  };
  if (!snap.reachable) {
    // A lost node's data is stale: nothing else is said about it.
    state.fixed.push({ kind: 'unreachable', text: 'unreachable' });
    return state;
  }
  for (const c of w.constraints) if (!holds(state, c, w)) state.fixed.push(new ConstraintRejection(state, c, w));
  state.eligible = state.fixed.length === 0;
  // The workload's own running replicas hold their ports: only ports taken by others (beyond those) reject here.
  if (ports.length > 0 && snap.portsInUse && state.existing === 0) {
    for (const p of ports) if (snap.portsInUse.includes(p)) state.fixed.push({ kind: 'host port in use', text: `host port ${p} in use` });
  }
  state.domain = domainOf(state, w);
  for (const p of w.preferences) {
    if (holds(state, p.constraint, w)) {
      state.matched.push({ text: p.constraint.text, weight: p.weight });
      state.matchedWeight += p.weight;
    }
  }
  return state;
}

/** Kubernetes LeastAllocated for one resource: (cap − used)·100/cap, 0 when over or without capacity. */
export function leastAllocated(used: number, capacity: number): number {
  if (capacity <= 0 || used > capacity) return 0;
  return ((capacity - used) * 100) / capacity;
}

/** Kubernetes MostAllocated (Nomad's binpack is the same idea): used·100/cap, capped at 100. */
export function mostAllocated(used: number, capacity: number): number {
  if (capacity <= 0) return 0;
  return (Math.min(used, capacity) * 100) / capacity;
}

/** Kubernetes BalancedAllocation: (1 − std of the fractions)·100; with two resources std = |a − b| / 2. */
export function balancedAllocation(fractions: number[]): number {
  if (fractions.length === 0) return 100;
  const fs = fractions.map((f) => Math.min(1, Math.max(0, f)));
  const mean = fs.reduce((a, b) => a + b, 0) / fs.length;
  const variance = fs.reduce((a, f) => a + (f - mean) ** 2, 0) / fs.length;
  return (1 - Math.sqrt(variance)) * 100;
}

/**
 * One node for one round. `full` collects every reason of a rejected node
 * (for the table and the summary); rounds that are not shown stop at the
 * fixed reasons, which never change.
 */
function evaluate(state: NodeState, w: Workload, ctx: RoundContext, full: boolean): Evaluation {
  if (!full && state.fixed.length > 0) return { state, here: state.existing + state.placed, fits: false, score: 0, rejections: state.fixed, parts: null };
  const rejections = state.fixed.length > 0 ? [...state.fixed] : [];
  if (state.snap.reachable) {
    const { cpu, memoryBytes } = w.resources;
    const snap = state.snap;
    // A zero request is not checked (as in Kubernetes): a workload without requests fits an over-committed node.
    if (cpu > 0 && state.cpuUsed + cpu > snap.cpuCores + 1e-9) {
      rejections.push({ kind: 'insufficient cpu', text: `needs ${cores(cpu)} cpu, ${cores(Math.max(0, snap.cpuCores - state.cpuUsed))} free` });
    }
    if (memoryBytes > 0 && state.memUsed + memoryBytes > snap.memoryBytes) {
      rejections.push({ kind: 'insufficient memory', text: `needs ${bytes(memoryBytes)}, ${bytes(Math.max(0, snap.memoryBytes - state.memUsed))} free` });
    }
    const here = state.existing + state.placed;
    if (ctx.perNode !== null && here >= ctx.perNode) {
      rejections.push(
        w.maxPerNode !== null && here >= w.maxPerNode
          ? { kind: `at max_per_node ${w.maxPerNode}`, text: `already ${here} of ${w.name} here, max_per_node ${w.maxPerNode}` }
          : { kind: 'host port in use', text: `host port ${ctx.ports[0]} taken by a replica of ${w.name}` },
      );
    }
    if (w.spread && state.eligible) {
      const count = (ctx.domains.get(state.domain) ?? 0) + 1;
      if (count - ctx.minDomain > w.spread.maxSkew) {
        const where = state.domain === '\0unlabelled' ? `nodes without ${w.spread.key}` : `${w.spread.key} ${state.domain.slice(1)}`;
        rejections.push({
          kind: `${w.spread.key} skew > ${w.spread.maxSkew}`,
          text: `${where} would have ${count}, the least has ${ctx.minDomain}: skew ${count - ctx.minDomain} > max_skew ${w.spread.maxSkew}`,
        });
      }
    }
  }
  if (rejections.length > 0) return { state, here: state.existing + state.placed, fits: false, score: 0, rejections, parts: null };
  const snap = state.snap;
  const cpuUsed = state.cpuUsed + w.resources.cpu;
  const memUsed = state.memUsed + w.resources.memoryBytes;
  const binpack = w.strategy === 'binpack';
  const one = binpack ? mostAllocated : leastAllocated;
  const cpuScore = one(cpuUsed, snap.cpuCores);
  const memScore = one(memUsed, snap.memoryBytes);
  const fit = (cpuScore + memScore) / 2;
  const fraction = (used: number, cap: number) => (cap > 0 ? used / cap : 1);
  const balanced = balancedAllocation([fraction(cpuUsed, snap.cpuCores), fraction(memUsed, snap.memoryBytes)]);
  const resources = (FIT_WEIGHT * fit + BALANCED_WEIGHT * balanced) / (FIT_WEIGHT + BALANCED_WEIGHT);
  // Preferences (Nomad affinities): each matched weight adds points on the resource score's scale, then the sum is brought back to 0–100.
  const score = ctx.totalWeight === 0 ? resources : ((resources + state.matchedWeight) * RESOURCE_WEIGHT) / (RESOURCE_WEIGHT + ctx.totalWeight);
  return {
    state,
    here: state.existing + state.placed,
    fits: true,
    score,
    rejections,
    parts: {
      strategy: binpack ? 'most-allocated' : 'least-allocated',
      cpu: cpuScore,
      memory: memScore,
      fit,
      balanced,
      resources,
      matched: state.matched,
      totalWeight: ctx.totalWeight,
    },
  };
}

interface RoundContext {
  /** Replicas of this workload per spread domain (running and placed). */
  domains: Map<string, number>;
  minDomain: number;
  /** The most replicas one node may hold (max_per_node, and 1 with a fixed host port), or null. */
  perNode: number | null;
  ports: string[];
  totalWeight: number;
}

/** Scores compared to a millionth, so the float noise of equal arithmetic never decides over the tie-breaks. */
const key = (score: number) => Math.round(score * 1e6);

/** Fits first by score desc, then fewer replicas of this workload, then name asc; rejected by name. */
function compare(a: Evaluation, b: Evaluation): number {
  if (a.fits !== b.fits) return a.fits ? -1 : 1;
  if (a.fits) {
    const d = key(b.score) - key(a.score);
    if (d !== 0) return d;
    const r = a.here - b.here;
    if (r !== 0) return r;
  }
  return a.state.snap.name < b.state.snap.name ? -1 : a.state.snap.name > b.state.snap.name ? 1 : 0;
}

function better(a: Evaluation, b: Evaluation | null): boolean {
  return b === null || compare(a, b) < 0;
}

/**
 * Places `options.count ?? workload.replicas` new replicas, one at a time:
 * filter every node, score those that fit, take the best, count it in
 * (allocation, spread domain, replicas on the node), and go again.
 */
export function place(workload: Workload, nodes: NodeSnapshot[], options: PlaceOptions = {}): Placement {
  const count = Math.max(0, Math.floor(options.count ?? workload.replicas));
  const ports = hostPorts(workload);
  const states = nodes.map((n) => initialState(n, workload, ports));
  const perNodeLimits = [workload.maxPerNode, ports.length > 0 ? 1 : null].filter((x): x is number => x !== null);
  const ctx: RoundContext = {
    domains: new Map(),
    minDomain: 0,
    perNode: perNodeLimits.length > 0 ? Math.min(...perNodeLimits) : null,
    ports,
    totalWeight: workload.preferences.reduce((a, p) => a + p.weight, 0),
  };
  if (workload.spread) {
    // Domains are those of reachable nodes that meet the constraints (Kubernetes' nodeAffinityPolicy: Honor), full or not.
    for (const s of states) if (s.eligible) ctx.domains.set(s.domain, (ctx.domains.get(s.domain) ?? 0) + s.existing);
  }
  const chosen: string[] = [];
  let shown: Evaluation[] | null = null;
  let summary: string | null = null;
  for (let round = 0; round < Math.max(1, count); round++) {
    ctx.minDomain = ctx.domains.size > 0 ? Math.min(...ctx.domains.values()) : 0;
    const evaluations = states.map((s) => evaluate(s, workload, ctx, round === 0));
    if (round === 0) shown = evaluations;
    if (count === 0) break;
    let best: Evaluation | null = null;
    for (const e of evaluations) if (e.fits && better(e, best)) best = e;
    if (best === null) {
      // The round that failed is the one shown: again with every reason of every node.
      shown = round === 0 ? evaluations : states.map((s) => evaluate(s, workload, ctx, true));
      summary = summaryOf(shown, round, count);
      break;
    }
    const s = best.state;
    s.cpuUsed += workload.resources.cpu;
    s.memUsed += workload.resources.memoryBytes;
    s.placed += 1;
    if (workload.spread && s.eligible) ctx.domains.set(s.domain, (ctx.domains.get(s.domain) ?? 0) + 1);
    chosen.push(s.snap.name);
  }
  const verdicts = (shown ?? []).sort(compare).map(verdictOf);
  return { chosen, verdicts, summary };
}

/** Counted per reason kind (a node with two reasons counts in both, as in Kubernetes), fewest first, then by name. */
function summaryOf(evaluations: Evaluation[], round: number, count: number): string {
  const counts = new Map<string, number>();
  for (const e of evaluations) for (const k of new Set(e.rejections.map((r) => r.kind))) counts.set(k, (counts.get(k) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, n]) => `${n} ${k}`);
  const line = `0/${evaluations.length} nodes are available${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`;
  return round === 0 ? line : `${round} of ${count} replicas placed; for replica ${round + 1}, ${line}`;
}

/**
 * A node's verdict. The numbers are set when it is made; the texts (reasons,
 * the one-line text) are built when first read, so a decision that only
 * needs `chosen` (failover) does not format a hundred lines it never shows.
 */
class Verdict implements NodeVerdict {
  readonly node: string;
  readonly fits: boolean;
  readonly score: number;
  readonly shown: number;
  readonly replicas: number;
  readonly placed: number;
  readonly rejections: Rejection[];
  readonly parts: ScoreParts | null;
  #reasons: string[] | null = null;
  #text: string | null = null;

  constructor(e: Evaluation) {
    this.node = e.state.snap.name;
    this.fits = e.fits;
    this.score = e.score;
    this.shown = Math.round(e.score);
    this.replicas = e.state.existing + e.state.placed;
    this.placed = e.state.placed;
    this.rejections = e.rejections;
    this.parts = e.parts;
  }

  get reasons(): string[] {
    if (this.#reasons === null) {
      const p = this.parts;
      this.#reasons =
        !this.fits || !p
          ? this.rejections.map((r) => r.text)
          : [fitText(p), `balanced ${Math.round(p.balanced)}`, ...p.matched.map((m) => `preference ${m.text} +${m.weight}`)];
    }
    return this.#reasons;
  }

  get text(): string {
    if (this.#text === null) this.#text = textOf(this);
    return this.#text;
  }
}

function fitText(p: ScoreParts): string {
  return `${p.strategy} ${Math.round(p.fit)} (cpu ${Math.round(p.cpu)}, memory ${Math.round(p.memory)})`;
}

function textOf(v: NodeVerdict): string {
  const p = v.parts;
  if (!v.fits || !p) return `rejected: ${v.reasons.join('; ')}`;
  const balanced = Math.round(p.balanced);
  if (p.totalWeight === 0) return `score ${v.shown} = ${fitText(p)} ×2/3 + balanced ${balanced} ×1/3`;
  const prefs = p.matched.length > 0 ? p.matched.map((m) => ` + preference ${m.text} +${m.weight}`).join('') : ' + no preference matched';
  return `score ${v.shown} = (resources ${Math.round(p.resources)} [${fitText(p)}, balanced ${balanced}]${prefs}) ×100/${RESOURCE_WEIGHT + p.totalWeight}`;
}

function verdictOf(e: Evaluation): NodeVerdict {
  return new Verdict(e);
}

/** Cores as people write them: 0.5, 2, 0.25. */
export function cores(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** Bytes in binary units: 512 MiB, 1.5 GiB. */
export function bytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const shown = i === 0 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  return `${shown} ${units[i]}`;
}
