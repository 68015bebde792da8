/** What the rule engine decides and reports: its decisions, and each rule's state for a container. */
import type { Action, Rule, TriggerInfo } from './types.js';

export interface DecisionBase {
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
  /** For `outcome`: whether the action worked. */
  ok?: boolean;
}

export function about(rule: string, c: { name: string; id: string }, trigger: TriggerInfo, now: number): Omit<DecisionBase, 'reason'> {
  return { ts: now, rule, container: c.name, containerId: c.id, trigger };
}

export type RuleState = 'armed' | 'pending' | 'backing-off' | 'given-up' | 'maintenance' | 'left-to-docker' | 'superseded';

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
