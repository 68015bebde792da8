/**
 * The rule engine's guards, per rule and container: back-off, budget,
 * cooldown, give-up, the per-minute rate limit, and deferred actions. Given
 * a trigger that fired, they decide whether to act now, later, or not at all.
 */
import { isValidTime } from '../model/duration.js';
import type { ContainerSummary } from '../model/types.js';
import { about, type Decision, type PastDecision } from './decisions.js';
import { DEFAULT_BACKOFF, type Action, type Rule, type Trigger, type TriggerInfo } from './types.js';
import { describeAction, noun, ordinal, pastTense, words } from './wording.js';

/** Nodes and containers whose rules are silenced, until a time (null: until resumed). */
export interface Maintenance {
  node?: { until: number | null } | null;
  containers?: Record<string, { until: number | null }>;
}

export interface Pending {
  at: number;
  action: Action;
  trigger: TriggerInfo;
  /** The container it is about: a container re-created under the same name is another one (absent in older state files). */
  containerId?: string;
}

export interface KeyState {
  level: number;
  lastActionAt: number | null;
  actions: number[];
  gaveUpAt: number | null;
  /** The last time the rule's condition fired on the container (acted on or not): "without trouble" counts from here. */
  troubleAt: number | null;
  pending: Pending | null;
  /**
   * When the rule acted on the container lately, for MAX_RULE_ACTIONS_PER_MINUTE. Kept in the state
   * file like the rest (an agent killed and restarted every 2 s acted 525 times in a minute when it
   * lived in memory only), and not cleared by a reset: the limit holds whatever the guards.
   */
  recentActs: number[];
  /** Reasons skipped recently, so a repeating skip is journaled once per window. */
  skipped: Map<string, number>;
}

/** A guard's state as the state file keeps it (per rule and container name): a KeyState without what is only kept in memory. */
export interface GuardRecord extends Omit<KeyState, 'skipped' | 'recentActs'> {
  rule: string;
  container: string;
  /** Absent in state files of earlier agents. */
  recentActs?: number[];
}

/** Everything the agent must not forget across a restart, whatever the journal's rotation dropped. */
export interface GuardSnapshot {
  guards: GuardRecord[];
  /** Per container name: the end of the last exit the engine has seen, so a reconcile does not act on it twice. */
  exits: Record<string, number>;
}

export const SKIP_JOURNAL_WINDOW_MS = 600_000;
/** What one rule may do to one container in a minute, whatever its guards: a chatty rule cannot flood the journal or the node. */
export const MAX_RULE_ACTIONS_PER_MINUTE = 60;
/** Actions kept per rule and container (budgets count these). */
export const MAX_ACTIONS_KEPT = 1000;

export function subsumes(h: Trigger, t: Trigger): boolean {
  if (t.kind === 'exit') return h.kind === 'exit' && (h.code === 'any' || t.code === 'nonzero');
  if (t.kind === 'oom') return h.kind === 'oom' || (h.kind === 'exit');
  if (t.kind === 'unhealthy') return h.kind === 'unhealthy' && h.forMs === t.forMs;
  return JSON.stringify(h) === JSON.stringify(t);
}

/** The higher rule that takes every input of `rule` first (precedence), if one does. */
export function supersededBy(rule: Rule, before: Rule[]): Rule | null {
  if (before.length === 0) return null;
  for (const h of before) if (rule.triggers.every((t) => h.triggers.some((x) => subsumes(x, t)))) return h;
  // Several higher rules together can cover it too; name the first.
  const all = rule.triggers.every((t) => before.some((h) => h.triggers.some((x) => subsumes(x, t))));
  return all ? (before[0] as Rule) : null;
}

/** What every decision about one container says: when, which rule, which container, what fired it. */
export function backoffDelay(rule: Rule, level: number): number {
  const b = rule.guards.backoff;
  if (!b || level <= 0) return 0;
  return Math.min(b.maxMs, b.minMs * 2 ** Math.min(level - 1, 40));
}

export function resetAfter(rule: Rule): number {
  return rule.guards.backoff?.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs;
}

export function windowOf(rule: Rule): number {
  return rule.guards.budget?.withinMs ?? resetAfter(rule);
}

/** Counts an action for the per-minute limit (only the last minute's matter; more than the limit is never needed). */
function noteRecentAct(s: KeyState, at: number): void {
  s.recentActs.push(at);
  if (s.recentActs.length > MAX_RULE_ACTIONS_PER_MINUTE) s.recentActs.splice(0, s.recentActs.length - MAX_RULE_ACTIONS_PER_MINUTE);
}

