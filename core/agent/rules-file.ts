import { readRegularFile } from '../model/read-file.js';
import { MAX_RULES_FILE_BYTES, parseRules } from '../rules/parse.js';
import { DEFAULT_SAMPLE_INTERVAL_MS, type RuleIssue, type RuleSet } from '../rules/types.js';

export interface LoadedRules {
  ruleSet: RuleSet;
  issues: RuleIssue[];
  /** True when there is no rules file (only label rules then). */
  missing: boolean;
}

/** Reads and validates a rules file. Never throws nor blocks: a missing, huge, special (FIFO, device) or broken file comes back as issues. */
export function loadRulesFile(path: string): LoadedRules {
  const empty: RuleSet = { rules: [], sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS, webhook: null };
  const file = readRegularFile(path, MAX_RULES_FILE_BYTES);
  if (!file.ok) {
    if (file.reason === 'missing') return { ruleSet: empty, issues: [], missing: true };
    const message = file.reason === 'too-large' ? `${file.message}; a rules file may be at most 1 MiB` : file.message;
    return { ruleSet: empty, issues: [{ file: path, field: '(file)', message }], missing: false };
  }
  try {
    const { ruleSet, issues } = parseRules(file.text, path);
    return { ruleSet, issues, missing: false };
  } catch (err) {
    // parseRules never throws by design; should a bug make it, the file is reported, not fatal.
    return { ruleSet: empty, issues: [{ file: path, field: '(file)', message: `could not be checked: ${(err as Error).message}` }], missing: false };
  }
}
