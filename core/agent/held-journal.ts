/**
 * The agent's journal as the agent writes it: entries that cannot be written
 * (a full disk, a journal that cannot be opened) are held in memory, in
 * order, and written first once there is space again, followed by one entry
 * that says so. The agent never stops enforcing its rules because its disk
 * is full; it only cannot write down what it did until there is space.
 */
import { Journal, type JournalEntry, type JournalOptions } from './journal.js';
import { words } from '../rules/wording.js';

/** Entries held at most; beyond that the oldest are dropped (and counted): memory is bounded too. */
export const MAX_HELD_ENTRIES = 5000;

type NewEntry = Omit<JournalEntry, 'seq'>;

export class HeldJournal {
  #journal: Journal | null = null;
  #held: NewEntry[] = [];
  #dropped = 0;
  /** Held entries written so far (a flush may stop half-way when the disk fills again). */
  #flushed = 0;
  #heldSince: number | null = null;
  #failure: string | null = null;
  readonly #dir: string;
  readonly #options: JournalOptions;
  readonly #node: string;
  readonly #now: () => number;
  readonly #onWritten: (entry: JournalEntry) => void;

  /** `onWritten` is called with every entry that reaches the journal, held ones when they do. */
  constructor(dir: string, node: string, now: () => number, options: JournalOptions = {}, onWritten: (entry: JournalEntry) => void = () => undefined) {
    this.#dir = dir;
    this.#node = node;
    this.#now = now;
    this.#options = options;
    this.#onWritten = onWritten;
  }

  /** Opens the journal; a failure is held (the journal is opened again at the next flush). Returns the torn bytes cut. */
  open(): number {
    try {
      const { journal, repairedBytes } = Journal.open(this.#dir, this.#options);
      this.#journal = journal;
      return repairedBytes;
    } catch (err) {
      this.#fail(err);
      return 0;
    }
  }

  /** The sequence number of the last entry written. */
  get seq(): number {
    return this.#journal?.seq ?? 0;
  }

  /** Why entries are held, in words, while some are; null when everything is written. */
  get problem(): string | null {
    return this.#held.length > 0 ? this.#failure : null;
  }

  get heldCount(): number {
    return this.#held.length;
  }

  /** Writes an entry (after any held ones, so the order stays), or holds it: null then. */
  append(entry: NewEntry): JournalEntry | null {
    if (this.#held.length > 0) this.flush();
    if (this.#held.length === 0 && this.#journal) {
      try {
        const written = this.#journal.append(entry);
        this.#onWritten(written);
        return written;
      } catch (err) {
        this.#fail(err);
      }
    }
    this.#hold(entry);
    return null;
  }

  /** Writes what is held, if there is space now; returns the entries written (the last says how many were held). */
  flush(): JournalEntry[] {
    if (this.#held.length === 0) return [];
    if (!this.#journal) this.open();
    const journal = this.#journal;
    if (!journal) return [];
    const written: JournalEntry[] = [];
    while (this.#held.length > 0) {
      try {
        written.push(journal.append(this.#held[0] as NewEntry));
      } catch (err) {
        this.#fail(err);
        for (const e of written) this.#onWritten(e);
        return written;
      }
      this.#held.shift();
      this.#flushed++;
    }
    const now = this.#now();
    const since = this.#heldSince ?? now;
    const count = this.#flushed;
    const dropped = this.#dropped;
    this.#heldSince = null;
    this.#dropped = 0;
    this.#flushed = 0;
    this.#failure = null;
    const summary: NewEntry = {
      ts: now,
      node: this.#node,
      kind: 'agent',
      reason: `there is space again in ${this.#dir}: journaled ${count} entr${count === 1 ? 'y' : 'ies'} held in memory since ${new Date(since).toISOString()} (${words(Math.max(0, now - since))})${
        dropped > 0 ? `; ${dropped} older one(s) were dropped (at most ${MAX_HELD_ENTRIES} are held)` : ''
      }`,
    };
    try {
      written.push(journal.append(summary));
    } catch (err) {
      this.#fail(err);
      this.#hold(summary);
    }
    for (const e of written) this.#onWritten(e);
    return written;
  }

  close(): void {
    this.#journal?.close();
    this.#journal = null;
  }

  #hold(entry: NewEntry): void {
    this.#heldSince ??= entry.ts;
    this.#held.push(entry);
    if (this.#held.length > MAX_HELD_ENTRIES) {
      this.#held.shift();
      this.#dropped++;
    }
  }

  #fail(err: unknown): void {
    this.#failure = `cannot write the journal in ${this.#dir} (${(err as Error).message})`;
  }
}
