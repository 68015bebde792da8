import type { ContainerEvent, ContainerStats, ContainerSummary, HostMetrics, LogLine, ModelChange } from '../model/types.js';
import { byPrecedence, matches } from './match.js';
import { compileRegex, ruleFromLabels, type LogPattern } from './parse.js';
import { isValidTime } from '../model/duration.js';
import {
  DEFAULT_BACKOFF,
  LABEL_MAINTENANCE,
  LABEL_PRIORITY,
  type Action,
  type Rule,
  type RuleIssue,
  type RuleSet,
  type Sustain,
  type TriggerInfo,
  type Trigger,
  type TriggerKind,
} from './types.js';

interface DecisionBase {
  ts: number;
  rule: string;
  container: string;
  containerId: string;
  trigger: TriggerInfo;
  reason: string;
}

/** What the engine decided; the adapter journals each one and carries out `act`. */
export type Decision =
  | (DecisionBase & { kind: 'act'; action: Action; level: number; attempt: number; nextAllowedAt: number | null; notify: boolean })
  | (DecisionBase & { kind: 'defer'; action: Action; at: number })
  | (DecisionBase & { kind: 'skip' })
  | (DecisionBase & { kind: 'give-up'; action: Action });

/** A journaled decision, as `restore` reads it back. */
export interface PastDecision {
  kind: string;
  ts: number;
  rule?: string;
  container?: string;
  containerId?: string;
  level?: number;
  at?: number;
  action?: Action;
  trigger?: TriggerInfo;
}

/** Nodes and containers whose rules are silenced, until a time (null: until resumed). */
export interface Maintenance {
  node?: { until: number | null } | null;
  containers?: Record<string, { until: number | null }>;
}

interface Pending {
  at: number;
  action: Action;
  trigger: TriggerInfo;
  /** The container it is about: a container re-created under the same name is another one (absent in older state files). */
  containerId?: string;
}

interface KeyState {
  level: number;
  lastActionAt: number | null;
  actions: number[];
  gaveUpAt: number | null;
  /** The last time the rule's condition fired on the container (acted on or not): "without trouble" counts from here. */
  troubleAt: number | null;
  pending: Pending | null;
  /** Reasons skipped recently, so a repeating skip is journaled once per window. */
  skipped: Map<string, number>;
}

interface Cond {
  since: number | null;
  count: number;
}

/** An action of the agent on a container, from when it was decided until the container's new state after it is known. */
interface Busy {
  /** Actions in flight. */
  count: number;
  since: number;
  /** After a restart or start: until the engine's `start` event (or a listing started after `since`) says it runs again. */
  awaitStart: boolean;
  endedAt: number | null;
}

/** How long after a restart/start returned the agent waits for the `start` event before it counts the container's inputs again. */
const BUSY_SETTLE_MS = 5_000;

interface Live {
  c: ContainerSummary;
  labelRule: Rule | null;
  killedAt: number | null;
  oomAt: number | null;
  unhealthySince: number | null;
  /** True while `unhealthySince` is only when this engine first saw it unhealthy (no health log, no event yet). */
  unhealthyGuessed: boolean;
  /** Per rule: when its `unhealthy` condition next counts as held (after it fired, or a reset, it must hold again). */
  unhealthyDue: Map<string, number>;
  starts: number[];
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryPercent: number | null;
}

export type RuleState = 'armed' | 'pending' | 'backing-off' | 'given-up' | 'maintenance' | 'left-to-docker' | 'superseded';

/** A guard's state as the state file keeps it (per rule and container name): a KeyState without what is only kept in memory. */
export interface GuardRecord extends Omit<KeyState, 'skipped'> {
  rule: string;
  container: string;
}

/** Everything the agent must not forget across a restart, whatever the journal's rotation dropped. */
export interface GuardSnapshot {
  guards: GuardRecord[];
  /** Per container name: the end of the last exit the engine has seen, so a reconcile does not act on it twice. */
  exits: Record<string, number>;
}

/** One rule as it applies to one container right now (for `rules explain` and the TUI). */
export interface RuleStatus {
  rule: string;
  source: Rule['source'];
  container: string;
  state: RuleState;
  /** In words, e.g. "backing off: next restart allowed in 40s (3rd in 10m)". */
  detail: string;
  action: Action;
  triggers: string[];
  level: number;
  budgetUsed: number;
  budgetMax: number | null;
  nextAllowedAt: number | null;
  gaveUpAt: number | null;
}

const REQUESTED_STOP_WINDOW_MS = 60_000;
const OOM_WINDOW_MS = 10_000;
const SKIP_JOURNAL_WINDOW_MS = 600_000;
const MAX_LOG_TEST_CHARS = 64 * 1024;
/** What one rule may do to one container in a minute, whatever its guards: a chatty rule cannot flood the journal or the node. */
export const MAX_RULE_ACTIONS_PER_MINUTE = 60;
/** Actions kept per rule and container (budgets count these). */
const MAX_ACTIONS_KEPT = 1000;

export function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${s}`;
}

export function words(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'kill':
      return `kill (${a.signal})`;
    case 'exec':
      return `exec ${a.command.join(' ')}`;
    default:
      return a.kind;
  }
}

function pastTense(a: Action, name: string): string {
  switch (a.kind) {
    case 'restart':
      return `restarted ${name}`;
    case 'stop':
      return `stopped ${name}`;
    case 'start':
      return `started ${name}`;
    case 'kill':
      return `killed ${name} with ${a.signal}`;
    case 'exec':
      return `ran \`${a.command.join(' ')}\` in ${name}`;
    case 'notify':
      return `notified about ${name}`;
  }
}

function noun(a: Action): string {
  return a.kind === 'exec' ? 'exec' : a.kind === 'notify' ? 'notification' : a.kind;
}

