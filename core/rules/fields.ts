/**
 * The checks of single fields of a rule (durations, sizes, amounts, triggers,
 * actions, matches, guards), shared by the rules file (parse.ts) and the
 * containers' label rules (labels.ts). Pure: no YAML, no disk. A bad field
 * throws a FieldError with its path, caught per field by the caller.
 */
import { RE2JS } from 're2js';
import { MAX_DURATION_MS, parseDuration } from '../model/duration.js';
import { normalizeSignal, SIGNAL_HINT } from '../model/signals.js';
import { clip } from '../model/clip.js';
import {
  DEFAULT_BACKOFF,
  DEFAULT_NOTIFY_COOLDOWN_MS,
  type Action,
  type Amount,
  type Guards,
  type Match,
  type RuleIssue,
  type RuleSet,
  type Sustain,
  type Trigger,
} from './types.js';

/** Rules files larger than this are refused before parsing. */
export const MAX_RULES_FILE_BYTES = 1024 * 1024;
export const MAX_RULES = 1000;
export const MAX_REGEX_LENGTH = 1000;

export interface ParseResult {
  ruleSet: RuleSet;
  issues: RuleIssue[];
}

export type Path = (string | number)[];

/** Thrown inside the validator; caught per field so one rule can report several problems. */
export class FieldError extends Error {
  constructor(
    readonly path: Path,
    message: string,
    /** Further problems found in the same check (every unknown key of a mapping), reported with this one. */
    readonly more: readonly FieldError[] = [],
  ) {
    super(message);
  }

