/**
 * The rules port: a node's rule engine as the faces (TUI, CLI, tray) use it.
 * The local implementation sits on the agent's files on this machine; a
 * remote one will speak to a peer's agent over its API. Faces use only this
 * interface, and every method is asynchronous so both kinds fit it.
 *
 * Pure: the types only. Nothing here touches the disk, the network or Docker.
 */
import type { ContainerStats, Disposer } from '../model/types.js';
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
  /** The rules file's problems at the last reload, in words (the first few, each bounded), while they last. */
  issues?: string[];
}

export interface AgentState {
  running: boolean;
  record: AgentInfo | null;
  /** Why it is not running, in words, when it is not. */
  reason: string | null;
  /** The running agent's pid, also when it could not write its record (a full disk); absent where the port cannot tell. */
  pid?: number | null;
  /**
   * What is wrong with the agent's state, in words, while it lasts: a full disk (it enforces its rules from
   * memory), a rules file it could not load (it keeps the last good rules). Every face shows these.
   */
  problems?: string[];
}

/** What the rule engine says now, of one container or of all of them. */
export interface Explanation {
  statuses: RuleStatus[];
  /** Problems with the rules file, a container's label rules or the agent's state files, each in words. */
  problems: string[];
  /** The names of the rules in force (the rules file's and the containers' label rules); absent where the port cannot tell. */
  rules?: string[];
}

export interface ExplainOptions {
  /**
   * Stats the face already has (the TUI samples them anyway): used instead of
   * a sample of the node's own. Without them, a local port samples only when
   * a rule needs stats, and reuses a sample for a few seconds.
   */
  stats?: readonly ContainerStats[];
  /** The instant to explain at (ms since epoch; default now). */
  now?: number;
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

/** What a pause or a resume was about. */
export interface TargetResult {
  /** The container is not on the node now; it has history in the journal (or was paused). */
  gone: boolean;
}

/**
 * What became of a reset request. The local port refuses an unknown
 * container or rule (BadInputError) and fills every field; the optional
 * ones may be absent from a simpler port.
 */
export interface ResetResult {
  /** Whether the container is known (on the engine now or in the journal). */
  known: boolean;
  /** Whether an agent applied it (or runs to apply it); otherwise the next one applies it. */
  applied: boolean;
  /** The container is not on the node now; what the journal remembers of it is reset. */
  gone?: boolean;
  /** `applied`: the agent re-armed it (`entries` say what); `queued`: no agent runs, the next one applies it; `waiting`: the agent had not applied it within the wait. */
  state?: 'applied' | 'queued' | 'waiting';
  entries?: JournalEntry[];
  /** The agent that runs (or was waited for), when one does. */
  agentPid?: number | null;
}

export interface ResetOptions {
  /** How long to wait for a running agent to apply it (ms; default 5000, 0: do not wait). */
  waitMs?: number;
}

/** Journal entries, oldest first; `unreadable` counts the lines that did not parse (skipped, never fatal) where the port can tell. */
export type JournalPage = JournalEntry[] & { unreadable?: number };

export interface RulesFileText {
  path: string;
  /** The file's text, or null when there is none. */
  text: string | null;
  /** Whether there is no such file (only label rules apply then). */
  missing?: boolean;
  /** The names of the file's rules. */
  rules?: string[];
  /** The file's problems, each in words. */
  problems?: string[];
}

export interface RulesPort {
  /**
   * How often a face asks `explain` again when nothing changed (to tick a back-off's countdown):
   * every second by default; a peer's port asks less often, since each ask crosses its link.
   */
  readonly refreshMs?: number;
  agent(): Promise<AgentState>;
  /** Each rule that applies to `container` (every container when absent), with its state now. */
  explain(container?: string, options?: ExplainOptions): Promise<Explanation>;
  /** The problems of the rules file, the label rules and the agent's state files, without a container. */
  problems(): Promise<string[]>;
  /** Journal entries; a `container` that neither the journal nor the node knows is refused (BadInputError). */
  journal(query?: JournalQuery): Promise<JournalPage>;
  /** Follows new journal entries (none are replayed); the disposer stops it. */
  followJournal(listener: (entry: JournalEntry) => void): Disposer;
  /** A container the node does not have and the journal does not know is refused (BadInputError): a typo must not pause nothing. */
  pause(target: RulesTarget, options?: PauseOptions): Promise<TargetResult | void>;
  resume(target: RulesTarget): Promise<TargetResult | void>;
  /** Re-arms a container (every rule, or one): back-off, budget and give-up cleared. */
  reset(container: string, rule?: string, options?: ResetOptions): Promise<ResetResult>;
  /** Whether rules are paused for a container now (or for the node when absent). */
  paused(target: RulesTarget): Promise<boolean>;
  /** The rules file (admins only, once it is remote). */
  rulesFile(): Promise<RulesFileText>;
}