export function describeTrigger(t: Trigger): string {
  const sustain = (s: Sustain) => (s === null ? '' : 'forMs' in s ? ` for ${words(s.forMs)}` : ` for ${s.samples} samples`);
  switch (t.kind) {
    case 'exit':
      return t.code === 'any' ? 'any exit' : 'an exit with a non-zero code';
    case 'oom':
      return 'an OOM kill';
    case 'unhealthy':
      return t.forMs > 0 ? `unhealthy for ${words(t.forMs)}` : 'turning unhealthy';
    case 'cpu':
      return `CPU above ${t.abovePercent}%${sustain(t.sustain)}`;
    case 'memory':
      return `memory above ${'percent' in t.above ? `${t.above.percent}% of its limit` : `${t.above.bytes} bytes`}${sustain(t.sustain)}`;
    case 'log':
      return `a ${t.stream === 'any' ? '' : `${t.stream} `}line matching /${t.pattern}/${t.flags}`;
    case 'restarts':
      return `more than ${t.moreThan} starts within ${words(t.withinMs)}`;
    case 'host': {
      const th = t.threshold;
      const what =
        t.metric === 'disk'
          ? `disk use above ${'percent' in th ? th.percent : 0}%`
          : t.metric === 'temperature'
            ? `temperature above ${'celsius' in th ? th.celsius : 0}°C`
            : `available memory below ${'percent' in th ? `${th.percent}%` : 'bytes' in th ? `${th.bytes} bytes` : ''}`;
      return `host ${what}${sustain(t.sustain)}`;
    }
  }
}

/** Whether `t` (of a lower rule) can never fire because `h` (of a higher one) takes the same input first. */
function subsumes(h: Trigger, t: Trigger): boolean {
  if (t.kind === 'exit') return h.kind === 'exit' && (h.code === 'any' || t.code === 'nonzero');
  if (t.kind === 'oom') return h.kind === 'oom' || (h.kind === 'exit');
  if (t.kind === 'unhealthy') return h.kind === 'unhealthy' && h.forMs === t.forMs;
  return JSON.stringify(h) === JSON.stringify(t);
}

/** The higher rule that takes every input of `rule` first (precedence), if one does. */
function supersededBy(rule: Rule, before: Rule[]): Rule | null {
  if (before.length === 0) return null;
  for (const h of before) if (rule.triggers.every((t) => h.triggers.some((x) => subsumes(x, t)))) return h;
  // Several higher rules together can cover it too; name the first.
  const all = rule.triggers.every((t) => before.some((h) => h.triggers.some((x) => subsumes(x, t))));
  return all ? (before[0] as Rule) : null;
}

/** What every decision about one container says: when, which rule, which container, what fired it. */
function about(rule: string, c: { name: string; id: string }, trigger: TriggerInfo, now: number): Omit<DecisionBase, 'reason'> {
  return { ts: now, rule, container: c.name, containerId: c.id, trigger };
}

function backoffDelay(rule: Rule, level: number): number {
  const b = rule.guards.backoff;
  if (!b || level <= 0) return 0;
  return Math.min(b.maxMs, b.minMs * 2 ** Math.min(level - 1, 40));
}

function resetAfter(rule: Rule): number {
  return rule.guards.backoff?.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs;
}

function windowOf(rule: Rule): number {
  return rule.guards.budget?.withinMs ?? resetAfter(rule);
}

/** Whether Docker's own restart policy already restarts the container after this exit. */
function dockerRestarts(policy: string, exitCode: number): boolean {
  if (policy === 'always' || policy === 'unless-stopped') return true;
  if (policy === 'on-failure') return exitCode !== 0;
  return false;
}

/**
 * The rule engine. Pure: rules, events, samples and the time come in;
 * decisions come out. It never touches Docker, files or timers: the
 * adapter (RuleAgent) executes `act` decisions, journals every decision,
 * and calls `tick(now)` at `nextWake()`.
 *
 * State is keyed by rule name and container name, so a container that is
 * re-created under the same name (compose) keeps its back-off, and the
 * state can be rebuilt from the journal after an agent restart.
 */
export class RuleEngine {
  #fileRules: Rule[] = [];
  #logRegex = new Map<Rule, (LogPattern | null)[]>();
  /** Per rule and container: when it acted lately, for MAX_RULE_ACTIONS_PER_MINUTE. */
  #ruleActs = new Map<string, number[]>();
  /** Per container name: end of the last exit seen (live or reconciled). */
  #exits = new Map<string, number>();
  #version = 0;
  #live = new Map<string, Live>();
  #byName = new Map<string, string>();
  #keys = new Map<string, KeyState>();
  #conds = new Map<string, Cond>();
  #maintenance: Maintenance = {};
  #issues: RuleIssue[] = [];
  #ruleSet: RuleSet | null = null;
  /** Per container ID: the agent's own actions on it in flight (its triggers are not counted meanwhile). */
  #busy = new Map<string, Busy>();

  setRules(ruleSet: RuleSet): void {
    this.#ruleSet = ruleSet;
    this.#fileRules = ruleSet.rules;
    this.#logRegex.clear();
    this.#conds.clear();
  }

  get sampleIntervalMs(): number | null {
    return this.#ruleSet?.sampleIntervalMs ?? null;
  }

  setMaintenance(m: Maintenance): void {
    this.#maintenance = m;
  }

  /** Problems found in containers' rule labels since the last call. */
  drainIssues(): RuleIssue[] {
    const out = this.#issues;
    this.#issues = [];
    return out;
  }

