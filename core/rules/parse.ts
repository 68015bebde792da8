import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { RE2JS } from 're2js';
import { MAX_DURATION_MS, parseDuration } from '../model/duration.js';
import { normalizeSignal, SIGNAL_HINT } from '../model/signals.js';
import {
  DEFAULT_BACKOFF,
  DEFAULT_NOTIFY_COOLDOWN_MS,
  DEFAULT_SAMPLE_INTERVAL_MS,
  LABEL_BACKOFF,
  LABEL_RESTART_BUDGET,
  LABEL_RESTART_ON,
  type Action,
  type Amount,
  type Guards,
  type Match,
  type Rule,
  type RuleIssue,
  type RuleSet,
  type Sustain,
  type Trigger,
} from './types.js';

/** Rules files larger than this are refused before parsing. */
export const MAX_RULES_FILE_BYTES = 1024 * 1024;
export const MAX_RULES = 1000;
const MAX_REGEX_LENGTH = 1000;

export interface ParseResult {
  ruleSet: RuleSet;
  issues: RuleIssue[];
}

type Path = (string | number)[];

/** Thrown inside the validator; caught per field so one rule can report several problems. */
class FieldError extends Error {
  constructor(
    readonly path: Path,
    message: string,
  ) {
    super(message);
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 60)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function editDistance(a: string, b: string): number {
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

function checkKeys(map: Record<string, unknown>, allowed: readonly string[], path: Path): void {
  for (const key of Object.keys(map)) {
    if (allowed.includes(key)) continue;
    const near = allowed
      .map((a) => ({ a, d: editDistance(a, key) }))
      .filter((x) => x.d <= 2)
      .sort((x, y) => x.d - y.d)[0]?.a;
    throw new FieldError(
      [...path, key],
      `unknown key \`${key}\`${near ? ` (did you mean \`${near}\`?)` : ''}; expected one of: ${allowed.join(', ')}`,
    );
  }
}

const SIZE_UNITS: Record<string, number> = {
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
function durationAt(value: unknown, path: Path, what: string, minMs = 0): number {
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

function intAt(value: unknown, path: Path, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FieldError(path, `expected ${what} as a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function numberAt(value: unknown, path: Path, what: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*%?\s*$/.test(value) ? Number.parseFloat(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new FieldError(path, `expected ${what} as a number from ${min} to ${max}, got ${describe(value)}`);
  }
  return n;
}

function amountAt(value: unknown, path: Path, what: string): Amount {
  if (typeof value === 'string' && /%\s*$/.test(value)) {
    return { percent: numberAt(value, path, `${what} (a percentage)`, 0, 100) };
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return { bytes: Math.round(value) };
  const bytes = typeof value === 'string' ? parseSize(value) : null;
  if (bytes === null) throw new FieldError(path, `expected ${what} as a size like 512MiB or 2GB, or a percentage like 90%, got ${describe(value)}`);
  return { bytes };
}

function stringListAt(value: unknown, path: Path, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v, i) => {
    if (typeof v !== 'string' || v.length === 0) {
      throw new FieldError(Array.isArray(value) ? [...path, i] : path, `expected ${what} as a non-empty string or a list of them, got ${describe(v)}`);
    }
    return v;
  });
}

/** `10s-5m` or `{min, max, reset-after}`. */
function backoffAt(value: unknown, path: Path): Guards['backoff'] {
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
function budgetAt(value: unknown, path: Path): Guards['budget'] {
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

function sustainAt(map: Record<string, unknown>, path: Path): Sustain {
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
  const bad = () => new FieldError(['webhook'], `expected an http:// or https:// URL, got ${describe(value)}`);
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

const TRIGGER_KEYS = ['exit', 'oom', 'unhealthy', 'cpu', 'memory', 'log', 'restarts', 'host'] as const;

function triggerAt(key: string, value: unknown, path: Path): Trigger {
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

const ACTIONS = ['restart', 'stop', 'start', 'kill', 'exec', 'notify'] as const;

function actionAt(value: unknown, path: Path): Action {
  if (typeof value === 'string') {
    if (value === 'restart' || value === 'stop' || value === 'start') return { kind: value };
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

function matchAt(value: unknown, path: Path): Match {
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

const RULE_KEYS = ['name', 'match', 'when', 'then', 'priority', 'backoff', 'budget', 'cooldown', 'notify'] as const;

function defaultGuards(action: Action, defaults: Partial<Guards>): Guards {
  const mutating = action.kind !== 'notify';
  return {
    backoff: defaults.backoff !== undefined ? defaults.backoff : mutating ? { ...DEFAULT_BACKOFF } : null,
    budget: defaults.budget !== undefined ? defaults.budget : null,
    cooldownMs: defaults.cooldownMs ?? (mutating ? 0 : DEFAULT_NOTIFY_COOLDOWN_MS),
  };
}

interface Located {
  issues: RuleIssue[];
  doc: Document | null;
  lines: LineCounter | null;
  file: string;
}

function issueAt(ctx: Located, path: Path, message: string, rule?: { index: number; name?: string }): RuleIssue {
  const issue: RuleIssue = { file: ctx.file, field: path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '['), message };
  if (rule) {
    issue.rule = rule;
    // The field inside the rule reads better without the rules[N] prefix.
    issue.field = issue.field.replace(/^rules\[\d+\]\.?/, '') || '(the rule)';
  }
  if (ctx.doc && ctx.lines) {
    // The deepest node that exists along the path carries the position.
    for (let n = path.length; n >= 0; n--) {
      const node = ctx.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const pos = ctx.lines.linePos(node.range[0]);
        issue.line = pos.line;
        issue.column = pos.col;
        break;
      }
    }
  }
  return issue;
}

/**
 * Parses and validates a rules document (YAML; JSON is YAML too). Never
 * throws: every problem comes back as a `RuleIssue` that names the file, the
 * rule (index and name) and the field, with what was expected. Rules with
 * problems are left out; the others are returned.
 */
export function parseRules(text: string, file: string): ParseResult {
  const ruleSet: RuleSet = { rules: [], sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS, webhook: null };
  const ctx: Located = { issues: [], doc: null, lines: null, file };
  const size = Buffer.byteLength(text);
  if (size > MAX_RULES_FILE_BYTES) {
    ctx.issues.push({ file, field: '(file)', message: `the file is ${(size / 1024 / 1024).toFixed(1)} MiB; a rules file may be at most 1 MiB` });
    return { ruleSet, issues: ctx.issues };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  ctx.doc = doc;
  ctx.lines = lines;
  if (doc.errors.length > 0) {
    for (const e of doc.errors.slice(0, 10)) {
      const pos = lines.linePos(e.pos[0]);
      ctx.issues.push({ file, field: '(syntax)', message: e.message.split('\n')[0] as string, line: pos.line, column: pos.col });
    }
    return { ruleSet, issues: ctx.issues };
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    ctx.issues.push({ file, field: '(file)', message: (err as Error).message });
    return { ruleSet, issues: ctx.issues };
  }
  if (root === null || root === undefined) return { ruleSet, issues: [] };
  if (!isMap(root)) {
    ctx.issues.push(issueAt(ctx, [], `expected a mapping with \`rules:\` at the top, got ${describe(root)}`));
    return { ruleSet, issues: ctx.issues };
  }
  const defaults: Partial<Guards> = {};
  try {
    checkKeys(root, ['version', 'interval', 'webhook', 'defaults', 'rules'], []);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    ctx.issues.push(issueAt(ctx, err.path, err.message));
  }
  const top = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      ctx.issues.push(issueAt(ctx, err.path, err.message));
    }
  };
  top(() => {
    if (root.version !== undefined && root.version !== 1) throw new FieldError(['version'], `expected 1, got ${describe(root.version)}`);
  });
  top(() => {
    if (root.interval === undefined) return;
    const ms = durationAt(root.interval, ['interval'], 'the sample interval');
    if (ms < 250) throw new FieldError(['interval'], 'expected a sample interval of at least 250ms');
    if (ms > 86_400_000) throw new FieldError(['interval'], 'expected a sample interval of at most 1d');
    ruleSet.sampleIntervalMs = ms;
  });
  top(() => {
    if (root.webhook === undefined || root.webhook === null) return;
    ruleSet.webhook = webhookUrl(root.webhook);
  });
  top(() => {
    if (root.defaults === undefined) return;
    if (!isMap(root.defaults)) throw new FieldError(['defaults'], `expected a mapping {backoff, budget, cooldown}, got ${describe(root.defaults)}`);
    checkKeys(root.defaults, ['backoff', 'budget', 'cooldown'], ['defaults']);
    if (root.defaults.backoff !== undefined) defaults.backoff = backoffAt(root.defaults.backoff, ['defaults', 'backoff']);
    if (root.defaults.budget !== undefined) defaults.budget = budgetAt(root.defaults.budget, ['defaults', 'budget']);
    if (root.defaults.cooldown !== undefined) defaults.cooldownMs = durationAt(root.defaults.cooldown, ['defaults', 'cooldown'], 'the cooldown');
  });
  if (root.rules === undefined || root.rules === null) return { ruleSet, issues: ctx.issues };
  if (!Array.isArray(root.rules)) {
    ctx.issues.push(issueAt(ctx, ['rules'], `expected a list of rules, got ${describe(root.rules)}`));
    return { ruleSet, issues: ctx.issues };
  }
  if (root.rules.length > MAX_RULES) {
    ctx.issues.push(issueAt(ctx, ['rules'], `${root.rules.length} rules; a file may hold at most ${MAX_RULES}`));
    return { ruleSet, issues: ctx.issues };
  }
  const seen = new Map<string, number>();
  root.rules.forEach((raw: unknown, index: number) => {
    const name = isMap(raw) && typeof raw.name === 'string' ? raw.name : undefined;
    const where = { index, ...(name !== undefined ? { name } : {}) };
    const before = ctx.issues.length;
    // Every problem of a rule in one run: a duplicate name is reported whatever else is wrong with it.
    const key = isMap(raw) ? (raw.name === undefined ? `rule-${index + 1}` : name) : undefined;
    if (key !== undefined) {
      const dup = seen.get(key);
      if (dup !== undefined) ctx.issues.push(issueAt(ctx, ['rules', index, 'name'], `the name "${key}" is already used by rule ${dup + 1}`, where));
      else seen.set(key, index);
    }
    const rule = ruleAt(raw, index, file, defaults, (path, message) => ctx.issues.push(issueAt(ctx, path, message, where)));
    if (!rule || ctx.issues.length > before) return;
    ruleSet.rules.push(rule);
  });
  return { ruleSet, issues: ctx.issues };
}

function ruleAt(
  raw: unknown,
  index: number,
  file: string,
  defaults: Partial<Guards>,
  report: (path: Path, message: string) => void,
): Rule | null {
  const base: Path = ['rules', index];
  if (!isMap(raw)) {
    report(base, `expected a rule (a mapping with when and then), got ${describe(raw)}`);
    return null;
  }
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      report(err.path, err.message);
      return undefined;
    }
  };
  attempt(() => checkKeys(raw, RULE_KEYS, base));
  const name = attempt(() => {
    if (raw.name === undefined) return `rule-${index + 1}`;
    if (typeof raw.name !== 'string' || !/^[\w.:-]{1,64}$/.test(raw.name)) {
      throw new FieldError([...base, 'name'], `expected a name of letters, digits, . _ : - (at most 64), got ${describe(raw.name)}`);
    }
    return raw.name;
  });
  const match = attempt(() => matchAt(raw.match, [...base, 'match']));
  const triggers = attempt(() => {
    if (raw.when === undefined) throw new FieldError([...base, 'when'], `missing: a condition (${TRIGGER_KEYS.join(', ')})`);
    if (!isMap(raw.when)) throw new FieldError([...base, 'when'], `expected a mapping of conditions (${TRIGGER_KEYS.join(', ')}), got ${describe(raw.when)}`);
    const keys = Object.keys(raw.when);
    if (keys.length === 0) throw new FieldError([...base, 'when'], `expected at least one condition (${TRIGGER_KEYS.join(', ')})`);
    const list: Trigger[] = [];
    for (const key of keys) {
      const t = attempt(() => triggerAt(key, (raw.when as Record<string, unknown>)[key], [...base, 'when', key]));
      if (t) list.push(t);
    }
    return list;
  });
  const action = attempt(() => {
    if (raw.then === undefined) throw new FieldError([...base, 'then'], `missing: an action (${ACTIONS.join(', ')})`);
    return actionAt(raw.then, [...base, 'then']);
  });
  const priority = attempt(() => (raw.priority === undefined ? 0 : intAt(raw.priority, [...base, 'priority'], 'the priority', -1000, 1000)));
  const guards: Guards | undefined = defaultGuards(action ?? { kind: 'restart' }, defaults);
  let guardsOk = true;
  const guard = (fn: () => void) => {
    if (attempt(() => (fn(), true)) === undefined) guardsOk = false;
  };
  if (raw.backoff !== undefined) guard(() => (guards.backoff = backoffAt(raw.backoff, [...base, 'backoff'])));
  if (raw.budget !== undefined) guard(() => (guards.budget = budgetAt(raw.budget, [...base, 'budget'])));
  if (raw.cooldown !== undefined) guard(() => (guards.cooldownMs = durationAt(raw.cooldown, [...base, 'cooldown'], 'the cooldown')));
  const notify = attempt(() => {
    if (raw.notify === undefined) return false;
    if (typeof raw.notify !== 'boolean') throw new FieldError([...base, 'notify'], `expected true or false, got ${describe(raw.notify)}`);
    return raw.notify;
  });
  const startMisfit = action?.kind === 'start' && (triggers ?? []).some((t) => t.kind !== 'exit' && t.kind !== 'oom' && t.kind !== 'host');
  if (startMisfit) report([...base, 'then'], '`start` only makes sense with `exit`, `oom` or `host` conditions (the other conditions need a running container)');
  if (name === undefined || !match || !triggers || !action || priority === undefined || !guardsOk || notify === undefined || startMisfit) return null;
  return { name, source: { kind: 'file', file, index }, match, triggers, action, guards, priority, notify };
}

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
      if (container.labels[label] !== undefined) issues.push({ file, field: label, message: `has no effect without ${LABEL_RESTART_ON}` });
    }
    return { rule: null, issues };
  }
  const triggers: Trigger[] = [];
  for (const part of on.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part === 'exit-nonzero') triggers.push({ kind: 'exit', code: 'nonzero' });
    else if (part === 'exit-any') triggers.push({ kind: 'exit', code: 'any' });
    else if (part === 'unhealthy') triggers.push({ kind: 'unhealthy', forMs: 0 });
    else if (part === 'oom') triggers.push({ kind: 'oom' });
    else issues.push({ file, field: LABEL_RESTART_ON, message: `unknown condition "${part}"; expected a comma list of ${RESTART_ON.join(', ')}` });
  }
  if (triggers.length === 0 && issues.length === 0) {
    issues.push({ file, field: LABEL_RESTART_ON, message: `is empty; expected a comma list of ${RESTART_ON.join(', ')}` });
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
      issues.push({ file, field: label, message: err.message });
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

/** One line per issue: `FILE:LINE:COL: rule 2 "web": when.cpu.above: expected …`. */
export function formatIssue(issue: RuleIssue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
  const rule = issue.rule ? ` rule ${issue.rule.index + 1}${issue.rule.name ? ` "${issue.rule.name}"` : ''}:` : '';
  return `${where}:${rule} ${issue.field}: ${issue.message}`;
}
