import type { GuardRecord, GuardSnapshot, RuleEngine } from '../rules/engine.js';
import type { TriggerInfo } from '../rules/types.js';
import { words } from '../rules/wording.js';
import { isValidTime } from '../model/duration.js';
import { readJournal, type JournalEntry } from './journal.js';
import { GUARD_FILE, readGuardState } from './store.js';

export interface Restored {
  /** Every readable journal entry, oldest first (times in the future capped to now). */
  entries: JournalEntry[];
  unreadable: number;
  /** Journal entries replayed on top of the state file (all of them without one). */
  replayed: number;
  /** Whether guards.json was there and used. */
  fromStateFile: boolean;
  /** A damaged or out-of-range state file, in words (it was ignored, or partly). */
  problem: string | null;
  /** Times in the state files that lay in the future and were counted from now instead, in words; null when none did. */
  future: string | null;
  /** When an agent last wrote anything (ms), or 0. */
  lastWrite: number;
}

/**
 * Rebuilds an engine's guard state the way the agent keeps it: the guard
 * state file (guards.json), then the journal's entries written after it.
 * Every reader (the agent, `rules explain`, the TUI's rules tab) uses this,
 * so none depends on how much the journal has rotated.
 *
 * Times that lie in the future (`now` is the reader's clock) were written
 * under a clock that ran ahead and was set back: trusted, a back-off from
 * a last action a year ahead waits a year. Each is capped to now and
 * counted (`future`), and a deferred action keeps its wait from then.
 */
export function restoreEngine(engine: RuleEngine, stateDir: string, now = Date.now()): Restored {
  const saved = readGuardState(stateDir);
  const read = readJournal(stateDir);
  const fileCap = new FutureCap(now);
  const journalCap = new FutureCap(now);
  const entries = read.entries.map((e) => capEntry(e, journalCap));
  const after = saved.state ? entries.filter((e) => typeof e.seq === 'number' && e.seq > (saved.state?.seq ?? 0)) : entries;
  const savedAt = saved.state ? fileCap.past(saved.state.savedAt) : 0;
  if (saved.state) engine.load(capSnapshot(saved.state.snapshot, fileCap));
  engine.restore(after);
  const where = [...(fileCap.count > 0 ? [`${stateDir}/${GUARD_FILE}`] : []), ...(journalCap.count > 0 ? [`${stateDir}/journal`] : [])];
  const count = fileCap.count + journalCap.count;
  const ahead = Math.max(fileCap.ahead, journalCap.ahead);
  return {
    entries,
    unreadable: read.unreadable,
    replayed: after.length,
    fromStateFile: saved.state !== null,
    problem: saved.problem,
    future:
      count > 0
        ? `${count} time(s) in ${where.join(' and ')} lay in the future (up to ${ahead >= 2 * 86_400_000 ? `${Math.round(ahead / 86_400_000)}d` : words(ahead)} ahead: the clock ran ahead and was set back?); counted from now instead`
        : null,
    lastWrite: Math.max(savedAt, entries.at(-1)?.ts ?? 0),
  };
}

/** Caps times that should lie in the past to `now`, counting those that did not. */
class FutureCap {
  count = 0;
  ahead = 0;
  readonly now: number;

  constructor(now: number) {
    this.now = now;
  }

  past = (t: number): number => {
    if (t <= this.now) return t;
    this.count++;
    this.ahead = Math.max(this.ahead, t - this.now);
    return this.now;
  };

  pastOrNull = (t: number | null): number | null => (t === null ? null : this.past(t));

  trigger = (t: TriggerInfo): TriggerInfo => (isValidTime(t.eventTime) && t.eventTime > this.now ? { ...t, eventTime: this.past(t.eventTime) } : t);

  /** A time to come, written `skew` ahead of the real time: the same wait from now. */
  due = (at: number, skew: number): number => (skew > 0 ? Math.max(this.now, at - skew) : at);
}

function capSnapshot(snapshot: GuardSnapshot, cap: FutureCap): GuardSnapshot {
  const exits: Record<string, number> = {};
  for (const [name, at] of Object.entries(snapshot.exits)) exits[name] = cap.past(at);
  return { guards: snapshot.guards.map((g) => capRecord(g, cap)), exits };
}

function capRecord(g: GuardRecord, cap: FutureCap): GuardRecord {
  const past = [g.lastActionAt, g.gaveUpAt, g.troubleAt, ...g.actions, ...(g.recentActs ?? [])].filter((t): t is number => t !== null);
  const skew = Math.max(0, ...past.map((t) => t - cap.now));
  return {
    ...g,
    lastActionAt: cap.pastOrNull(g.lastActionAt),
    gaveUpAt: cap.pastOrNull(g.gaveUpAt),
    troubleAt: cap.pastOrNull(g.troubleAt),
    actions: g.actions.map(cap.past),
    ...(g.recentActs ? { recentActs: g.recentActs.map(cap.past) } : {}),
    pending: g.pending ? { ...g.pending, at: cap.due(g.pending.at, skew), trigger: cap.trigger(g.pending.trigger) } : null,
  };
}

function capEntry(e: JournalEntry, cap: FutureCap): JournalEntry {
  const late = isValidTime(e.trigger?.eventTime) && (e.trigger?.eventTime ?? 0) > cap.now;
  if (e.ts <= cap.now && !late) return e;
  const skew = Math.max(0, e.ts - cap.now);
  return {
    ...e,
    ts: cap.past(e.ts),
    ...(e.trigger ? { trigger: cap.trigger(e.trigger) } : {}),
    ...(isValidTime(e.at) ? { at: cap.due(e.at, skew) } : {}),
  };
}