  /** Every rule in force: the file's and the containers' own. */
  rules(): Rule[] {
    const labelRules = [...this.#live.values()].flatMap((l) => (l.labelRule ? [l.labelRule] : []));
    return [...labelRules, ...this.#fileRules];
  }

  /** Whether any rule needs resource samples, log lines or host metrics. */
  needs(): { stats: boolean; host: boolean; logs: Set<string> } {
    const logs = new Set<string>();
    let stats = false;
    let host = false;
    for (const rule of this.rules()) {
      for (const t of rule.triggers) {
        if (t.kind === 'cpu' || t.kind === 'memory') stats = true;
        if (t.kind === 'host') host = true;
        if (t.kind === 'log') {
          for (const l of this.#live.values()) if (l.c.state === 'running' && matches(rule.match, l.c)) logs.add(l.c.id);
        }
      }
    }
    return { stats, host, logs };
  }

  /** Rebuilds back-off, budget, give-up and deferred actions from journaled decisions (oldest first). */
  restore(entries: Iterable<PastDecision>): void {
    for (const e of entries) {
      if (!e.rule || !e.container || typeof e.rule !== 'string' || typeof e.container !== 'string' || !isValidTime(e.ts)) continue;
      const s = this.#key(e.rule, e.container);
      const fired = e.trigger && isValidTime(e.trigger.eventTime) ? e.trigger.eventTime : e.ts;
      if (e.trigger && (e.trigger.kind === 'exit' || e.trigger.kind === 'oom') && isValidTime(e.trigger.eventTime)) {
        this.#exits.set(e.container, Math.max(this.#exits.get(e.container) ?? 0, e.trigger.eventTime));
      }
      switch (e.kind) {
        case 'act':
          s.level = typeof e.level === 'number' && Number.isFinite(e.level) && e.level >= 0 ? Math.min(e.level, 1000) : s.level + 1;
          s.lastActionAt = e.ts;
          s.actions.push(e.ts);
          if (s.actions.length > MAX_ACTIONS_KEPT) s.actions.splice(0, s.actions.length - MAX_ACTIONS_KEPT);
          s.troubleAt = Math.max(s.troubleAt ?? 0, fired);
          s.pending = null;
          break;
        case 'give-up':
          s.gaveUpAt = e.ts;
          s.troubleAt = Math.max(s.troubleAt ?? 0, fired);
          s.pending = null;
          break;
        case 'defer':
          if (isValidTime(e.at) && e.action && e.trigger) {
            s.pending = { at: e.at, action: e.action, trigger: e.trigger, ...(typeof e.containerId === 'string' && e.containerId ? { containerId: e.containerId } : {}) };
          }
          s.troubleAt = Math.max(s.troubleAt ?? 0, fired);
          break;
        case 'skip':
        case 'cancel':
          s.pending = null;
          if (e.trigger) s.troubleAt = Math.max(s.troubleAt ?? 0, fired);
          break;
        case 'reset':
          s.level = 0;
          s.gaveUpAt = null;
          s.actions = [];
          s.troubleAt = null;
          s.pending = null;
          break;
      }
    }
    this.#version++;
  }

  /** A counter that moves whenever guard state changes (the agent saves the state file when it does). */
  get version(): number {
    return this.#version;
  }

  /** The guard state, for the agent's state file. */
  snapshot(): GuardSnapshot {
    const guards: GuardRecord[] = [];
    for (const [key, s] of this.#keys) {
      if (s.level === 0 && s.lastActionAt === null && s.gaveUpAt === null && s.pending === null && s.troubleAt === null) continue;
      const [rule, container] = key.split('\0') as [string, string];
      guards.push({ rule, container, level: s.level, lastActionAt: s.lastActionAt, actions: s.actions.slice(-MAX_ACTIONS_KEPT), gaveUpAt: s.gaveUpAt, troubleAt: s.troubleAt, pending: s.pending });
    }
    return { guards, exits: Object.fromEntries(this.#exits) };
  }

  /** Loads a state file's guard state (already checked by the store); journal entries after it are then `restore`d on top. */
  load(snapshot: GuardSnapshot): void {
    for (const g of snapshot.guards) {
      const s = this.#key(g.rule, g.container);
      s.level = g.level;
      s.lastActionAt = g.lastActionAt;
      s.actions = g.actions.slice(-MAX_ACTIONS_KEPT);
      s.gaveUpAt = g.gaveUpAt;
      s.troubleAt = g.troubleAt;
      s.pending = g.pending;
    }
    for (const [name, at] of Object.entries(snapshot.exits)) this.#exits.set(name, Math.max(this.#exits.get(name) ?? 0, at));
    this.#version++;
  }

  /** Operator's reset: forgets back-off, budget, give-up and deferred actions of a container (all rules, or one); returns the rules reset. */
  reset(container: string, rule?: string, now?: number): string[] {
    const done: string[] = [];
    for (const [key, s] of this.#keys) {
      const [r, c] = key.split('\0') as [string, string];
      if (c !== container || (rule !== undefined && r !== rule)) continue;
      s.level = 0;
      s.gaveUpAt = null;
      s.actions = [];
      s.pending = null;
      s.troubleAt = null;
      s.skipped.clear();
      done.push(r);
    }
    // Re-armed: a condition that still holds must hold again for its whole duration, then the rule fires.
    const id = this.#byName.get(container);
    const l = id ? this.#live.get(id) : undefined;
    if (l) {
      const at = now ?? Date.now();
      for (const r of this.#rulesFor(l)) {
        if (rule !== undefined && r.name !== rule) continue;
        this.#conds.delete(`${r.name}\0cpu\0${l.c.id}`);
        this.#conds.delete(`${r.name}\0mem\0${l.c.id}`);
        for (const t of r.triggers) if (t.kind === 'unhealthy' && l.unhealthySince !== null) l.unhealthyDue.set(r.name, at + t.forMs);
      }
    }
    if (done.length > 0) this.#version++;
    return done;
  }

  /** Whether a rule of this name is in force (the file's, or a container's label rule). */
  hasRule(name: string): boolean {
    return this.rules().some((r) => r.name === name);
  }

  /** Whether the engine knows anything (state or journal history) about a container of this name. */
  knowsContainer(name: string): boolean {
    if (this.#byName.has(name) || this.#exits.has(name)) return true;
    for (const key of this.#keys.keys()) if (key.endsWith(`\0${name}`)) return true;
    return false;
  }

  /**
   * The agent carries out an action on a container: until it is done and
   * the container's new state is known, that container's triggers are
   * neither counted nor fired (a restart that takes 10 s is not one more
   * incident), deferred actions on it wait, and how long a CPU/memory
   * condition held starts again from zero.
   */
  beginAction(containerId: string, action: Action, now: number): void {
    const b = this.#busy.get(containerId) ?? { count: 0, since: now, awaitStart: false, endedAt: null };
    b.count++;
    b.since = Math.min(b.since, now);
    if (action.kind === 'restart' || action.kind === 'start') b.awaitStart = true;
    b.endedAt = null;
    this.#busy.set(containerId, b);
    for (const key of [...this.#conds.keys()]) if (key.endsWith(`\0${containerId}`)) this.#conds.delete(key);
  }

  /** The action begun with `beginAction` returned (done or failed). */
  endAction(containerId: string, now: number, ok = true): void {
    const b = this.#busy.get(containerId);
    if (!b) return;
    b.count = Math.max(0, b.count - 1);
    if (b.count > 0) return;
    b.endedAt = now;
    if (!ok) b.awaitStart = false;
    if (!b.awaitStart) this.#busy.delete(containerId);
  }

  /** Whether an action of the agent on this container is in flight, or its outcome not yet seen. */
  #isBusy(id: string, now: number): boolean {
    const b = this.#busy.get(id);
    if (!b) return false;
    if (b.count > 0) return true;
    if (b.awaitStart && b.endedAt !== null && now - b.endedAt < BUSY_SETTLE_MS) return true;
    this.#busy.delete(id);
    return false;
  }

  /** The container runs again after the agent's restart/start: its inputs count again. */
  #started(id: string, at: number): void {
    const b = this.#busy.get(id);
    if (!b || !b.awaitStart || at < b.since - 1000) return;
    b.awaitStart = false;
    if (b.count === 0) this.#busy.delete(id);
  }

  onModel(change: ModelChange, now: number): void {
    if (change.kind === 'reset') {
      const seen = new Set<string>();
      for (const c of change.containers) {
        seen.add(c.id);
        this.#upsert(c, now);
      }
      for (const id of [...this.#live.keys()]) if (!seen.has(id)) this.#drop(id);
    } else if (change.kind === 'upsert') {
      this.#upsert(change.container, now);
    } else {
      this.#drop(change.id);
    }
  }

  #upsert(c: ContainerSummary, now: number): void {
    const old = this.#live.get(c.id);
    if (old) {
      if (old.c.name !== c.name) this.#byName.delete(old.c.name);
      const labelsChanged = JSON.stringify(old.c.labels) !== JSON.stringify(c.labels);
      // A listing taken before the engine's `start` event must not bring back the run before it.
      const known = old.c.startedAt;
      if (known !== null && (c.startedAt === null || c.startedAt < known) && c.state === 'running') c = { ...c, startedAt: known };
      else if (c.state === 'running' && c.startedAt !== null) this.#started(c.id, c.startedAt);
      old.c = c;
      if (labelsChanged) old.labelRule = this.#labelRule(c);
      if (c.state === 'running' && c.health === 'unhealthy') {
        // The engine's own facts (the health log) replace a guess made from the first sight of it.
        if (old.unhealthySince === null || (old.unhealthyGuessed && isValidTime(c.unhealthySince) && c.unhealthySince <= now)) {
          old.unhealthySince = this.#unhealthyFrom(c, now);
          old.unhealthyGuessed = !isValidTime(c.unhealthySince);
        }
      } else if (c.health !== 'unhealthy' || c.state !== 'running') {
        old.unhealthySince = null;
        old.unhealthyDue.clear();
      }
    } else {
      this.#live.set(c.id, {
        c,
        labelRule: this.#labelRule(c),
        killedAt: null,
        oomAt: null,
        unhealthySince: c.health === 'unhealthy' && c.state === 'running' ? this.#unhealthyFrom(c, now) : null,
        unhealthyGuessed: !isValidTime(c.unhealthySince),
        unhealthyDue: new Map(),
        starts: [],
        cpuPercent: null,
        memoryBytes: null,
        memoryPercent: null,
      });
    }
    this.#byName.set(c.name, c.id);
  }

  /** When it turned unhealthy, by the engine's own health log when it says; else from now. */
  #unhealthyFrom(c: ContainerSummary, now: number): number {
    const since = c.unhealthySince;
    const from = isValidTime(since) && since <= now ? since : now;
    // The health log outlives restarts: a failing streak counts from this run's start, not across earlier runs.
    return isValidTime(c.startedAt) && c.startedAt <= now ? Math.max(from, c.startedAt) : from;
  }

  #labelRule(c: ContainerSummary): Rule | null {
    const { rule, issues } = ruleFromLabels(c);
    this.#issues.push(...issues);
    return rule;
  }

  #drop(id: string): void {
    const l = this.#live.get(id);
    if (!l) return;
    this.#live.delete(id);
    this.#busy.delete(id);
    if (this.#byName.get(l.c.name) === id) this.#byName.delete(l.c.name);
  }

  #key(rule: string, container: string): KeyState {
    const k = `${rule}\0${container}`;
    let s = this.#keys.get(k);
    if (!s) {
      s = { level: 0, lastActionAt: null, actions: [], gaveUpAt: null, troubleAt: null, pending: null, skipped: new Map() };
      this.#keys.set(k, s);
    }
    return s;
  }

  #rulesFor(l: Live): Rule[] {
    const out = this.#fileRules.filter((r) => matches(r.match, l.c));
    if (l.labelRule) out.push(l.labelRule);
    return out.sort(byPrecedence);
  }

  /** An engine event (die, oom, kill, start, health_status: …). */
  onEvent(ev: ContainerEvent, now: number): Decision[] {
    const l = this.#live.get(ev.id);
    if (!l) return [];
    const at = Math.floor(ev.timeNano / 1e6) || now;
    const action = ev.action;
    if (action === 'kill') {
      l.killedAt = at;
      return [];
    }
    if (action === 'oom') {
      l.oomAt = at;
      return [];
    }
    if (action === 'start') {
      this.#started(l.c.id, at);
      l.killedAt = null;
      l.unhealthySince = null;
      l.unhealthyDue.clear();
      l.c = { ...l.c, state: 'running', startedAt: at, health: l.c.health === 'none' ? 'none' : 'starting' };
      l.starts.push(at);
      if (l.starts.length > 1000) l.starts.splice(0, l.starts.length - 1000);
      return this.#fire(l, now, (t) => {
        if (t.kind !== 'restarts') return null;
        const recent = l.starts.filter((s) => at - s <= t.withinMs);
        if (recent.length <= t.moreThan) return null;
        l.starts = [];
        return { kind: 'restarts', detail: `started ${recent.length} times within ${words(t.withinMs)}`, eventTime: at, value: recent.length };
      });
    }
    if (action === 'die') {
      const code = ev.exitCode ?? Number(ev.attributes.exitCode ?? NaN);
      const startedAt = l.c.startedAt;
      // Already taken into account (reconciled after a gap, or the engine replaying its events): not twice.
      const seen = this.#exits.get(l.c.name);
      const already = seen !== undefined && startedAt !== null && seen > startedAt && seen > at - 1000;
      this.#exits.set(l.c.name, Math.max(seen ?? 0, at));
      this.#version++;
      l.c = { ...l.c, state: 'exited', exitCode: Number.isFinite(code) ? code : l.c.exitCode, finishedAt: at };
      l.unhealthySince = null;
      l.unhealthyDue.clear();
      if (already) {
        l.oomAt = null;
        return [];
      }
      const oom = l.oomAt !== null && at - l.oomAt <= OOM_WINDOW_MS;
      const requested = !oom && l.killedAt !== null && at - l.killedAt <= REQUESTED_STOP_WINDOW_MS;
      l.oomAt = null;
      if (requested) return [];
      return this.#fire(
        l,
        now,
        (t) => {
          if (t.kind === 'oom' && oom) return { kind: 'oom', detail: `was OOM-killed (exit code ${code})`, eventTime: at, value: code };
          if (t.kind === 'exit' && (t.code === 'any' || code !== 0)) {
            return { kind: 'exit', detail: `exited with code ${code}${oom ? ' (OOM-killed)' : ''}`, eventTime: at, value: code };
          }
          return null;
        },
        startedAt,
        code,
      );
    }
    if (action.startsWith('health_status')) {
      const status = action.slice(action.indexOf(':') + 1).trim();
      if (status !== 'unhealthy') {
        l.unhealthySince = null;
        l.unhealthyDue.clear();
        l.c = { ...l.c, health: status === 'healthy' ? 'healthy' : l.c.health };
        return [];
      }
      l.c = { ...l.c, health: 'unhealthy' };
      if (l.unhealthySince !== null && !l.unhealthyGuessed) return [];
      l.unhealthySince = Math.min(at, l.unhealthySince ?? at);
      if (l.c.startedAt !== null && l.unhealthySince < l.c.startedAt) l.unhealthySince = Math.min(at, l.c.startedAt);
      l.unhealthyGuessed = false;
      return this.#fireUnhealthy(l, now);
    }
    if (action === 'destroy') {
      // What was deferred for this container is about it, not about whatever takes its name next.
      const out: Decision[] = [];
      for (const [key, s] of this.#keys) {
        const p = s.pending;
        if (!p || p.containerId !== ev.id || !key.endsWith(`\0${l.c.name}`)) continue;
        s.pending = null;
        this.#version++;
        out.push(this.#cancel(key.slice(0, key.indexOf('\0')), l.c.name, ev.id, p, now, `the container it was about (${ev.id.slice(0, 12)}) was destroyed`));
      }
      this.#drop(ev.id);
      return out;
    }
    return [];
  }