/** Whether Docker's own restart policy already restarts the container after this exit. */
export function dockerRestarts(policy: string, exitCode: number): boolean {
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

/** Guard state of every rule and container (keyed `rule\0container`), and the decisions made from it. */
export class Guards {
  readonly keys = new Map<string, KeyState>();
  /** Moves whenever guard state changes. */
  version = 0;

  key(rule: string, container: string): KeyState {
    const k = `${rule}\0${container}`;
    let s = this.keys.get(k);
    if (!s) {
      s = { level: 0, lastActionAt: null, actions: [], gaveUpAt: null, troubleAt: null, pending: null, recentActs: [], skipped: new Map() };
      this.keys.set(k, s);
    }
    return s;
  }

  skip(rule: Rule, c: ContainerSummary, trigger: TriggerInfo, now: number, kind: string, reason: string): Decision[] {
    const s = this.key(rule.name, c.name);
    const last = s.skipped.get(kind);
    if (last !== undefined && now - last < SKIP_JOURNAL_WINDOW_MS) return [];
    s.skipped.set(kind, now);
    return [{ kind: 'skip', ...about(rule.name, c, trigger, now), reason }];
  }

  /** Back-off, budget, cooldown, maintenance: whether to act now, later, or not at all. */
  guard(rule: Rule, c: ContainerSummary, trigger: TriggerInfo, now: number, startedAt: number | null, silenced: string | null): Decision | null {
    const name = c.name;
    if (silenced) return this.skip(rule, c, trigger, now, 'maintenance', `not acting on ${name}: ${silenced}`)[0] ?? null;
    const s = this.key(rule.name, name);
    const when = trigger.eventTime ?? now;
    this.version++;
    if (s.lastActionAt !== null || s.gaveUpAt !== null) {
      // "Without trouble" means it: the last time this condition fired counts, acted on or not,
      // and a condition that has held without a break since then (it fires again each time it has
      // held for its duration) leaves no time without trouble at all.
      const stableFrom = Math.max(startedAt ?? 0, s.lastActionAt ?? 0, s.gaveUpAt ?? 0, s.troubleAt ?? 0);
      const troubleAgain = trigger.holdingSince !== undefined ? Math.min(when, trigger.holdingSince) : when;
      if (troubleAgain - stableFrom >= resetAfter(rule)) {
        s.level = 0;
        s.gaveUpAt = null;
        s.actions = [];
        s.skipped.clear();
      }
    }
    s.troubleAt = Math.max(s.troubleAt ?? 0, when);
    if (s.gaveUpAt !== null) {
      return (
        this.skip(
          rule,
          c,
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
        ...about(rule.name, c, trigger, now),
        action: rule.action,
        reason: `gave up on ${name}: ${trigger.detail}; ${recent.length} ${noun(rule.action)}s within ${words(budget.withinMs)} already (budget ${budget.max}/${words(budget.withinMs)})`,
      };
    }
    const acts = s.recentActs.filter((t) => now - t < 60_000);
    s.recentActs = acts;
    if (acts.length >= MAX_RULE_ACTIONS_PER_MINUTE) {
      return (
        this.skip(
          rule,
          c,
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
      s.pending = { at: allowedAt, action: rule.action, trigger, containerId: c.id };
      const why = delay >= rule.guards.cooldownMs ? `back-off ${words(delay)} after the ${ordinal(s.level)} ${noun(rule.action)}` : `cooldown ${words(rule.guards.cooldownMs)}`;
      return {
        kind: 'defer',
        ...about(rule.name, c, trigger, now),
        action: rule.action,
        at: allowedAt,
        reason: `will ${describeAction(rule.action)} ${name} in ${words(allowedAt - now)}: ${trigger.detail}; ${why}`,
      };
    }
    return this.act(rule, c, s, trigger, now);
  }

  act(rule: Rule, c: ContainerSummary, s: KeyState, trigger: TriggerInfo, now: number): Decision {
    s.level++;
    s.lastActionAt = now;
    s.actions.push(now);
    if (s.actions.length > MAX_ACTIONS_KEPT) s.actions.splice(0, s.actions.length - MAX_ACTIONS_KEPT);
    s.pending = null;
    this.version++;
    noteRecentAct(s, now);
    const attempt = s.actions.length;
    const next = backoffDelay(rule, s.level);
    const gap = Math.max(next, rule.guards.cooldownMs);
    const parts = [`${pastTense(rule.action, c.name)}: ${trigger.detail}`];
    parts.push(`${ordinal(attempt)} ${noun(rule.action)} in ${words(windowOf(rule))}${rule.guards.budget ? ` (budget ${rule.guards.budget.max})` : ''}`);
    if (gap > 0) parts.push(`next allowed after ${words(gap)}`);
    return {
      kind: 'act',
      ...about(rule.name, c, trigger, now),
      action: rule.action,
      level: s.level,
      attempt,
      nextAllowedAt: gap > 0 ? now + gap : null,
      notify: rule.notify || rule.action.kind === 'notify',
      reason: parts.join('; '),
    };
  }

  /** Applies one journaled decision to its guard state (`restore`); `fired` is when its condition fired. */
  replay(s: KeyState, e: PastDecision, fired: number): void {
    switch (e.kind) {
      case 'act':
        noteRecentAct(s, e.ts);
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

  /** The guard state worth keeping, for the agent's state file. */
  records(): GuardRecord[] {
    const guards: GuardRecord[] = [];
    for (const [key, s] of this.keys) {
      if (s.level === 0 && s.lastActionAt === null && s.gaveUpAt === null && s.pending === null && s.troubleAt === null && s.recentActs.length === 0) continue;
      const [rule, container] = key.split('\0') as [string, string];
      guards.push({
        rule,
        container,
        level: s.level,
        lastActionAt: s.lastActionAt,
        actions: s.actions.slice(-MAX_ACTIONS_KEPT),
        gaveUpAt: s.gaveUpAt,
        troubleAt: s.troubleAt,
        pending: s.pending,
        recentActs: s.recentActs.slice(-MAX_RULE_ACTIONS_PER_MINUTE),
      });
    }
    return guards;
  }

  /** Loads a state file's guard records. */
  load(records: readonly GuardRecord[]): void {
    for (const g of records) {
      const s = this.key(g.rule, g.container);
      s.level = g.level;
      s.lastActionAt = g.lastActionAt;
      s.actions = g.actions.slice(-MAX_ACTIONS_KEPT);
      s.gaveUpAt = g.gaveUpAt;
      s.troubleAt = g.troubleAt;
      s.pending = g.pending;
      for (const t of g.recentActs ?? []) noteRecentAct(s, t);
    }
  }

  /** Forgets back-off, budget, give-up and deferred actions of a container (all rules, or one); returns the rules reset. */
  reset(container: string, rule?: string): string[] {
    const done: string[] = [];
    for (const [key, s] of this.keys) {
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
    return done;
  }
}