  /** This problem and the ones found with it. */
  all(): FieldError[] {
    return [this, ...this.more];
  }
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 60)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** Throws a FieldError naming every key of `map` that is not allowed (the first, with the others in `more`). */
export function checkKeys(map: Record<string, unknown>, allowed: readonly string[], path: Path): void {
  const errors: FieldError[] = [];
  for (const key of Object.keys(map)) {
    if (allowed.includes(key)) continue;
    const near = allowed
      .map((a) => ({ a, d: editDistance(a, key) }))
      .filter((x) => x.d <= 2)
      .sort((x, y) => x.d - y.d)[0]?.a;
    errors.push(new FieldError([...path, key], `unknown key \`${key}\`${near ? ` (did you mean \`${near}\`?)` : ''}; expected one of: ${allowed.join(', ')}`));
  }
  const [first, ...rest] = errors;
  if (first) throw new FieldError(first.path, first.message, rest);
}

export const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, kib: 1024,
  m: 1e6, mb: 1e6, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gib: 1024 ** 3,
  t: 1e12, tb: 1e12, tib: 1024 ** 4,
};

/** `512MiB`, `1.5GB`, `200m` (bytes; bare numbers are bytes). */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const unit = SIZE_UNITS[(m[2] as string).toLowerCase()];
  if (unit === undefined) return null;
  return Math.round(Number(m[1]) * unit);
}

/** A duration from the file; at most 10 years (parseDuration's bound) and at least `minMs`. */
export function durationAt(value: unknown, path: Path, what: string, minMs = 0): number {
  if (typeof value !== 'string') throw new FieldError(path, `expected ${what} as a duration like 30s, 10m or 1h, got ${describe(value)}`);
  let ms: number;
  try {
    ms = parseDuration(value, what, { max: Number.MAX_VALUE });
  } catch {
    throw new FieldError(path, `expected ${what} as a duration like 30s, 10m or 1h, got ${describe(value)}`);
  }
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) throw new FieldError(path, `expected ${what} of at most 10 years (3650d), got ${describe(value)}`);
  if (ms < minMs) throw new FieldError(path, `expected ${what} of at least ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`}, got ${describe(value)}`);
  return ms;
}

export function intAt(value: unknown, path: Path, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FieldError(path, `expected ${what} as a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function numberAt(value: unknown, path: Path, what: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*%?\s*$/.test(value) ? Number.parseFloat(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new FieldError(path, `expected ${what} as a number from ${min} to ${max}, got ${describe(value)}`);
  }
  return n;
}

export function amountAt(value: unknown, path: Path, what: string): Amount {
  if (typeof value === 'string' && /%\s*$/.test(value)) {
    return { percent: numberAt(value, path, `${what} (a percentage)`, 0, 100) };
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return { bytes: Math.round(value) };
  const bytes = typeof value === 'string' ? parseSize(value) : null;
  if (bytes === null) throw new FieldError(path, `expected ${what} as a size like 512MiB or 2GB, or a percentage like 90%, got ${describe(value)}`);
  return { bytes };
}

export function stringListAt(value: unknown, path: Path, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v, i) => {
    if (typeof v !== 'string' || v.length === 0) {
      throw new FieldError(Array.isArray(value) ? [...path, i] : path, `expected ${what} as a non-empty string or a list of them, got ${describe(v)}`);
    }
    return v;
  });
}

/** `10s-5m` or `{min, max, reset-after}`. */
export function backoffAt(value: unknown, path: Path): Guards['backoff'] {
  if (value === false || value === 'off' || value === 'none') return null;
  if (typeof value === 'string') {
    const m = /^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$/.exec(value);
    if (!m) throw new FieldError(path, `expected back-off as MIN-MAX like 10s-5m (or off), got ${describe(value)}`);
    const minMs = durationAt(m[1], path, 'back-off minimum');
    const maxMs = durationAt(m[2], path, 'back-off maximum');
    if (maxMs < minMs) throw new FieldError(path, `back-off maximum ${m[2]} is shorter than its minimum ${m[1]}`);
    return { minMs, maxMs, resetAfterMs: DEFAULT_BACKOFF.resetAfterMs };
  }
  if (!isMap(value)) throw new FieldError(path, `expected back-off as MIN-MAX like 10s-5m or a mapping {min, max, reset-after}, got ${describe(value)}`);
  checkKeys(value, ['min', 'max', 'reset-after'], path);
  const minMs = value.min === undefined ? DEFAULT_BACKOFF.minMs : durationAt(value.min, [...path, 'min'], 'back-off minimum');
  const maxMs = value.max === undefined ? DEFAULT_BACKOFF.maxMs : durationAt(value.max, [...path, 'max'], 'back-off maximum');
  const resetAfterMs =
    value['reset-after'] === undefined ? DEFAULT_BACKOFF.resetAfterMs : durationAt(value['reset-after'], [...path, 'reset-after'], 'reset-after', 1000);
  if (maxMs < minMs) throw new FieldError(path, 'back-off maximum is shorter than its minimum');
  return { minMs, maxMs, resetAfterMs };
}

/** `3/10m` or `{max, within}`. */
export function budgetAt(value: unknown, path: Path): Guards['budget'] {
  if (value === false || value === 'off' || value === 'none') return null;
  if (typeof value === 'string') {
    const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value);
    if (!m) throw new FieldError(path, `expected a budget as N/DURATION like 3/10m (or off), got ${describe(value)}`);
    const max = intAt(Number(m[1]), path, 'the budget count', 1, 10_000);
    return { max, withinMs: durationAt(m[2], path, 'the budget window', 1000) };
  }
  if (!isMap(value)) throw new FieldError(path, `expected a budget as N/DURATION like 3/10m or a mapping {max, within}, got ${describe(value)}`);
  checkKeys(value, ['max', 'within'], path);
  return {
    max: intAt(value.max, [...path, 'max'], 'the budget count', 1, 10_000),
    withinMs: durationAt(value.within, [...path, 'within'], 'the budget window', 1000),
  };
}

export function sustainAt(map: Record<string, unknown>, path: Path): Sustain {
  if (map.for !== undefined && map.samples !== undefined) throw new FieldError([...path, 'samples'], 'give either `for` or `samples`, not both');
  if (map.for !== undefined) return { forMs: durationAt(map.for, [...path, 'for'], '`for`') };
  if (map.samples !== undefined) return { samples: intAt(map.samples, [...path, 'samples'], '`samples`', 1, 10_000) };
  return null;
}

/** A compiled log pattern: RE2 semantics, matched in time linear in the line (no catastrophic backtracking). */
export interface LogPattern {
  test(text: string): boolean;
}

/** Compiles a rules file's log pattern with re2js (RE2 syntax: no look-around, no back-references). Throws on a bad pattern. */
export function compileRegex(pattern: string, flags: string): LogPattern {
  const re = RE2JS.compile(pattern, flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0);
  return { test: (text: string) => re.test(text) };
}

/**
 * The webhook, checked with the same parser (WHATWG URL) that fetch uses
 * later: what passes here cannot fail there.
 */
export function webhookUrl(value: unknown): string {
  // The value is not repeated: a hook's address often is its secret (its path, a ?token=), and problems reach viewers.
  const bad = () => new FieldError(['webhook'], `expected an http:// or https:// URL with a host, got ${typeof value === 'string' ? `a string of ${value.length} characters that is not one` : describe(value)}`);
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse?.(value)) throw bad();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad();
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw bad();
  return url.toString();
}

export const TRIGGER_KEYS = ['exit', 'oom', 'unhealthy', 'cpu', 'memory', 'log', 'restarts', 'host'] as const;

export function triggerAt(key: string, value: unknown, path: Path): Trigger {
  switch (key) {
    case 'exit': {
      if (value === 'nonzero' || value === 'non-zero' || value === true) return { kind: 'exit', code: 'nonzero' };
      if (value === 'any') return { kind: 'exit', code: 'any' };
      throw new FieldError(path, `expected \`nonzero\` or \`any\`, got ${describe(value)}`);
    }
    case 'oom':
      if (value === true) return { kind: 'oom' };
      throw new FieldError(path, `expected \`true\`, got ${describe(value)}`);
    case 'unhealthy': {
      if (value === true) return { kind: 'unhealthy', forMs: 0 };
      if (typeof value === 'string') return { kind: 'unhealthy', forMs: durationAt(value, path, 'how long it must stay unhealthy') };
      if (isMap(value)) {
        checkKeys(value, ['for'], path);
        return { kind: 'unhealthy', forMs: value.for === undefined ? 0 : durationAt(value.for, [...path, 'for'], '`for`') };
      }
      throw new FieldError(path, `expected \`true\`, a duration like 30s, or {for: DURATION}, got ${describe(value)}`);
    }
    case 'cpu': {
      if (!isMap(value)) throw new FieldError(path, `expected a mapping {above: PERCENT, for: DURATION | samples: N}, got ${describe(value)}`);
      checkKeys(value, ['above', 'for', 'samples'], path);
      if (value.above === undefined) throw new FieldError([...path, 'above'], 'missing: the CPU percentage (of one core) to stay above');
      return {
        kind: 'cpu',
        abovePercent: numberAt(value.above, [...path, 'above'], 'the CPU percentage (of one core)', 0, 100_000),
        sustain: sustainAt(value, path),
      };
    }
    case 'memory': {
      if (!isMap(value)) throw new FieldError(path, `expected a mapping {above: SIZE | PERCENT, for: DURATION | samples: N}, got ${describe(value)}`);
      checkKeys(value, ['above', 'for', 'samples'], path);
      if (value.above === undefined) throw new FieldError([...path, 'above'], 'missing: a size like 512MiB or a percentage of the limit like 90%');
      return { kind: 'memory', above: amountAt(value.above, [...path, 'above'], 'the memory threshold'), sustain: sustainAt(value, path) };
    }
    case 'log': {
      const map = typeof value === 'string' ? { match: value } : value;
      if (!isMap(map)) throw new FieldError(path, `expected a regular expression or a mapping {match, stream, ignore-case}, got ${describe(value)}`);
      checkKeys(map, ['match', 'stream', 'ignore-case'], path);
      const at = typeof value === 'string' ? path : [...path, 'match'];
      if (typeof map.match !== 'string' || map.match.length === 0) throw new FieldError(at, `expected a regular expression, got ${describe(map.match)}`);
      if (map.match.length > MAX_REGEX_LENGTH) throw new FieldError(at, `the regular expression is ${map.match.length} characters; the limit is ${MAX_REGEX_LENGTH}`);
      const stream = map.stream === undefined ? 'any' : map.stream;
      if (stream !== 'stdout' && stream !== 'stderr' && stream !== 'any') {
        throw new FieldError([...path, 'stream'], `expected stdout, stderr or any, got ${describe(stream)}`);
      }
      if (map['ignore-case'] !== undefined && typeof map['ignore-case'] !== 'boolean') {
        throw new FieldError([...path, 'ignore-case'], `expected true or false, got ${describe(map['ignore-case'])}`);
      }
      const flags = map['ignore-case'] === true ? 'i' : '';
      try {
        compileRegex(map.match, flags);
      } catch (err) {
        throw new FieldError(
          at,
          `not a valid regular expression (RE2 syntax: no look-around or back-references): ${String((err as Error).message).replace(/^error parsing regexp: /, '')}`,
        );
      }
      return { kind: 'log', pattern: map.match, flags, stream };
    }
    case 'restarts': {
      if (!isMap(value)) throw new FieldError(path, `expected a mapping {more-than: N, within: DURATION}, got ${describe(value)}`);
      checkKeys(value, ['more-than', 'within'], path);
      return {
        kind: 'restarts',
        moreThan: intAt(value['more-than'], [...path, 'more-than'], '`more-than`', 0, 100_000),
        withinMs: durationAt(value.within, [...path, 'within'], '`within`', 1),
      };
    }
    case 'host': {
      if (!isMap(value)) {
        throw new FieldError(path, `expected a mapping with one of disk-above, memory-available-below, temperature-above (and for/samples), got ${describe(value)}`);
      }
      checkKeys(value, ['disk-above', 'memory-available-below', 'temperature-above', 'for', 'samples'], path);
      const metrics = ['disk-above', 'memory-available-below', 'temperature-above'].filter((k) => value[k] !== undefined);
      if (metrics.length !== 1) throw new FieldError(path, 'give exactly one of disk-above, memory-available-below, temperature-above');
      const sustain = sustainAt(value, path);
      if (value['disk-above'] !== undefined) {
        return { kind: 'host', metric: 'disk', threshold: { percent: numberAt(value['disk-above'], [...path, 'disk-above'], 'the disk use percentage', 0, 100) }, sustain };
      }
      if (value['temperature-above'] !== undefined) {
        return {
          kind: 'host',
          metric: 'temperature',
          threshold: { celsius: numberAt(value['temperature-above'], [...path, 'temperature-above'], 'the temperature in °C', -50, 200) },
          sustain,
        };
      }
      return {
        kind: 'host',
        metric: 'memory-available',
        threshold: amountAt(value['memory-available-below'], [...path, 'memory-available-below'], 'the available memory'),
        sustain,
      };
    }
    default:
      throw new FieldError(path, `unknown condition \`${key}\`; expected one of: ${TRIGGER_KEYS.join(', ')}`);
  }
}

export const ACTIONS = ['restart', 'stop', 'start', 'kill', 'exec', 'notify', 'move'] as const;

export function actionAt(value: unknown, path: Path): Action {
  if (typeof value === 'string') {
    if (value === 'restart' || value === 'stop' || value === 'start' || value === 'move') return { kind: value };
    if (value === 'kill') return { kind: 'kill', signal: 'SIGKILL' };
    if (value === 'notify') return { kind: 'notify' };
    if (value === 'exec') throw new FieldError(path, 'exec needs a command: then: {exec: ["sh", "-c", "..."]}');
    throw new FieldError(path, `expected one of ${ACTIONS.join(', ')}, got ${describe(value)}`);
  }
  if (!isMap(value)) throw new FieldError(path, `expected an action (${ACTIONS.join(', ')}) or a mapping like {exec: [...]}, got ${describe(value)}`);
  const keys = Object.keys(value);
  if (keys.length !== 1) throw new FieldError(path, `expected exactly one action, got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  const key = keys[0] as string;
  const arg = value[key];
  const at = [...path, key];
  switch (key) {
    case 'restart':
    case 'stop':
    case 'start':
    case 'move':
      if (arg !== true && arg !== null) throw new FieldError(at, `expected true, got ${describe(arg)}`);
      return { kind: key };
    case 'kill':
      if (arg === true || arg === null) return { kind: 'kill', signal: 'SIGKILL' };
    {
      const signal = typeof arg === 'string' || typeof arg === 'number' ? normalizeSignal(String(arg)) : null;
      if (signal === null) throw new FieldError(at, `expected ${SIGNAL_HINT}, got ${describe(arg)}`);
      return { kind: 'kill', signal };
    }
    case 'exec': {
      if (typeof arg === 'string' && arg.trim() === '') throw new FieldError(at, 'expected a command, got an empty string');
      const command = typeof arg === 'string' ? ['sh', '-c', arg] : stringListAt(arg, at, 'the command');
      if (command.length === 0) throw new FieldError(at, 'expected a command, got an empty list');
      return { kind: 'exec', command };
    }
    case 'notify':
      if (arg === true || arg === null) return { kind: 'notify' };
      if (typeof arg !== 'string') throw new FieldError(at, `expected true or a message, got ${describe(arg)}`);
      return { kind: 'notify', message: arg };
    default:
      throw new FieldError(at, `unknown action \`${key}\`; expected one of: ${ACTIONS.join(', ')}`);
  }
}

export function matchAt(value: unknown, path: Path): Match {
  const match: Match = { names: [], images: [], labels: [], projects: [] };
  if (value === undefined) return match;
  if (!isMap(value)) throw new FieldError(path, `expected a mapping {name, image, label, project}, got ${describe(value)}`);
  checkKeys(value, ['name', 'image', 'label', 'project'], path);
  if (value.name !== undefined) match.names = stringListAt(value.name, [...path, 'name'], 'a name glob');
  if (value.image !== undefined) match.images = stringListAt(value.image, [...path, 'image'], 'an image glob');
  if (value.project !== undefined) match.projects = stringListAt(value.project, [...path, 'project'], 'a compose project');
  if (value.label !== undefined) {
    match.labels = stringListAt(value.label, [...path, 'label'], 'a label (key or key=value)').map((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? { key: l } : { key: l.slice(0, eq), value: l.slice(eq + 1) };
    });
  }
  return match;
}

export const RULE_KEYS = ['name', 'match', 'when', 'then', 'priority', 'backoff', 'budget', 'cooldown', 'notify'] as const;

export function defaultGuards(action: Action, defaults: Partial<Guards>): Guards {
  const mutating = action.kind !== 'notify';
  return {
    backoff: defaults.backoff !== undefined ? defaults.backoff : mutating ? { ...DEFAULT_BACKOFF } : null,
    budget: defaults.budget !== undefined ? defaults.budget : null,
    cooldownMs: defaults.cooldownMs ?? (mutating ? 0 : DEFAULT_NOTIFY_COOLDOWN_MS),
  };
}

/** One line per issue: `FILE:LINE:COL: rule 2 "web": when.cpu.above: expected …`. */
/** A problem in one line: file:line:column: rule N "name": field: message. Every part is bounded (they echo what the file holds). */
export function formatIssue(issue: RuleIssue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
  const rule = issue.rule ? ` rule ${issue.rule.index + 1}${issue.rule.name ? ` "${clip(issue.rule.name, 200)}"` : ''}:` : '';
  return `${clip(where, 1000)}:${rule} ${clip(issue.field, 200)}: ${clip(issue.message, 1000)}`;
}
