import type { RuleEngine } from '../rules/engine.js';
import { readJournal, type JournalEntry } from './journal.js';
import { readGuardState } from './store.js';

export interface Restored {
  /** Every readable journal entry, oldest first. */
  entries: JournalEntry[];
  unreadable: number;
  /** Journal entries replayed on top of the state file (all of them without one). */
  replayed: number;
  /** Whether guards.json was there and used. */
  fromStateFile: boolean;
  /** A damaged or out-of-range state file, in words (it was ignored, or partly). */
  problem: string | null;
  /** When an agent last wrote anything (ms), or 0. */
  lastWrite: number;
}

/**
 * Rebuilds an engine's guard state the way the agent keeps it: the guard
 * state file (guards.json), then the journal's entries written after it.
 * Every reader (the agent, `rules explain`, the TUI's rules tab) uses this,
 * so none depends on how much the journal has rotated.
 */
export function restoreEngine(engine: RuleEngine, stateDir: string): Restored {
  const saved = readGuardState(stateDir);
  const { entries, unreadable } = readJournal(stateDir);
  const after = saved.state ? entries.filter((e) => typeof e.seq === 'number' && e.seq > (saved.state?.seq ?? 0)) : entries;
  if (saved.state) engine.load(saved.state.snapshot);
  engine.restore(after);
  return {
    entries,
    unreadable,
    replayed: after.length,
    fromStateFile: saved.state !== null,
    problem: saved.problem,
    lastWrite: Math.max(saved.state?.savedAt ?? 0, entries.at(-1)?.ts ?? 0),
  };
}
