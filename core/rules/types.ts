/**
 * The rule engine's vocabulary. A rules file (YAML or JSON) and container
 * labels both compile to `Rule`; the engine only ever sees `Rule`.
 */


export type Action =
  | { kind: 'restart' | 'stop' | 'start' }
  /** Moves a placed workload's container to another node, chosen by the placement engine (the agent's failover controller does it). */
  | { kind: 'move' }
  | { kind: 'kill'; signal: string }
  | { kind: 'exec'; command: string[] }
  | { kind: 'notify'; message?: string };

/** A size or a share of something: `512MiB` or `90%`. */
export type Amount = { bytes: number } | { percent: number };

/** How long a condition must hold: a duration or a number of consecutive samples. */
export type Sustain = { forMs: number } | { samples: number } | null;

export type Trigger =
  | { kind: 'exit'; code: 'nonzero' | 'any' }
  | { kind: 'oom' }
  | { kind: 'unhealthy'; forMs: number }
  | { kind: 'cpu'; abovePercent: number; sustain: Sustain }
  | { kind: 'memory'; above: Amount; sustain: Sustain }
  | { kind: 'log'; pattern: string; flags: string; stream: 'stdout' | 'stderr' | 'any' }
  | { kind: 'restarts'; moreThan: number; withinMs: number }
  | { kind: 'host'; metric: 'disk' | 'memory-available' | 'temperature'; threshold: Amount | { celsius: number }; sustain: Sustain };

export type TriggerKind = Trigger['kind'];

export interface Match {
  /** Globs on the container name (any of them). */
  names: string[];
  /** Globs on the image reference (any of them). */
  images: string[];
  /** Every entry must hold: `key` present, or `key=value`. */
  labels: { key: string; value?: string }[];
  /** Compose projects (any of them). */
  projects: string[];
  /** Only this container ID (rules from a container's own labels). */
  containerId?: string;
}

export interface Guards {
  /** Exponential back-off between actions on one container. */
  backoff: { minMs: number; maxMs: number; resetAfterMs: number } | null;
  /** At most `max` actions within `withinMs`, then give up and notify. */
  budget: { max: number; withinMs: number } | null;
  /** Least time between two actions of this rule on one container. */
  cooldownMs: number;
}

export interface Rule {
  name: string;
  /** Where it came from: a file (with the rule's index) or a container's labels. */
  source: { kind: 'file'; file: string; index: number } | { kind: 'labels'; container: string };
  match: Match;
  /** Any of these fires the rule. */
  triggers: Trigger[];
  action: Action;
  guards: Guards;
  /** Higher first when several rules fire on one container for one input. */
  priority: number;
  /** Also emit a notification when the rule acts. */
  notify: boolean;
}

export interface RuleSet {
  rules: Rule[];
  /** Milliseconds between resource samples for cpu/memory/host conditions. */
  sampleIntervalMs: number;
  /** Where notifications are POSTed, when set. */
  webhook: string | null;
}

/** A problem in a rules file or in a container's rule labels. */
export interface RuleIssue {
  file: string;
  /** 0-based index and name of the rule, when the problem is inside one. */
  rule?: { index: number; name?: string };
  /** Dotted path of the field, e.g. `when.cpu.above`. */
  field: string;
  message: string;
  line?: number;
  column?: number;
  /** The container whose labels it is about (label rules only). */
  container?: string;
}

export const DEFAULT_BACKOFF = { minMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 } as const;
export const DEFAULT_SAMPLE_INTERVAL_MS = 5_000;
export const DEFAULT_NOTIFY_COOLDOWN_MS = 60_000;

export const LABEL_RESTART_ON = 'outpost.restart-on';
export const LABEL_RESTART_BUDGET = 'outpost.restart-budget';
export const LABEL_BACKOFF = 'outpost.backoff';
export const LABEL_MAINTENANCE = 'outpost.maintenance';
export const LABEL_PRIORITY = 'outpost.priority';

/** What fired a rule, in words and numbers (journaled as the decision's inputs). */
export interface TriggerInfo {
  kind: TriggerKind;
  /** In words: "exited with code 1", "unhealthy for 30s", "CPU 97% for 5 samples". */
  detail: string;
  /** When the engine stamped the event that fired it (ms since epoch). */
  eventTime?: number;
  value?: number;
  /**
   * When a sustained condition (unhealthy, CPU, memory, host) began to hold
   * without a break: a condition that fired, and holds still, fires again, and
   * the time between is not "without trouble".
   */
  holdingSince?: number;
}

/** `placement`: the failover controller's decisions and what came of them (core/placement/controller.ts). */
export type JournalKind = 'act' | 'defer' | 'skip' | 'give-up' | 'outcome' | 'notify' | 'error' | 'agent' | 'reset' | 'placement';

/** One line of the journal (JSON Lines, append-only). */
export interface JournalEntry {
  seq: number;
  /** When it was written (ms since epoch). */
  ts: number;
  node: string;
  kind: JournalKind;
  /** In words: "restarted web: exited with code 1; 2nd restart in 10m; next allowed after 20s". */
  reason: string;
  rule?: string;
  container?: string;
  containerId?: string;
  action?: Action;
  trigger?: TriggerInfo;
  level?: number;
  attempt?: number;
  /** For `defer`: when the action is due. */
  at?: number;
  nextAllowedAt?: number | null;
  /** For `outcome`: whether the action worked, how long it took, and the error. */
  ok?: boolean;
  error?: string;
  durationMs?: number;
  /** From the engine's event to the action's request, when an event fired it. */
  latencyMs?: number;
}
