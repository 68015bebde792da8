import type { ContainerStats, ContainerSummary, Disposer } from '../../core/model/types.js';
import type { RuleStatus } from '../../core/rules/engine.js';
import type { JournalEntry } from '../../core/agent/journal.js';
import { LocalRules } from '../../core/agent/local-rules.js';
import { defaultRulesFile, requestReset, setMaintenance, stateDir } from '../../core/agent/store.js';
import type { AgentState } from '../../core/rules/port.js';

/** Entries of the journal kept for the Journal view. */
export const JOURNAL_VIEW_ENTRIES = 2000;

/** A node for a LocalRules whose callers hand it the containers (the TUI's snapshot): never asked. */
const NO_NODE = {
  name: 'local',
  containers: () => [],
  list: () => Promise.resolve([]),
  statsOnce: () => Promise.resolve([]),
};

/**
 * What the TUI shows of the rule engine of the local node, as a thin,
 * synchronous adapter over LocalRules (core/agent/local-rules.ts), the one
 * place that rebuilds the agent's view from its files. It adds what only the
 * TUI needs: a window of the journal followed while someone listens, and
 * notices for the status line. Replaceable by `node.rules` (the port).
 */
export class RulesSource {
  readonly rulesFile: string;
  readonly stateDir: string;
  readonly rules: LocalRules;
  #entries: JournalEntry[] = [];
  #loaded = false;
  #lastSeq = 0;
  #listeners = new Set<() => void>();
  #stopFollow: Disposer | null = null;
  #notifyTimer: NodeJS.Timeout | null = null;
  #notices: JournalEntry[] = [];
  /** Entries up to this sequence number were there before the UI looked: history, not news. */
  #noticeSeq: number | null = null;

  constructor(env: NodeJS.ProcessEnv, rules?: LocalRules) {
    this.rules = rules ?? new LocalRules(NO_NODE, { rulesFile: defaultRulesFile(env), stateDir: stateDir(env) });
    this.rulesFile = this.rules.paths.rulesFile;
    this.stateDir = this.rules.paths.stateDir;
  }

  #news(entries: readonly JournalEntry[]): boolean {
    const last = entries.at(-1)?.seq ?? 0;
    if (this.#noticeSeq === null) {
      this.#noticeSeq = last;
      return false;
    }
    let fresh = false;
    for (const e of entries) {
      if (e.seq <= this.#noticeSeq) continue;
      fresh = true;
      if (e.kind === 'notify' || e.kind === 'give-up' || (e.kind === 'outcome' && e.ok === false)) this.#notices.push(e);
    }
    this.#noticeSeq = Math.max(this.#noticeSeq, last);
    return fresh;
  }

  #fireSoon(): void {
    if (this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = null;
      for (const l of this.#listeners) l();
    }, 250);
  }

  /** Whether an agent enforces the rules on this node (re-checked at most every 5 s). */
  agent(now = Date.now()): AgentState {
    return this.rules.agentNow(now);
  }

  #load(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    const { entries } = this.rules.journalNow();
    this.#entries = entries.slice(-JOURNAL_VIEW_ENTRIES);
    this.#lastSeq = entries.at(-1)?.seq ?? 0;
    // Whichever path brings an entry first (this read or the follower), it is news exactly once.
    const fresh = this.#news(entries);
    if (fresh && this.#listeners.size > 0) this.#fireSoon();
  }

  /** Entries worth a word on the status line (notifications, give-ups, failed actions) since the last call. */
  takeNotices(): JournalEntry[] {
    return this.#notices.splice(0);
  }

  /** Asks the agent to re-arm a container (`outpost rules reset`). */
  reset(container: string, rule?: string): void {
    requestReset(this.stateDir, { container, ...(rule !== undefined ? { rule } : {}), at: Date.now() });
  }

  /** Whether the rules are paused for a container (or, without one, for the node) now. */
  paused(target: { container?: string }, now = Date.now()): boolean {
    return this.rules.pausedNow(target, now);
  }

  /** Pauses the rules for a container (or the node) until an instant, or until resumed. */
  pause(target: { container?: string }, until: number | null): void {
    setMaintenance(this.stateDir, target, { pauseUntil: until });
  }

  resume(target: { container?: string }): void {
    setMaintenance(this.stateDir, target, 'resume');
  }

  /** Pauses or resumes the rules for one container; returns whether it is paused now. */
  togglePause(container: string, now = Date.now()): boolean {
    const paused = this.paused({ container }, now);
    if (paused) this.resume({ container });
    else this.pause({ container }, null);
    return !paused;
  }

  /** Each rule that applies to `container`, with its state now. */
  explain(containers: ContainerSummary[], stats: ReadonlyMap<string, ContainerStats>, container: string, now = Date.now()): { statuses: RuleStatus[]; problems: string[] } {
    const { statuses, problems } = this.rules.explainNow(containers, [...stats.values()], container, now);
    return { statuses, problems };
  }

  /** The newest journal entries, oldest first. */
  journal(): readonly JournalEntry[] {
    this.#load();
    return this.#entries;
  }

  /** Follows the journal while someone listens; listeners are called at most 4 times a second. */
  subscribe(listener: () => void): Disposer {
    this.#listeners.add(listener);
    if (!this.#stopFollow) {
      // Follow first, then read what is there: nothing written in between is missed, and what
      // both see is told apart by its sequence number.
      this.#stopFollow = this.rules.followJournal((e) => {
        if (e.seq <= this.#lastSeq) return;
        this.#lastSeq = e.seq;
        this.#entries.push(e);
        if (this.#entries.length > JOURNAL_VIEW_ENTRIES * 1.25) this.#entries.splice(0, this.#entries.length - JOURNAL_VIEW_ENTRIES);
        this.#news([e]);
        this.#fireSoon();
      });
      this.#loaded = false;
    }
    this.#load();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#stopFollow?.();
        this.#stopFollow = null;
        if (this.#notifyTimer) clearTimeout(this.#notifyTimer);
        this.#notifyTimer = null;
        // Entries written while nobody follows are read again next time.
        this.#loaded = false;
        this.#lastSeq = 0;
      }
    };
  }
}
