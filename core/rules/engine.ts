import type { ContainerEvent, ContainerStats, ContainerSummary, HostMetrics, LogLine, ModelChange } from '../model/types.js';
import { isValidTime } from '../model/duration.js';
import type { Decision, PastDecision, RuleStatus } from './decisions.js';
import { ruleStatus } from './explain.js';
import { dockerRestarts, Guards, supersededBy, type Pending, type GuardSnapshot, type Maintenance } from './guards.js';
import type { Live } from './live.js';
import { byPrecedence, matches } from './match.js';
import { Sustained } from './triggers.js';
import { compileRegex, type LogPattern } from './fields.js';
import { ruleFromLabels } from './labels.js';
import { LABEL_MAINTENANCE, LABEL_PRIORITY, type Action, type Rule, type RuleIssue, type RuleSet, type TriggerInfo, type Trigger } from './types.js';
import { describeAction, words } from './wording.js';

export type { Decision, PastDecision, RuleState, RuleStatus } from './decisions.js';
export type { GuardRecord, GuardSnapshot, Maintenance } from './guards.js';
export { MAX_RULE_ACTIONS_PER_MINUTE } from './guards.js';
export { describeAction, describeTrigger, ordinal, words } from './wording.js';

/**
 * The rule engine: pure (no disk, network or Docker). It keeps what it knows
 * of each container (live.ts), turns model changes, engine events, samples
 * and log lines into triggers, and hands each fired trigger to the guards
 * (guards.ts), which decide; explain.ts says each rule's state in words.
 *
 * Why this file is ~700 lines: its input handlers (model changes, events,
 * samples, log lines, host metrics, ticks, reconcile) all read and write the
 * same live state and go through the same firing path (#fire → guards);
 * split further, that state would be handed around between files.
 */


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


