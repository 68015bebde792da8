import { BadInputError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest duration anyone may give (a pause, a rules file's cooldown,
 * a budget window): 10 years. Far beyond any real use, and far inside what a
 * Date can hold (±8.64e15 ms), so `now + duration` is always a valid time.
 */
export const MAX_DURATION_MS = 10 * 365 * 86_400_000;

/** The latest time a Date can hold (ms since the epoch). */
export const MAX_TIME_MS = 8.64e15;

/** Whether `ms` is a time a Date can hold (and so can be printed). */
export function isValidTime(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS;
}

/**
 * Parses a duration like `30s`, `10m`, `1h30m` or `250ms` into milliseconds.
 * A bare number is not accepted: `10` could mean seconds or minutes. Neither
 * is anything longer than `max` (default 10 years) or shorter than `min`.
 */
export function parseDuration(text: string, what = 'duration', bounds: { min?: number; max?: number } = {}): number {
  const t = String(text).trim();
  if (t.length > 64 || !/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) {
    throw new BadInputError(`${what} \`${text}\` is not a duration; use a number with a unit, e.g. 30s, 10m, 1h30m, 250ms.`);
  }
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
  }
  const ms = Math.round(total);
  const max = bounds.max ?? MAX_DURATION_MS;
  const min = bounds.min ?? 0;
  if (!Number.isFinite(ms) || ms > max) throw new BadInputError(`${what} \`${text}\` is too long; at most ${describeMax(max)}.`);
  if (ms < min) throw new BadInputError(`${what} \`${text}\` is too short; at least ${min} ms.`);
  return ms;
}

function describeMax(ms: number): string {
  if (ms === MAX_DURATION_MS) return '10 years (3650d)';
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  return `${ms} ms`;
}

/**
 * Parses `--since`: a duration back from now (`10m`), an RFC 3339 time, or
 * Unix seconds. Returns ms since the epoch, always from 0 to the year 9999
 * (what the engine takes).
 */
export function parseSince(text: string, now: number): number {
  const t = String(text).trim();
  const bounded = (ms: number): number => {
    if (!Number.isFinite(ms) || ms < 0 || ms > LATEST_SINCE_MS) {
      throw new BadInputError(`--since \`${text}\` is out of range; give a time from 1970 to 9999.`);
    }
    return ms;
  };
  if (/^\d+(\.\d+)?$/.test(t)) return bounded(Math.round(Number(t) * 1000));
  if (/^\d{4}-\d\d-\d\d/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return bounded(ms);
    throw new BadInputError(`--since \`${text}\` is not a valid date and time (e.g. 2024-05-01T10:00:00Z).`);
  }
  let back: number;
  try {
    back = parseDuration(t, '--since');
  } catch {
    throw new BadInputError(
      `--since \`${text}\` is neither a duration (10m), an RFC 3339 time (2024-05-01T10:00:00Z) nor Unix seconds.`,
    );
  }
  return Math.max(0, now - back);
}

/** 9999-12-31T23:59:59Z. */
const LATEST_SINCE_MS = 253_402_300_799_000;
