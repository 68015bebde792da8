/**
 * Names and messages are bounded (issue item 22): a 1 MB rule name made
 * `rules check` print 1 MB and the agent journal 1 MB on every reload.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIssue, parseRules, ruleFromLabels } from '../../core/rules/parse.js';
import { rulesCheck } from '../../tui/cli/rules-commands.js';
import { Journal, readJournal } from '../../core/agent/journal.js';
import { clip } from '../../core/model/clip.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-bounded-'));
  dirs.push(d);
  return d;
}

const huge = 'n'.repeat(1_000_000);
/** Two of these fit in a rules file (at most 1 MiB): a duplicate name is echoed too. */
const big = 'n'.repeat(400_000);

describe('a 1 MB rule name (issue item 22)', () => {
  it('is a problem naming the field, with the name cut and marked, in every issue of the rule', () => {
    const { issues } = parseRules(`rules:\n  - {name: ${big}, when: {exit: any}, then: restart}\n  - {name: ${big}, when: {exit: any}, then: restart}\n`, 'rules.yaml');
    expect(issues.map((i) => i.field)).toEqual(['name', 'name', 'name']);
    for (const i of issues) {
      const text = formatIssue(i);
      expect(text.length).toBeLessThan(600);
      expect(JSON.stringify(i).length).toBeLessThan(1200);
      expect(text).toMatch(/… \(\d+ more characters\)/);
    }
    expect(formatIssue(issues[0] as never)).toMatch(/^rules\.yaml:2:\d+: rule 1 "n{64}… \(399936 more characters\)": name: expected a name of letters, digits, \. _ : - \(at most 64\), got "n{60}…"$/);
    expect(issues.map((i) => i.message)).toContain('the name "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn… (399936 more characters)" is already used by rule 1');
  });

  it('rules check prints a few hundred bytes, not a megabyte, in text and JSON', () => {
    const file = join(tmp(), 'rules.yaml');
    writeFileSync(file, `rules:\n  - {name: ${huge}, when: {exit: any}, then: restart}\n`);
    for (const json of [false, true]) {
      let out = '';
      const io = { out: (t: string) => (out += t), err: (t: string) => (out += t), isTTY: false, env: {} };
      expect(rulesCheck(file, { json }, io)).toBe(2);
      expect(out.length).toBeLessThan(4000);
      expect(out).toContain('more characters');
    }
  });

  it('a label rule with a 1 MB condition says so in a bounded message', () => {
    const { issues } = ruleFromLabels({ id: 'c1', name: 'web', labels: { 'outpost.restart-on': huge } });
    expect(issues).toHaveLength(1);
    expect(formatIssue(issues[0] as never).length).toBeLessThan(600);
  });
});

describe('the journal bounds what it writes (issue item 22)', () => {
  it('a reason of 1 MB is cut with a marker: an entry stays a few KiB', () => {
    const dir = tmp();
    const { journal } = Journal.open(dir);
    journal.append({ ts: 1, node: 'local', kind: 'error', reason: `bad: ${huge}` });
    journal.close();
    const [e] = readJournal(dir).entries;
    expect(e?.reason.length).toBeLessThan(5000);
    expect(e?.reason).toMatch(/^bad: n+… \(\d+ more characters\)$/);
  });

  it('clip leaves short text alone and never cuts a surrogate pair in half', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('ab😀cd', 3)).toBe('ab… (4 more characters)');
  });
});
