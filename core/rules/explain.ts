/** Each rule's state for one container, in words (`outpost rules explain`, the TUI's rules tab). */
import type { RuleStatus } from './decisions.js';
import { backoffDelay, dockerRestarts, resetAfter, supersededBy, windowOf, type KeyState } from './guards.js';
import type { Live } from './live.js';
import type { Rule } from './types.js';
import { describeAction, describeTrigger, noun, ordinal, words } from './wording.js';

export function ruleStatus(rule: Rule, l: Live, s: KeyState | undefined, silenced: string | null, now: number, before: Rule[] = []): RuleStatus {
  const used = s ? s.actions.filter((t) => now - t < windowOf(rule)).length : 0;
  const base = {
    rule: rule.name,
    source: rule.source,
    container: l.c.name,
    action: rule.action,
    triggers: rule.triggers.map(describeTrigger),
    level: s?.level ?? 0,
    budgetUsed: used,
    budgetMax: rule.guards.budget?.max ?? null,
    nextAllowedAt: null as number | null,
    gaveUpAt: s?.gaveUpAt ?? null,
  };
  const act = describeAction(rule.action);
  if (silenced) return { ...base, state: 'maintenance', detail: `silenced: ${silenced}` };
  if (s?.gaveUpAt != null) {
    return { ...base, state: 'given-up', detail: `gave up ${words(now - s.gaveUpAt)} ago after ${used} ${noun(rule.action)}s; clears after ${words(resetAfter(rule))} without trouble, or with \`outpost rules reset ${l.c.name}\`` };
  }
  if (s?.pending) {
    return { ...base, state: 'pending', nextAllowedAt: s.pending.at, detail: `will ${act} in ${words(s.pending.at - now)} (${s.pending.trigger.detail})` };
  }
  const over = supersededBy(rule, before);
  if (over) {
    return {
      ...base,
      state: 'superseded',
      detail: `never acts on ${l.c.name}: rule ${over.name} takes precedence on the same condition${rule.triggers.length > 1 ? 's' : ''} (${
        over.priority !== rule.priority ? `priority ${over.priority} over ${rule.priority}` : over.source.kind === 'labels' && rule.source.kind !== 'labels' ? 'the container\'s own label rule first' : 'earlier in the file'
      }); give ${over.name} \`notify: true\` to be told as well`,
    };
  }
  const onlyExits = rule.triggers.every((t) => t.kind === 'exit' || t.kind === 'oom');
  if (onlyExits && rule.action.kind !== 'notify' && dockerRestarts(l.c.restartPolicy, 1)) {
    return { ...base, state: 'left-to-docker', detail: `Docker's restart policy \`${l.c.restartPolicy}\` restarts it after a failure; this rule leaves those exits alone` };
  }
  if (s && s.lastActionAt !== null) {
    const allowedAt = Math.max(s.lastActionAt + backoffDelay(rule, s.level), s.lastActionAt + rule.guards.cooldownMs);
    if (allowedAt > now) {
      return {
        ...base,
        state: 'backing-off',
        nextAllowedAt: allowedAt,
        detail: `backing off: would ${act} in ${words(allowedAt - now)} at the earliest (${ordinal(used)} in ${words(windowOf(rule))} so far)`,
      };
    }
  }
  const spent = rule.guards.budget !== null && used >= rule.guards.budget.max;
const budget = rule.guards.budget
  ? spent
    ? `; budget ${used}/${rule.guards.budget.max} used up in ${words(rule.guards.budget.withinMs)}: the next time it holds, the rule gives up instead`
    : `; budget ${used}/${rule.guards.budget.max} used in ${words(rule.guards.budget.withinMs)}`
  : '';
  const current: string[] = [];
  if (rule.triggers.some((t) => t.kind === 'cpu') && l.cpuPercent !== null) current.push(`CPU now ${l.cpuPercent.toFixed(0)}%`);
  if (rule.triggers.some((t) => t.kind === 'memory') && l.memoryBytes !== null) {
    current.push(`memory now ${(l.memoryBytes / 1048576).toFixed(0)} MiB (${(l.memoryPercent ?? 0).toFixed(0)}%)`);
  }
  // Only where it means something for this rule: an exit rule does not care how long the container has been unhealthy.
  if (l.unhealthySince !== null && rule.triggers.some((t) => t.kind === 'unhealthy')) current.push(`unhealthy for ${words(now - l.unhealthySince)}`);
  return {
    ...base,
    state: 'armed',
    detail: `armed: would ${act} on ${base.triggers.join(' or ')}${budget}${current.length ? `; ${current.join(', ')}` : ''}`,
  };
}
