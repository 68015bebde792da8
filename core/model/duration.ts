import { BadInputError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration like `30s`, `10m`, `1h30m` or `250ms` into milliseconds.
 * A bare number is not accepted: `10` could mean seconds or minutes.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const t = String(text).trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) {
    throw new BadInputError(`${what} \`${text}\` is not a duration; use a number with a unit, e.g. 30s, 10m, 1h30m, 250ms.`);
  }
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
  }
  return Math.round(total);
}

/**
 * Parses `--since`: a duration back from now (`10m`), an RFC 3339 time, or
 * Unix seconds. Returns ms since the epoch.
 */
export function parseSince(text: string, now: number): number {
  const t = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (/^\d{4}-\d\d-\d\d/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
    throw new BadInputError(`--since \`${text}\` is not a valid date and time (e.g. 2024-05-01T10:00:00Z).`);
  }
  try {
    return now - parseDuration(t, '--since');
  } catch {
    throw new BadInputError(
      `--since \`${text}\` is neither a duration (10m), an RFC 3339 time (2024-05-01T10:00:00Z) nor Unix seconds.`,
    );
  }
}