  /** A round of resource samples (cpu and memory conditions). */
  onStats(stats: ContainerStats[], now: number): Decision[] {
    const out: Decision[] = [];
    for (const s of stats) {
      const l = this.#live.get(s.id);
      if (!l) continue;
      l.cpuPercent = s.cpuPercent;
      l.memoryBytes = s.memoryBytes;
      l.memoryPercent = s.memoryPercent;
      out.push(
        ...this.#fire(l, now, (t, rule) => {
          if (t.kind === 'cpu') {
            return this.#sustained(`${rule.name}\0cpu\0${l.c.id}`, s.cpuPercent > t.abovePercent, t.sustain, now, (span) => ({
              kind: 'cpu',
              detail: `CPU ${s.cpuPercent.toFixed(0)}% above ${t.abovePercent}%${span}`,
              value: s.cpuPercent,
            }));
          }
          if (t.kind === 'memory') {
            const above = 'percent' in t.above ? s.memoryPercent > t.above.percent : s.memoryBytes > t.above.bytes;
            return this.#sustained(`${rule.name}\0mem\0${l.c.id}`, above, t.sustain, now, (span) => ({
              kind: 'memory',
              detail: `memory ${(s.memoryBytes / 1048576).toFixed(0)} MiB (${s.memoryPercent.toFixed(0)}% of its limit) above ${
                'percent' in t.above ? `${t.above.percent}%` : `${(t.above.bytes / 1048576).toFixed(0)} MiB`
              }${span}`,
              value: s.memoryBytes,
            }));
          }
          return null;
        }),
      );
    }
    return out;
  }

  /** A line of a container's logs (log conditions). */
  onLog(containerId: string, line: LogLine, now: number): Decision[] {
    const l = this.#live.get(containerId);
    if (!l) return [];
    const text = line.text.length > MAX_LOG_TEST_CHARS ? line.text.slice(0, MAX_LOG_TEST_CHARS) : line.text;
    return this.#fire(l, now, (t, rule) => {
      if (t.kind !== 'log') return null;
      if (t.stream !== 'any' && line.stream !== t.stream && line.stream !== 'tty') return null;
      const re = this.#regex(rule, t);
      if (!re || !re.test(text)) return null;
      const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
      return { kind: 'log', detail: `logged ${JSON.stringify(shown)}`, eventTime: now };
    });
  }

  #regex(rule: Rule, t: Extract<Trigger, { kind: 'log' }>): LogPattern | null {
    let list = this.#logRegex.get(rule);
    if (!list) {
      list = rule.triggers.map((x) => {
        if (x.kind !== 'log') return null;
        try {
          return compileRegex(x.pattern, x.flags);
        } catch {
          return null; // refused by the parser already; a rule built elsewhere with a bad pattern never matches
        }
      });
      this.#logRegex.set(rule, list);
    }
    return list[rule.triggers.indexOf(t)] ?? null;
  }

  /** Host metrics (load shedding): acts on the matching container with the lowest `outpost.priority` label first. */
  onHost(h: HostMetrics, now: number): Decision[] {
    const out: Decision[] = [];
    for (const rule of [...this.#fileRules].sort(byPrecedence)) {
      for (const t of rule.triggers) {
        if (t.kind !== 'host') continue;
        let value: number | null = null;
        let holds = false;
        let what = '';
        const th = t.threshold;
        if (t.metric === 'disk' && 'percent' in th) {
          value = h.disks.reduce((m, d) => Math.max(m, d.usePercent), 0);
          holds = value > th.percent;
          what = `disk ${value.toFixed(0)}% used`;
        } else if (t.metric === 'temperature' && 'celsius' in th) {
          value = h.temperatureC;
          holds = value !== null && value > th.celsius;
          what = `temperature ${value ?? '?'}°C`;
        } else if (t.metric === 'memory-available') {
          value = h.memAvailableBytes;
          holds = 'percent' in th ? (h.memAvailableBytes / Math.max(1, h.memTotalBytes)) * 100 < th.percent : 'bytes' in th && h.memAvailableBytes < th.bytes;
          what = `${(h.memAvailableBytes / 1048576).toFixed(0)} MiB available`;
        }
        const info = this.#sustained(`${rule.name}\0host`, holds, t.sustain, now, (span) => ({
          kind: 'host' as const,
          detail: `host ${what}${span}`,
          ...(value !== null ? { value } : {}),
        }));
        if (!info) continue;
        const victims = [...this.#live.values()]
          .filter((l) => l.c.state === 'running' && matches(rule.match, l.c) && !this.#isBusy(l.c.id, now))
          .sort((a, b) => Number(a.c.labels[LABEL_PRIORITY] ?? 0) - Number(b.c.labels[LABEL_PRIORITY] ?? 0) || a.c.name.localeCompare(b.c.name));
        for (const v of victims) {
          const d = this.#guard(rule, v, info, now, v.c.startedAt);
          if (!d) continue;
          out.push(d);
          if (d.kind === 'act' || d.kind === 'defer') break;
        }
      }
    }
    return out;
  }

  #sustained(key: string, holds: boolean, sustain: Sustain, now: number, info: (span: string) => TriggerInfo): TriggerInfo | null {
    let cond = this.#conds.get(key);
    if (!holds) {
      if (cond) this.#conds.delete(key);
      return null;
    }
    if (!cond) {
      cond = { since: now, count: 0 };
      this.#conds.set(key, cond);
    }
    cond.count++;
    const since = cond.since ?? now;
    const ok = sustain === null || ('forMs' in sustain ? now - since >= sustain.forMs : cond.count >= sustain.samples);
    if (!ok) return null;
    const span = sustain === null ? '' : 'forMs' in sustain ? ` for ${words(now - since)}` : ` for ${cond.count} samples`;
    this.#conds.delete(key);
    return info(span);
  }

  /**
   * Fires the rules of one container whose trigger `test` accepts the input.
   * Only the first in precedence decides; the others are superseded.
   */
  #fire(
    l: Live,
    now: number,
    test: (t: Trigger, rule: Rule) => TriggerInfo | null,
    startedAt: number | null = l.c.startedAt,
    exitCode?: number,
  ): Decision[] {
    if (this.#isBusy(l.c.id, now)) return [];
    for (const rule of this.#rulesFor(l)) {
      for (const t of rule.triggers) {
        const info = test(t, rule);
        if (!info) continue;
        if (
          exitCode !== undefined &&
          rule.action.kind !== 'notify' &&
          (t.kind === 'exit' || t.kind === 'oom') &&
          dockerRestarts(l.c.restartPolicy, exitCode)
        ) {
          return this.#skip(
            rule,
            l,
            info,
            now,
            'policy',
            `left to Docker: its restart policy \`${l.c.restartPolicy}\` restarts ${l.c.name} after this exit`,
          );
        }
        const d = this.#guard(rule, l, info, now, startedAt);
        return d ? [d] : [];
      }
    }
    return [];
  }

  #maintained(l: Live, now: number): string | null {
    if (/^(1|true|yes|on)$/i.test(l.c.labels[LABEL_MAINTENANCE] ?? '')) return `${l.c.name} is labelled ${LABEL_MAINTENANCE}`;
    const n = this.#maintenance.node;
    if (n && (n.until === null || n.until > now)) return `rules are paused on this node${n.until === null ? '' : ` until ${new Date(n.until).toISOString()}`}`;
    const c = this.#maintenance.containers?.[l.c.name];
    if (c && (c.until === null || c.until > now)) return `rules are paused for ${l.c.name}${c.until === null ? '' : ` until ${new Date(c.until).toISOString()}`}`;
    return null;
  }

  #skip(rule: Rule, l: Live, trigger: TriggerInfo, now: number, kind: string, reason: string): Decision[] {
    const s = this.#key(rule.name, l.c.name);
    const last = s.skipped.get(kind);
    if (last !== undefined && now - last < SKIP_JOURNAL_WINDOW_MS) return [];
    s.skipped.set(kind, now);
    return [{ kind: 'skip', ...about(rule.name, l.c, trigger, now), reason }];
  }

  /** Back-off, budget, cooldown, maintenance: whether to act now, later, or not at all. */
  #guard(rule: Rule, l: Live, trigger: TriggerInfo, now: number, startedAt: number | null): Decision | null {
    const name = l.c.name;
    const silenced = this.#maintained(l, now);
    if (silenced) return this.#skip(rule, l, trigger, now, 'maintenance', `not acting on ${name}: ${silenced}`)[0] ?? null;
    const s = this.#key(rule.name, name);
    const when = trigger.eventTime ?? now;
    this.#version++;
    if (s.lastActionAt !== null || s.gaveUpAt !== null) {
      // "Without trouble" means it: the last time this condition fired counts, acted on or not.
      const stableFrom = Math.max(startedAt ?? 0, s.lastActionAt ?? 0, s.gaveUpAt ?? 0, s.troubleAt ?? 0);
      if (when - stableFrom >= resetAfter(rule)) {
        s.level = 0;
        s.gaveUpAt = null;
        s.actions = [];
        s.skipped.clear();
      }
    }
    s.troubleAt = Math.max(s.troubleAt ?? 0, when);
    if (s.gaveUpAt !== null) {
      return (
        this.#skip(
          rule,
          l,
          trigger,
          now,
          'given-up',
          `not acting on ${name}: gave up at ${new Date(s.gaveUpAt).toISOString()}; it must run ${words(resetAfter(rule))} without trouble first (or be re-armed: outpost rules reset ${name})`,
        )[0] ?? null
      );
    }
    if (s.pending) return null;
    const recent = s.actions.filter((t) => now - t < windowOf(rule));
    s.actions = recent;
    const budget = rule.guards.budget;
    if (budget && recent.length >= budget.max) {
      s.gaveUpAt = now;
      return {
        kind: 'give-up',
        ...about(rule.name, l.c, trigger, now),
        action: rule.action,
        reason: `gave up on ${name}: ${trigger.detail}; ${recent.length} ${noun(rule.action)}s within ${words(budget.withinMs)} already (budget ${budget.max}/${words(budget.withinMs)})`,
      };
    }
    const rateKey = `${rule.name}\0${name}`;
    const acts = (this.#ruleActs.get(rateKey) ?? []).filter((t) => now - t < 60_000);
    this.#ruleActs.set(rateKey, acts);
    if (acts.length >= MAX_RULE_ACTIONS_PER_MINUTE) {
      return (
        this.#skip(
          rule,
          l,
          trigger,
          now,
          'rate',
          `not acting on ${name}: rule ${rule.name} already acted on it ${acts.length} times in the last minute (at most ${MAX_RULE_ACTIONS_PER_MINUTE}); give the rule a cooldown`,
        )[0] ?? null
      );
    }
    const delay = backoffDelay(rule, s.level);
    const allowedAt = s.lastActionAt === null ? now : Math.max(s.lastActionAt + delay, s.lastActionAt + rule.guards.cooldownMs);
    if (allowedAt > now) {
      s.pending = { at: allowedAt, action: rule.action, trigger, containerId: l.c.id };
      const why = delay >= rule.guards.cooldownMs ? `back-off ${words(delay)} after the ${ordinal(s.level)} ${noun(rule.action)}` : `cooldown ${words(rule.guards.cooldownMs)}`;
      return {
        kind: 'defer',
        ...about(rule.name, l.c, trigger, now),
        action: rule.action,
        at: allowedAt,
        reason: `will ${describeAction(rule.action)} ${name} in ${words(allowedAt - now)}: ${trigger.detail}; ${why}`,
      };
    }
    return this.#act(rule, l, s, trigger, now);
  }

  #act(rule: Rule, l: Live, s: KeyState, trigger: TriggerInfo, now: number): Decision {
    s.level++;
    s.lastActionAt = now;
    s.actions.push(now);
    if (s.actions.length > MAX_ACTIONS_KEPT) s.actions.splice(0, s.actions.length - MAX_ACTIONS_KEPT);
    s.pending = null;
    this.#version++;
    const rateKey = `${rule.name}\0${l.c.name}`;
    const acts = this.#ruleActs.get(rateKey) ?? [];
    acts.push(now);
    if (acts.length > MAX_RULE_ACTIONS_PER_MINUTE * 2) acts.splice(0, acts.length - MAX_RULE_ACTIONS_PER_MINUTE * 2);
    this.#ruleActs.set(rateKey, acts);
    const attempt = s.actions.length;
    const next = backoffDelay(rule, s.level);
    const gap = Math.max(next, rule.guards.cooldownMs);
    const parts = [`${pastTense(rule.action, l.c.name)}: ${trigger.detail}`];
    parts.push(`${ordinal(attempt)} ${noun(rule.action)} in ${words(windowOf(rule))}${rule.guards.budget ? ` (budget ${rule.guards.budget.max})` : ''}`);
    if (gap > 0) parts.push(`next allowed after ${words(gap)}`);
    return {
      kind: 'act',
      ...about(rule.name, l.c, trigger, now),
      action: rule.action,
      level: s.level,
      attempt,
      nextAllowedAt: gap > 0 ? now + gap : null,
      notify: rule.notify || rule.action.kind === 'notify',
      reason: parts.join('; '),
    };
  }

  /** When `tick` next has something to do (deferred actions, `unhealthy for`), or null. */
  nextWake(): number | null {
    let next: number | null = null;
    const take = (t: number) => {
      if (next === null || t < next) next = t;
    };
    // A container the agent acts on is not woken for until the action returns (the agent reschedules then), or its settling ends.
    const busyUntil = (id: string | undefined): number | null => {
      const b = id === undefined ? undefined : this.#busy.get(id);
      if (!b) return 0;
      if (b.count > 0 || b.endedAt === null) return null;
      return b.awaitStart ? b.endedAt + BUSY_SETTLE_MS : 0;
    };
    for (const [key, s] of this.#keys) {
      if (!s.pending) continue;
      const until = busyUntil(this.#byName.get(key.slice(key.indexOf('\0') + 1)));
      if (until !== null) take(Math.max(s.pending.at, until));
    }
    for (const l of this.#live.values()) {
      if (l.unhealthySince === null) continue;
      const until = busyUntil(l.c.id);
      if (until === null) continue;
      for (const r of this.#rulesFor(l)) for (const t of r.triggers) if (t.kind === 'unhealthy') take(Math.max(this.#unhealthyDueAt(l, r, t.forMs), until));
    }
    return next;
  }

  /** Runs what is due: deferred actions whose time came (if still needed) and `unhealthy for` conditions. */
  tick(now: number): Decision[] {
    const out: Decision[] = [];
    for (const [key, s] of this.#keys) {
      if (!s.pending || s.pending.at > now) continue;
      const [ruleName, cname] = key.split('\0') as [string, string];
      const rule = this.rules().find((r) => r.name === ruleName);
      const id = this.#byName.get(cname);
      const l = id ? this.#live.get(id) : undefined;
      // The agent's own action on it is still in flight: the deferred one waits for its outcome.
      if (l && this.#isBusy(l.c.id, now)) continue;
      const p = s.pending;
      s.pending = null;
      const was = typeof p.containerId === 'string' ? p.containerId : null;
      if (was !== null && (!l || l.c.id !== was)) {
        out.push(this.#cancel(ruleName, cname, was, p, now, l ? `the container it was about (${was.slice(0, 12)}) was re-created (now ${l.c.id.slice(0, 12)})` : `the container it was about (${was.slice(0, 12)}) was destroyed`));
        continue;
      }
      if (!rule || !l || !matches(rule.match, l.c)) {
        out.push(this.#cancel(ruleName, cname, id ?? '', p, now, `${cname} or the rule is gone`));
        continue;
      }
      const still =
        p.trigger.kind === 'exit' || p.trigger.kind === 'oom'
          ? l.c.state !== 'running' && l.c.state !== 'restarting'
          : p.trigger.kind === 'unhealthy'
            ? l.unhealthySince !== null
            : true;
      if (!still) {
        out.push(this.#cancel(ruleName, cname, l.c.id, p, now, `${cname} recovered by itself (${l.c.state}${l.c.health !== 'none' ? `, ${l.c.health}` : ''})`));
        continue;
      }
      const silenced = this.#maintained(l, now);
      if (silenced) {
        out.push(this.#cancel(ruleName, cname, l.c.id, p, now, silenced));
        continue;
      }
      out.push(this.#act(rule, l, s, p.trigger, now));
    }
    for (const l of this.#live.values()) if (l.unhealthySince !== null) out.push(...this.#fireUnhealthy(l, now));
    return out;
  }

  /** When a rule's `unhealthy` condition counts as held: its duration after the turn, or after it last fired or was re-armed. */
  #unhealthyDueAt(l: Live, rule: Rule, forMs: number): number {
    return l.unhealthyDue.get(rule.name) ?? (l.unhealthySince ?? 0) + forMs;
  }

  /**
   * Fires the `unhealthy` rules whose condition has held long enough. After
   * firing (acted on, deferred or skipped), each rule whose condition was due
   * must see it hold again for its duration (at least one sample interval)
   * before it fires again: a container that stays unhealthy is taken up
   * again after a reset or a give-up, never in a loop.
   */
  #fireUnhealthy(l: Live, now: number): Decision[] {
    const since = l.unhealthySince;
    if (since === null || this.#isBusy(l.c.id, now)) return [];
    const due: { rule: Rule; forMs: number }[] = [];
    for (const r of this.#rulesFor(l)) for (const t of r.triggers) if (t.kind === 'unhealthy' && this.#unhealthyDueAt(l, r, t.forMs) <= now) due.push({ rule: r, forMs: t.forMs });
    if (due.length === 0) return [];
    const out = this.#fire(l, now, (t, rule) => {
      if (t.kind !== 'unhealthy' || !due.some((d) => d.rule === rule)) return null;
      return { kind: 'unhealthy', detail: now - since < 1000 ? 'turned unhealthy' : `unhealthy for ${words(now - since)}`, eventTime: now - since < 1000 ? since : now };
    });
    const floor = this.sampleIntervalMs ?? 5_000;
    for (const d of due) l.unhealthyDue.set(d.rule.name, now + Math.max(d.forMs, floor));
    return out;
  }

  /**
   * Exits that happened while nobody watched (the agent was down, starting,
   * or cut off from the engine since `since`): each container still exited
   * whose run ended after `since`, and whose exit was not seen, goes through
   * the normal rules and guards as if its `die` had been seen live, at the
   * engine's own FinishedAt. A SIGTERM/SIGKILL exit (143, 137 without an OOM
   * kill) is taken as a stop asked for (docker stop or kill), as a `kill`
   * event before the `die` is when seen live.
   */
  reconcile(since: number, now: number): Decision[] {
    const out: Decision[] = [];
    for (const l of [...this.#live.values()]) {
      const c = l.c;
      if (c.state !== 'exited' && c.state !== 'dead') continue;
      const fin = c.finishedAt;
      if (!isValidTime(fin) || fin <= since || fin > now + 60_000) continue;
      const seen = this.#exits.get(c.name);
      if (seen !== undefined && (c.startedAt !== null ? seen > c.startedAt : seen >= fin - 1000)) continue;
      const code = c.exitCode ?? 0;
      if (c.oomKilled) l.oomAt = fin;
      else if (code === 137 || code === 143) l.killedAt = fin;
      out.push(
        ...this.onEvent(
          { node: c.node, id: c.id, name: c.name, image: c.image, action: 'die', timeNano: fin * 1e6, exitCode: code, attributes: { exitCode: String(code) } },
          now,
        ),
      );
    }
    return out;
  }

  #cancel(rule: string, container: string, containerId: string, p: Pending, now: number, why: string): Decision {
    return { kind: 'skip', ts: now, rule, container, containerId, trigger: p.trigger, reason: `dropped the deferred ${describeAction(p.action)} of ${container}: ${why}` };
  }

  /** How every rule applies to every container it matches (or to one container). */
  explain(now: number, container?: string): RuleStatus[] {
    const out: RuleStatus[] = [];
    const lives = [...this.#live.values()].filter((l) => container === undefined || l.c.name === container || l.c.id.startsWith(container));
    for (const l of lives.sort((a, b) => a.c.name.localeCompare(b.c.name))) {
      const ordered = this.#rulesFor(l);
      ordered.forEach((rule, i) => out.push(this.#status(rule, l, now, ordered.slice(0, i))));
    }
    return out;
  }

  #status(rule: Rule, l: Live, now: number, before: Rule[] = []): RuleStatus {
    const s = this.#keys.get(`${rule.name}\0${l.c.name}`);
    const used = s ? s.actions.filter((t) => now - t < windowOf(rule)).length : 0;
    const base = {
      rule: rule.name,
      source: rule.source,
      container: l.c.name,
      action: rule.action,
      triggers: rule.triggers.map(describeTrigger),
      level: s?.level ?? 0,
      budgetUsed: used,
      budgetMax: rule.guards.budget?.max ?? null,
      nextAllowedAt: null as number | null,
      gaveUpAt: s?.gaveUpAt ?? null,
    };
    const act = describeAction(rule.action);
    const silenced = this.#maintained(l, now);
    if (silenced) return { ...base, state: 'maintenance', detail: `silenced: ${silenced}` };
    if (s?.gaveUpAt != null) {
      return { ...base, state: 'given-up', detail: `gave up ${words(now - s.gaveUpAt)} ago after ${used} ${noun(rule.action)}s; clears after ${words(resetAfter(rule))} without trouble, or with \`outpost rules reset ${l.c.name}\`` };
    }
    if (s?.pending) {
      return { ...base, state: 'pending', nextAllowedAt: s.pending.at, detail: `will ${act} in ${words(s.pending.at - now)} (${s.pending.trigger.detail})` };
    }
    const over = supersededBy(rule, before);
    if (over) {
      return {
        ...base,
        state: 'superseded',
        detail: `never acts on ${l.c.name}: rule ${over.name} takes precedence on the same condition${rule.triggers.length > 1 ? 's' : ''} (${
          over.priority !== rule.priority ? `priority ${over.priority} over ${rule.priority}` : over.source.kind === 'labels' && rule.source.kind !== 'labels' ? 'the container\'s own label rule first' : 'earlier in the file'
        }); give ${over.name} \`notify: true\` to be told as well`,
      };
    }
    const onlyExits = rule.triggers.every((t) => t.kind === 'exit' || t.kind === 'oom');
    if (onlyExits && rule.action.kind !== 'notify' && dockerRestarts(l.c.restartPolicy, 1)) {
      return { ...base, state: 'left-to-docker', detail: `Docker's restart policy \`${l.c.restartPolicy}\` restarts it after a failure; this rule leaves those exits alone` };
    }
    if (s && s.lastActionAt !== null) {
      const allowedAt = Math.max(s.lastActionAt + backoffDelay(rule, s.level), s.lastActionAt + rule.guards.cooldownMs);
      if (allowedAt > now) {
        return {
          ...base,
          state: 'backing-off',
          nextAllowedAt: allowedAt,
          detail: `backing off: would ${act} in ${words(allowedAt - now)} at the earliest (${ordinal(used)} in ${words(windowOf(rule))} so far)`,
        };
      }
    }
    const budget = rule.guards.budget ? `; budget ${used}/${rule.guards.budget.max} used in ${words(rule.guards.budget.withinMs)}` : '';
    const current: string[] = [];
    if (rule.triggers.some((t) => t.kind === 'cpu') && l.cpuPercent !== null) current.push(`CPU now ${l.cpuPercent.toFixed(0)}%`);
    if (rule.triggers.some((t) => t.kind === 'memory') && l.memoryBytes !== null) {
      current.push(`memory now ${(l.memoryBytes / 1048576).toFixed(0)} MiB (${(l.memoryPercent ?? 0).toFixed(0)}%)`);
    }
    // Only where it means something for this rule: an exit rule does not care how long the container has been unhealthy.
    if (l.unhealthySince !== null && rule.triggers.some((t) => t.kind === 'unhealthy')) current.push(`unhealthy for ${words(now - l.unhealthySince)}`);
    return {
      ...base,
      state: 'armed',
      detail: `armed: would ${act} on ${base.triggers.join(' or ')}${budget}${current.length ? `; ${current.join(', ')}` : ''}`,
    };
  }
}
