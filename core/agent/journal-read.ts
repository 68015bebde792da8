/** Reading the journal's files (JSON Lines, rotated): what `outpost journal`, the faces and a restarting agent read. */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isValidTime } from '../model/duration.js';
import type { JournalEntry } from '../rules/types.js';

export const JOURNAL_FILE = 'journal.jsonl';

export function rotatedName(n: number): string {
  return `journal.${n}.jsonl`;
}

/** The journal's files, oldest first. */
export function journalFiles(dir: string, keep = 9): string[] {
  const out: string[] = [];
  for (let n = keep; n >= 1; n--) {
    const p = join(dir, rotatedName(n));
    if (existsSync(p)) out.push(p);
  }
  const cur = join(dir, JOURNAL_FILE);
  if (existsSync(cur)) out.push(cur);
  return out;
}

export function parseLine(line: string): JournalEntry | null {
  if (line.length === 0) return null;
  try {
    const e = JSON.parse(line) as JournalEntry;
    // A time no Date can hold (a damaged or hand-edited line) would throw wherever it is printed: the line does not parse.
    if (typeof e !== 'object' || e === null || !isValidTime(e.ts) || typeof e.kind !== 'string') return null;
    return e;
  } catch {
    return null;
  }
}

export function readAll(path: string): Buffer {
  // O_NONBLOCK: a FIFO in the journal's place cannot hold the reader; it is not a journal file.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    const size = st.size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export interface ReadResult {
  entries: JournalEntry[];
  /** Lines that did not parse (a torn tail after a crash, or damage). */
  unreadable: number;
}

/** Reads the journal, oldest first; lines that do not parse are counted and skipped. */
export function readJournal(dir: string, options: { limit?: number } = {}): ReadResult {
  const entries: JournalEntry[] = [];
  let unreadable = 0;
  for (const file of journalFiles(dir)) {
    let text: string;
    try {
      text = readAll(file).toString('utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const e = parseLine(line);
      if (e) entries.push(e);
      else unreadable++;
    }
  }
  const limit = options.limit;
  return { entries: limit !== undefined && entries.length > limit ? entries.slice(entries.length - limit) : entries, unreadable };
}
