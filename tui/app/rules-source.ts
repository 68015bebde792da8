import { statSync } from 'node:fs';
import type { ContainerStats, ContainerSummary, Disposer } from '../../core/model/types.js';
import { loadRulesFile } from '../../core/agent/agent.js';
import { RuleEngine, type RuleStatus } from '../../core/rules/engine.js';
import { followJournal, type JournalEntry } from '../../core/agent/journal.js';
import { formatIssue } from '../../core/rules/parse.js';
import { restoreEngine } from '../../core/agent/restore.js';
import { agentStatus, defaultRulesFile, readMaintenance, requestReset, setMaintenance, stateDir, type AgentStatus } from '../../core/agent/store.js';

/** Entries of the journal kept for the Journal view. */
export const JOURNAL_VIEW_ENTRIES = 2000;

/**
 * What the TUI shows of the rule engine of the local node: the agent's
 * status, each rule's state for a container, and the journal. It reads the
 * agent's files (rules, journal, maintenance) and never writes them; the
 * state comes from replaying the journal through the same engine the agent
 * runs, so both agree.
 */
export class RulesSource {
  readonly rulesFile: string;
  readonly stateDir: string;
  #engine = new RuleEngine();
  #rulesMtime = -1;
  #problems: string[] = [];
  #entries: JournalEntry[] = [];
  #restored = false;
  #lastSeq = 0;
  #listeners = new Set<() => void>();
  #stopFollow: Disposer | null = null;
  #notifyTimer: NodeJS.Timeout | null = null;
  #agent: { at: number; status: AgentStatus } | null = null;
  #notices: JournalEntry[] = [];
  /** Entries up to this sequence number were there before the UI looked: history, not news. */
  #noticeSeq: number | null = null;

  constructor(env: NodeJS.ProcessEnv) {
    this.rulesFile = defaultRulesFile(env);
    this.stateDir = stateDir(env);
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

  #reset(): void {
    this.#restored = false;
    this.#engine = new RuleEngine();
    this.#rulesMtime = -1;
    this.#lastSeq = 0;
  }

  /** Whether an agent enforces the rules on this node (re-checked at most every 5 s). */
  agent(now = Date.now()): AgentStatus {
    if (!this.#agent || now - this.#agent.at > 5000) this.#agent = { at: now, status: agentStatus(this.stateDir) };
    return this.#agent.status;
  }

  #load(): void {
    let mtime = 0;
    try {
      mtime = statSync(this.rulesFile).mtimeMs;
    } catch {
      mtime = 0;
    }
    if (mtime !== this.#rulesMtime) {
      this.#rulesMtime = mtime;
      const loaded = loadRulesFile(this.rulesFile);
      this.#engine.setRules(loaded.ruleSet);
      this.#problems = loaded.issues.map(formatIssue);
    }
    if (!this.#restored) {
      this.#restored = true;
      // Guard state as the agent keeps it: guards.json, then the journal after it (rotation cannot erase a give-up).
      const { entries } = restoreEngine(this.#engine, this.stateDir);
      this.#entries = entries.slice(-JOURNAL_VIEW_ENTRIES);
      this.#lastSeq = entries.at(-1)?.seq ?? 0;
      // Whichever path brings an entry first (this read or the follower), it is news exactly once.
      const fresh = this.#news(entries);
      if (fresh && this.#listeners.size > 0) this.#fireSoon();
    }
  }

  /** Entries worth a word on the status line (notifications, give-ups, failed actions) since the last call. */
  takeNotices(): JournalEntry[] {
    return this.#notices.splice(0);
  }

  /** Asks the agent to re-arm a container (`outpost rules reset`). */
  reset(container: string): void {
    requestReset(this.stateDir, { container, at: Date.now() });
  }

  /** Pauses or resumes the rules for one container; returns whether it is paused now. */
  togglePause(container: string, now = Date.now()): boolean {
    const c = readMaintenance(this.stateDir).maintenance.containers?.[container];
    const paused = !!c && (c.until === null || c.until > now);
    setMaintenance(this.stateDir, { container }, paused ? 'resume' : { pauseUntil: null });
    return !paused;
  }

  /** Each rule that applies to `container`, with its state now. */
  explain(containers: ContainerSummary[], stats: ReadonlyMap<string, ContainerStats>, container: string, now = Date.now()): { statuses: RuleStatus[]; problems: string[] } {
    this.#load();
    this.#engine.setMaintenance(readMaintenance(this.stateDir).maintenance);
    this.#engine.onModel({ kind: 'reset', containers }, now);
    const s = [...stats.values()].filter((x) => x.name === container);
    if (s.length > 0) this.#engine.onStats(s, now);
    const problems = [...this.#problems, ...this.#engine.drainIssues().map(formatIssue)];
    return { statuses: this.#engine.explain(now, container), problems };
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
      this.#stopFollow = followJournal(this.stateDir, (e) => {
        if (e.seq <= this.#lastSeq) return;
        this.#lastSeq = e.seq;
        this.#engine.restore([e]);
        this.#entries.push(e);
        if (this.#entries.length > JOURNAL_VIEW_ENTRIES * 1.25) this.#entries.splice(0, this.#entries.length - JOURNAL_VIEW_ENTRIES);
        if (e.kind === 'agent') this.#agent = null;
        this.#news([e]);
        this.#fireSoon();
      });
      this.#reset();
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
        this.#reset();
      }
    };
  }
}