const REQUESTED_STOP_WINDOW_MS = 60_000;
const OOM_WINDOW_MS = 10_000;
const MAX_LOG_TEST_CHARS = 64 * 1024;
export class RuleEngine {
  #fileRules: Rule[] = [];
  #logRegex = new Map<Rule, (LogPattern | null)[]>();
  /** Per container name: end of the last exit seen (live or reconciled). */
  #exits = new Map<string, number>();
  #version = 0;
  #live = new Map<string, Live>();
  #byName = new Map<string, string>();
  #guards = new Guards();
  /** Per container name: when a restart or start of the agent's failed (the engine away): its exit is still to be dealt with. */
  #failedActs = new Map<string, number>();
  #conds = new Sustained();
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
      if (e.kind === 'outcome') {
        this.#noteOutcome(e.container, e.action, e.ok !== false, e.ts);
        continue;
      }
      const s = this.#guards.key(e.rule, e.container);
      const fired = e.trigger && isValidTime(e.trigger.eventTime) ? e.trigger.eventTime : e.ts;
      if (e.trigger && (e.trigger.kind === 'exit' || e.trigger.kind === 'oom') && isValidTime(e.trigger.eventTime)) {
        this.#exits.set(e.container, Math.max(this.#exits.get(e.container) ?? 0, e.trigger.eventTime));
      }
      this.#guards.replay(s, e, fired);
    }
    this.#version++;
  }

  /** A counter that moves whenever guard state changes (the agent saves the state file when it does). */
  get version(): number {
    return this.#version + this.#guards.version;
  }

  /** The guard state, for the agent's state file. */
  snapshot(): GuardSnapshot {
    return { guards: this.#guards.records(), exits: Object.fromEntries(this.#exits) };
  }

  /** Loads a state file's guard state (already checked by the store); journal entries after it are then `restore`d on top. */
  load(snapshot: GuardSnapshot): void {
    this.#guards.load(snapshot.guards);
    for (const [name, at] of Object.entries(snapshot.exits)) this.#exits.set(name, Math.max(this.#exits.get(name) ?? 0, at));
    this.#version++;
  }

  /** Operator's reset: forgets back-off, budget, give-up and deferred actions of a container (all rules, or one); returns the rules reset. */
  reset(container: string, rule?: string, now?: number): string[] {
    const done = this.#guards.reset(container, rule);
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
    for (const key of this.#guards.keys.keys()) if (key.endsWith(`\0${name}`)) return true;
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
    this.#conds.forgetContainer(containerId);
  }

  /** The action begun with `beginAction` returned (done or failed). */
  endAction(containerId: string, now: number, ok = true, action?: Action): void {
    const name = this.#live.get(containerId)?.c.name;
    if (name !== undefined) this.#noteOutcome(name, action, ok, now);
    const b = this.#busy.get(containerId);
    if (!b) return;
    b.count = Math.max(0, b.count - 1);
    if (b.count > 0) return;
    b.endedAt = now;
    if (!ok) b.awaitStart = false;
    if (!b.awaitStart) this.#busy.delete(containerId);
  }

  /** A restart or start that failed leaves the exit that asked for it undealt with (reconcile takes it up again); one that worked ends that. */
  #noteOutcome(container: string, action: Action | undefined, ok: boolean, at: number): void {
    if (action && action.kind !== 'restart' && action.kind !== 'start') return;
    if (ok) this.#failedActs.delete(container);
    else if (action) this.#failedActs.set(container, at);
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
      for (const [key, s] of this.#guards.keys) {
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
            // A first sample has no CPU figure: it neither holds nor breaks the condition.
            const cpu = s.cpuPercent;
            if (cpu === null) return null;
            return this.#conds.check(`${rule.name}\0cpu\0${l.c.id}`, cpu > t.abovePercent, t.sustain, now, (span) => ({
              kind: 'cpu',
              detail: `CPU ${cpu.toFixed(0)}% above ${t.abovePercent}%${span}`,
              value: cpu,
            }));
          }
          if (t.kind === 'memory') {
            const above = 'percent' in t.above ? s.memoryPercent > t.above.percent : s.memoryBytes > t.above.bytes;
            return this.#conds.check(`${rule.name}\0mem\0${l.c.id}`, above, t.sustain, now, (span) => ({
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
        const info = this.#conds.check(`${rule.name}\0host`, holds, t.sustain, now, (span) => ({
          kind: 'host' as const,
          detail: `host ${what}${span}`,
          ...(value !== null ? { value } : {}),
        }));
        if (!info) continue;
        const victims = [...this.#live.values()]
          .filter((l) => l.c.state === 'running' && matches(rule.match, l.c) && !this.#isBusy(l.c.id, now))
          .sort((a, b) => Number(a.c.labels[LABEL_PRIORITY] ?? 0) - Number(b.c.labels[LABEL_PRIORITY] ?? 0) || a.c.name.localeCompare(b.c.name));
        for (const v of victims) {
          const d = this.#guards.guard(rule, v.c, info, now, v.c.startedAt, this.#maintained(v, now));
          if (!d) continue;
          out.push(d);
          if (d.kind === 'act' || d.kind === 'defer') break;
        }
      }
    }
    return out;
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
          return this.#guards.skip(rule, l.c,
            info,
            now,
            'policy',
            `left to Docker: its restart policy \`${l.c.restartPolicy}\` restarts ${l.c.name} after this exit`,
          );
        }
        const d = this.#guards.guard(rule, l.c, info, now, startedAt, this.#maintained(l, now));
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
    for (const [key, s] of this.#guards.keys) {
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
    for (const [key, s] of this.#guards.keys) {
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
      // Rules may have changed since it was deferred: one that now takes precedence decides instead.
      const ordered = this.#rulesFor(l);
      const over = supersededBy(rule, ordered.slice(0, ordered.indexOf(rule)));
      if (over) {
        out.push(this.#cancel(ruleName, cname, l.c.id, p, now, `rule ${over.name} now takes precedence on the same condition`));
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
      // Said as it is now, not as it was when deferred ("unhealthy for 5m", not the 4m of then).
      const trigger = p.trigger.kind === 'unhealthy' && l.unhealthySince !== null ? { ...p.trigger, detail: `unhealthy for ${words(now - l.unhealthySince)}` } : p.trigger;
      out.push(this.#guards.act(rule, l.c, s, trigger, now));
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
      return { kind: 'unhealthy', detail: now - since < 1000 ? 'turned unhealthy' : `unhealthy for ${words(now - since)}`, eventTime: now - since < 1000 ? since : now, holdingSince: since };
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
      // An exit whose restart failed (the engine was away) is still to be dealt with, however long ago it was seen.
      const failed = this.#failedActs.get(c.name);
      const pending = failed !== undefined && isValidTime(fin) && fin <= failed;
      if (!isValidTime(fin) || (!pending && fin <= since) || fin > now + 60_000) continue;
      const seen = this.#exits.get(c.name);
      if (!pending && seen !== undefined && (c.startedAt !== null ? seen > c.startedAt : seen >= fin - 1000)) continue;
      this.#failedActs.delete(c.name);
      // Seen, but not dealt with: the die below must not be taken for one already counted.
      if (pending) this.#exits.delete(c.name);
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
      ordered.forEach((rule, i) => out.push(ruleStatus(rule, l, this.#guards.keys.get(`${rule.name}\0${l.c.name}`), this.#maintained(l, now), now, ordered.slice(0, i))));
    }
    return out;
  }

}
