import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import {
  DEFAULT_SAMPLE_INTERVAL_MS,
  type Guards,
  type Rule,
  type RuleIssue,
  type RuleSet,
  type Trigger,
} from './types.js';
import { actionAt, ACTIONS, backoffAt, budgetAt, checkKeys, defaultGuards, describe, durationAt, FieldError, intAt, isMap, matchAt, MAX_RULES, MAX_RULES_FILE_BYTES, type ParseResult, type Path, RULE_KEYS, TRIGGER_KEYS, triggerAt, webhookUrl } from './fields.js';
import { clip } from '../model/clip.js';

/** How much of a rule name a problem echoes (a valid one is at most 64 characters). */
const MAX_NAME_ECHO = 64;

export { compileRegex, formatIssue, MAX_RULES, MAX_RULES_FILE_BYTES, parseSize, webhookUrl, type LogPattern, type ParseResult } from './fields.js';
export { ruleFromLabels } from './labels.js';

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
    for (const e of err.all()) ctx.issues.push(issueAt(ctx, e.path, e.message));
  }
  const top = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      for (const e of err.all()) ctx.issues.push(issueAt(ctx, e.path, e.message));
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
    // The name as problems echo it: bounded (a 1 MB name made a 1 MB error on every reload).
    const where = { index, ...(name !== undefined ? { name: clip(name, MAX_NAME_ECHO) } : {}) };
    const before = ctx.issues.length;
    // Every problem of a rule in one run: a duplicate name is reported whatever else is wrong with it.
    const key = isMap(raw) ? (raw.name === undefined ? `rule-${index + 1}` : name) : undefined;
    if (key !== undefined) {
      const dup = seen.get(key);
      if (dup !== undefined) ctx.issues.push(issueAt(ctx, ['rules', index, 'name'], `the name "${clip(key, MAX_NAME_ECHO)}" is already used by rule ${dup + 1}`, where));
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
      for (const e of err.all()) report(e.path, e.message);
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

