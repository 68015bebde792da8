/**
 * How the rule engine says things: durations, ordinals, actions and
 * triggers in words (journal reasons, explain, notifications).
 */
import type { Action, Sustain, Trigger } from './types.js';

export function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${s}`;
}

/** A duration in words: `250ms`, `45s`, `1m30s`, `2h`, `1h59m`. Each unit is rounded once, so it carries (never `1h60m`). */
export function words(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1000) return `${whole}ms`;
  const s = Math.round(whole / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`;
  // Whole minutes first, then hours of them: 1h59m30s is 2h, not 1h60m.
  const minutes = Math.round(s / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case 'kill':
      return `kill (${a.signal})`;
    case 'exec':
      return `exec ${a.command.join(' ')}`;
    case 'move':
      return 'move to another node (placement)';
    default:
      return a.kind;
  }
}

export function pastTense(a: Action, name: string): string {
  switch (a.kind) {
    case 'restart':
      return `restarted ${name}`;
    case 'stop':
      return `stopped ${name}`;
    case 'start':
      return `started ${name}`;
    case 'kill':
      return `killed ${name} with ${a.signal}`;
    case 'exec':
      return `ran \`${a.command.join(' ')}\` in ${name}`;
    case 'notify':
      return `notified about ${name}`;
    case 'move':
      // Said before the outcome: whether it went, and where, is the outcome's line.
      return `moving ${name} to another node`;
  }
}

export function noun(a: Action): string {
  return a.kind === 'exec' ? 'exec' : a.kind === 'notify' ? 'notification' : a.kind;
}

export function describeTrigger(t: Trigger): string {
  const sustain = (s: Sustain) => (s === null ? '' : 'forMs' in s ? ` for ${words(s.forMs)}` : ` for ${s.samples} samples`);
  switch (t.kind) {
    case 'exit':
      return t.code === 'any' ? 'any exit' : 'an exit with a non-zero code';
    case 'oom':
      return 'an OOM kill';
    case 'unhealthy':
      return t.forMs > 0 ? `unhealthy for ${words(t.forMs)}` : 'turning unhealthy';
    case 'cpu':
      return `CPU above ${t.abovePercent}%${sustain(t.sustain)}`;
    case 'memory':
      return `memory above ${'percent' in t.above ? `${t.above.percent}% of its limit` : `${t.above.bytes} bytes`}${sustain(t.sustain)}`;
    case 'log':
      return `a ${t.stream === 'any' ? '' : `${t.stream} `}line matching /${t.pattern}/${t.flags}`;
    case 'restarts':
      return `more than ${t.moreThan} starts within ${words(t.withinMs)}`;
    case 'host': {
      const th = t.threshold;
      const what =
        t.metric === 'disk'
          ? `disk use above ${'percent' in th ? th.percent : 0}%`
          : t.metric === 'temperature'
            ? `temperature above ${'celsius' in th ? th.celsius : 0}°C`
            : `available memory below ${'percent' in th ? `${th.percent}%` : 'bytes' in th ? `${th.bytes} bytes` : ''}`;
      return `host ${what}${sustain(t.sustain)}`;
    }
  }
}

/** Whether `t` (of a lower rule) can never fire because `h` (of a higher one) takes the same input first. */
