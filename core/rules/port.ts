/**
 * The rules port: a node's rule engine as the faces (TUI, CLI, tray) use it.
 * The local implementation sits on the agent's files on this machine; a
 * remote one will speak to a peer's agent over its API. Faces use only this
 * interface, and every method is asynchronous so both kinds fit it.
 *
 * Pure: the types only. Nothing here touches the disk, the network or Docker.
 */
import type { Disposer } from '../model/types.js';
import type { RuleStatus } from './engine.js';
import type { JournalEntry } from './types.js';

/** The agent that enforces the rules on a node, as its record says. */
export interface AgentInfo {
  pid: number;
  startedAt: number;
  node: string;
  endpoint: string;
  rulesFile: string;
  rules: number;
  problems: number;
  version: string;
}

export interface AgentState {
  running: boolean;
  record: AgentInfo | null;
  /** Why it is not running, in words, when it is not. */
  reason: string | null;
}

/** What the rule engine of one container says now. */
export interface Explanation {
  statuses: RuleStatus[];
  /** Problems with the rules file or a container's label rules, each in words. */
  problems: string[];
}

/** What a pause applies to: one container, or the whole node when `container` is absent. */
export interface RulesTarget {
  container?: string;
}

export interface PauseOptions {
  /** Until this instant (ms since epoch); absent: until resumed. */
  until?: number;
}

export interface JournalQuery {
  /** The newest entries, at most this many (oldest first in the answer). */
  limit?: number;
  container?: string;
  rule?: string;
  /** Only entries after this sequence number. */
  afterSeq?: number;
}

/** What a reset request found to re-arm. */
export interface ResetResult {
  /** Whether the container is known (on the engine now or in the journal). */
  known: boolean;
  /** Whether an agent runs to apply it now (otherwise the next one applies it). */
  applied: boolean;
}

export interface RulesFileText {
  path: string;
  /** The file's text, or null when there is none. */
  text: string | null;
}

export interface RulesPort {
  agent(): Promise<AgentState>;
  /** Each rule that applies to `container`, with its state now. */
  explain(container: string): Promise<Explanation>;
  /** The rules file's problems and the count of rules in force, without a container. */
  problems(): Promise<string[]>;
  journal(query?: JournalQuery): Promise<JournalEntry[]>;
  /** Follows new journal entries (none are replayed); the disposer stops it. */
  followJournal(listener: (entry: JournalEntry) => void): Disposer;
  pause(target: RulesTarget, options?: PauseOptions): Promise<void>;
  resume(target: RulesTarget): Promise<void>;
  /** Re-arms a container (every rule, or one): back-off, budget and give-up cleared. */
  reset(container: string, rule?: string): Promise<ResetResult>;
  /** Whether rules are paused for a container now (or for the node when absent). */
  paused(target: RulesTarget): Promise<boolean>;
  /** The rules file (admins only, once it is remote). */
  rulesFile(): Promise<RulesFileText>;
}
