import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseRules } from '../../core/rules/parse.js';

/** A small seeded PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['name', 'match', 'when', 'then', 'priority', 'backoff', 'budget', 'cooldown', 'notify', 'exit', 'oom', 'unhealthy', 'cpu', 'memory',
  'log', 'restarts', 'host', 'above', 'for', 'samples', 'more-than', 'within', 'disk-above', 'image', 'label', 'project', 'exec', 'kill', 'min',
  'max', 'reset-after', 'rules', 'defaults', 'interval', 'webhook', 'version', '__proto__', 'constructor', 'toString'];
const STRINGS = ['restart', 'stop', 'start', 'kill', 'notify', 'exec', 'nonzero', 'any', '10s', '5m-10s', '3/10m', '0/0s', '90%', '512MiB', '-1',
  '(', '[a-', '.*', '(a+)+$', 'web*', '**', '', ' ', '\u0000', '\u202e', '1e309', 'NaN', 'true', 'https://x', 'javascript:alert(1)', '%', '10s-5m',
  'x'.repeat(2000)];

function value(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 4 || k < 0.35) {
    const p = r();
    if (p < 0.4) return STRINGS[Math.floor(r() * STRINGS.length)];
    if (p < 0.6) return [0, 1, -1, 3.5, 1e308, -0, 100, 100_001, Number.MAX_SAFE_INTEGER][Math.floor(r() * 9)];
    if (p < 0.75) return r() < 0.5;
    if (p < 0.85) return null;
    return String.fromCharCode(...Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 0xffff)));
  }
  if (k < 0.55) return Array.from({ length: Math.floor(r() * 5) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)] as string] = value(r, depth + 1);
  return o;
}

const VALID_WHEN = [{ exit: 'nonzero' }, { oom: true }, { unhealthy: '30s' }, { cpu: { above: 80, samples: 3 } }, { memory: { above: '90%' } },
  { log: 'panic' }, { restarts: { 'more-than': 3, within: '10m' } }, { exit: 'any', unhealthy: true }];

/** A document shaped like a rules file, with random parts. */
function ruleDoc(r: () => number): unknown {
  const rules = Array.from({ length: Math.floor(r() * 6) }, () => {
    const rule: Record<string, unknown> = {};
    for (const key of ['name', 'match', 'when', 'then', 'priority', 'backoff', 'budget', 'cooldown', 'notify']) {
      if (r() < 0.6) rule[key] = value(r, 2);
    }
    if (r() < 0.5) rule.when = { [KEYS[9 + Math.floor(r() * 8)] as string]: value(r, 3) };
    if (r() < 0.5) rule.then = STRINGS[Math.floor(r() * 6)];
    if (r() < 0.3) {
      // A valid rule with at most one field replaced by something random.
      const valid: Record<string, unknown> = { name: `r${Math.floor(r() * 1e6)}`, when: VALID_WHEN[Math.floor(r() * VALID_WHEN.length)], then: 'restart' };
      if (r() < 0.5) valid[KEYS[Math.floor(r() * 9)] as string] = value(r, 3);
      return valid;
    }
    return r() < 0.1 ? value(r, 3) : rule;
  });
  const doc: Record<string, unknown> = { rules };
  if (r() < 0.3) doc.defaults = value(r, 2);
  if (r() < 0.2) doc.interval = value(r, 3);
  if (r() < 0.2) doc.webhook = value(r, 3);
  return r() < 0.05 ? value(r, 0) : doc;
}

function mutate(text: string, r: () => number): string {
  const chars = [...text];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    const c = ':{}[]-#&*!|>\'"%@` \n\t'[Math.floor(r() * 21)] as string;
    if (op < 0.33) chars.splice(at, 1);
    else if (op < 0.66) chars.splice(at, 0, c);
    else chars[at] = c;
  }
  return chars.join('');
}

function checkResult(text: string): ReturnType<typeof parseRules> {
  let result: ReturnType<typeof parseRules>;
  try {
    result = parseRules(text, 'fuzz.yaml');
  } catch (err) {
    throw new Error(`parseRules threw ${(err as Error).stack} on:\n${text.slice(0, 2000)}`);
  }
  for (const issue of result.issues) {
    if (issue.file !== 'fuzz.yaml' || typeof issue.message !== 'string' || issue.message.length === 0 || typeof issue.field !== 'string') {
      throw new Error(`malformed issue ${JSON.stringify(issue)} for:\n${text.slice(0, 2000)}`);
    }
  }
  for (const rule of result.ruleSet.rules) {
    if (rule.triggers.length === 0 || typeof rule.name !== 'string' || !rule.action) throw new Error(`half-built rule ${JSON.stringify(rule)}`);
  }
  return result;
}

describe('rules parser fuzz', () => {
  it('never throws on thousands of generated documents, and every issue is well-formed', () => {
    const r = rng(20261123);
    let withIssues = 0;
    let withRules = 0;
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const doc = ruleDoc(r);
      const text = r() < 0.5 ? stringify(doc, { aliasDuplicateObjects: false }) : JSON.stringify(doc) ?? 'null';
      const res = checkResult(text);
      if (res.issues.length > 0) withIssues++;
      if (res.ruleSet.rules.length > 0) withRules++;
    }
    // The generator must reach both sides, or it tests nothing.
    expect(withIssues).toBeGreaterThan(N / 4);
    expect(withRules).toBeGreaterThan(N / 50);
  });

  it('never throws on mutated valid files (syntax damage)', () => {
    const r = rng(7);
    const valid = `
interval: 2s
defaults: {backoff: 10s-5m, budget: 3/10m}
rules:
  - name: web
    match: {name: "web*", label: [tier=front]}
    when: {unhealthy: 30s, exit: nonzero}
    then: restart
  - name: hot
    when: {cpu: {above: 90, samples: 5}}
    then: {exec: ["sh", "-c", "kill -HUP 1"]}
  - name: shed
    when: {host: {memory-available-below: 5%, for: 1m}}
    then: stop
`;
    for (let i = 0; i < 3000; i++) checkResult(mutate(valid, r));
  });
});
