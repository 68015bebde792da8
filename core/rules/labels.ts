/** A container's own rule, from its labels (`outpost.restart-on`, `outpost.restart-budget`, `outpost.backoff`). */
import { LABEL_BACKOFF, LABEL_RESTART_BUDGET, LABEL_RESTART_ON, type Rule, type RuleIssue, type Trigger } from './types.js';
import { backoffAt, budgetAt, defaultGuards, FieldError } from './fields.js';
import { clip } from '../model/clip.js';

const RESTART_ON = ['exit-nonzero', 'exit-any', 'unhealthy', 'oom'] as const;

/**
 * The rule a container carries in its own labels (`outpost.restart-on`,
 * `outpost.restart-budget`, `outpost.backoff`), or null when it carries
 * none. Bad label values come back as issues naming the label.
 */
export function ruleFromLabels(container: { id: string; name: string; labels: Record<string, string> }): { rule: Rule | null; issues: RuleIssue[] } {
  const on = container.labels[LABEL_RESTART_ON];
  const issues: RuleIssue[] = [];
  const file = `labels of ${container.name}`;
  if (on === undefined) {
    for (const label of [LABEL_RESTART_BUDGET, LABEL_BACKOFF]) {
      if (container.labels[label] !== undefined) issues.push({ file, container: container.name, field: label, message: `has no effect without ${LABEL_RESTART_ON}` });
    }
    return { rule: null, issues };
  }
  const triggers: Trigger[] = [];
  for (const part of on.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part === 'exit-nonzero') triggers.push({ kind: 'exit', code: 'nonzero' });
    else if (part === 'exit-any') triggers.push({ kind: 'exit', code: 'any' });
    else if (part === 'unhealthy') triggers.push({ kind: 'unhealthy', forMs: 0 });
    else if (part === 'oom') triggers.push({ kind: 'oom' });
    else issues.push({ file, container: container.name, field: LABEL_RESTART_ON, message: `unknown condition "${clip(part, 60)}"; expected a comma list of ${RESTART_ON.join(', ')}` });
  }
  if (triggers.length === 0 && issues.length === 0) {
    issues.push({ file, container: container.name, field: LABEL_RESTART_ON, message: `is empty; expected a comma list of ${RESTART_ON.join(', ')}` });
  }
  const guards = defaultGuards({ kind: 'restart' }, {});
  for (const [label, fn] of [
    [LABEL_RESTART_BUDGET, (v: string) => (guards.budget = budgetAt(v, []))],
    [LABEL_BACKOFF, (v: string) => (guards.backoff = backoffAt(v, []))],
  ] as const) {
    const value = container.labels[label];
    if (value === undefined) continue;
    try {
      fn(value);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      issues.push({ file, container: container.name, field: label, message: clip(err.message, 1000) });
    }
  }
  if (issues.length > 0) return { rule: null, issues };
  return {
    rule: {
      name: `label:${container.name}`,
      source: { kind: 'labels', container: container.name },
      match: { names: [], images: [], labels: [], projects: [], containerId: container.id },
      triggers,
      action: { kind: 'restart' },
      guards,
      priority: 0,
      notify: false,
    },
    issues,
  };
}
