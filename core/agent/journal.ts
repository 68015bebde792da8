import {
  closeSync,
  constants,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  watch,
  writeSync,
  ftruncateSync,
  type FSWatcher,
} from 'node:fs';
import { join } from 'node:path';
import type { Disposer } from '../model/types.js';
import { isValidTime } from '../model/duration.js';

export type { JournalEntry, JournalKind } from '../rules/types.js';
import type { JournalEntry } from '../rules/types.js';

export const JOURNAL_FILE = 'journal.jsonl';

export interface JournalOptions {
  /** Rotate when the current file would pass this size (default 4 MiB). */
  maxBytes?: number;
  /** Rotated files kept besides the current one (default 3). */
  keep?: number;
  /**
   * Durability of each append (default 'background'): 'background' writes the line before
   * `append` returns (a killed process loses nothing: the kernel has it) and starts an
   * fdatasync that does not block the caller (a power cut loses at most the last few
   * milliseconds); 'always' waits for the fdatasync; 'never' leaves it to the kernel.
   */
  sync?: 'background' | 'always' | 'never';
}

function rotatedName(n: number): string {
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

function parseLine(line: string): JournalEntry | null {
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

function readAll(path: string): Buffer {
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

/**
 * The append-only journal. Each entry is one JSON line written with one
 * write() and made durable with fdatasync before `append` returns, so a
 * SIGKILL at any instant leaves at most a torn last line — which `open`
 * cuts off and readers skip. Rotation renames whole files (atomic).
 */
export class Journal {
  #fd: number;
  #size: number;
  #seq: number;
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #sync: 'background' | 'always' | 'never';
  #syncing = false;
  #dirty = false;
  #syncWaiters: (() => void)[] = [];
  #closed = false;

  private constructor(dir: string, fd: number, size: number, seq: number, options: JournalOptions) {
    this.#dir = dir;
    this.#fd = fd;
    this.#size = size;
    this.#seq = seq;
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.#keep = options.keep ?? 3;
    this.#sync = options.sync ?? 'background';
  }

  /** Opens (creating) the journal in `dir`, cutting off a torn last line left by a crash. */
  static open(dir: string, options: JournalOptions = {}): { journal: Journal; repairedBytes: number } {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, JOURNAL_FILE);
    const fd = openSync(path, 'a+', 0o600);
    let size = fstatSync(fd).size;
    let repaired = 0;
    let seq = 0;
    if (size > 0) {
      // Find the last complete line from the end; whatever follows it is a torn write.
      const chunk = Math.min(size, 1024 * 1024);
      const buf = Buffer.allocUnsafe(chunk);
      readSync(fd, buf, 0, chunk, size - chunk);
      const lastNl = buf.lastIndexOf(0x0a);
      const keepBytes = lastNl < 0 ? (chunk === size ? 0 : size) : size - chunk + lastNl + 1;
      if (keepBytes < size) {
        ftruncateSync(fd, keepBytes);
        fsyncSync(fd);
        repaired = size - keepBytes;
        size = keepBytes;
      }
      const text = buf.subarray(0, lastNl < 0 ? 0 : lastNl).toString('utf8');
      const lines = text.split('\n');
      for (let i = lines.length - 1; i >= 0 && i >= lines.length - 50; i--) {
        const e = parseLine(lines[i] as string);
        if (e && typeof e.seq === 'number') {
          seq = e.seq;
          break;
        }
      }
    }
    if (seq === 0) {
      // A fresh file after rotation: continue from the newest rotated file.
      const prev = join(dir, rotatedName(1));
      if (existsSync(prev)) {
        const lines = readAll(prev).toString('utf8').split('\n');
        for (let i = lines.length - 1; i >= 0; i--) {
          const e = parseLine(lines[i] as string);
          if (e && typeof e.seq === 'number') {
            seq = e.seq;
            break;
          }
        }
      }
    }
    return { journal: new Journal(dir, fd, size, seq, options), repairedBytes: repaired };
  }

  /** The sequence number of the last entry written (or found at open). */
  get seq(): number {
    return this.#seq;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Appends one entry durably and returns it with its sequence number. */
  append(entry: Omit<JournalEntry, 'seq'>): JournalEntry {
    const full = { seq: this.#seq + 1, ...entry } as JournalEntry;
    const line = Buffer.from(`${JSON.stringify(full)}\n`, 'utf8');
    if (this.#size > 0 && this.#size + line.length > this.#maxBytes) this.#rotate();
    let off = 0;
    while (off < line.length) off += writeSync(this.#fd, line, off, line.length - off);
    if (this.#sync === 'always') fdatasyncSync(this.#fd);
    else if (this.#sync === 'background') this.#syncSoon();
    this.#size += line.length;
    this.#seq = full.seq;
    return full;
  }

  /** One fdatasync at a time off the event loop; appends made meanwhile ride on the next one. */
  #syncSoon(): void {
    this.#dirty = true;
    if (this.#syncing) return;
    this.#syncing = true;
    this.#dirty = false;
    fdatasync(this.#fd, () => {
      this.#syncing = false;
      if (this.#dirty && !this.#closed) this.#syncSoon();
      else if (!this.#dirty) for (const w of this.#syncWaiters.splice(0)) w();
    });
  }

  /** Resolves once every append so far is on disk. */
  flush(): Promise<void> {
    if (!this.#syncing && !this.#dirty) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  #rotate(): void {
    if (this.#sync !== 'never') fsyncSync(this.#fd);
    closeSync(this.#fd);
    for (let n = this.#keep; n >= 1; n--) {
      const from = n === 1 ? join(this.#dir, JOURNAL_FILE) : join(this.#dir, rotatedName(n - 1));
      if (existsSync(from)) renameSync(from, join(this.#dir, rotatedName(n)));
    }
    this.#fd = openSync(join(this.#dir, JOURNAL_FILE), 'a+', 0o600);
    this.#size = 0;
    if (this.#sync !== 'never') {
      const dfd = openSync(this.#dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dirty = false;
    try {
      if (this.#sync !== 'never') fdatasyncSync(this.#fd);
      for (const w of this.#syncWaiters.splice(0)) w();
      closeSync(this.#fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Calls `onEntry` for every entry appended from now on (rotation included).
 * Uses inotify through fs.watch, with a slow poll as a safety net.
 */
export function followJournal(dir: string, onEntry: (e: JournalEntry) => void, options: { pollMs?: number; fromStart?: boolean } = {}): Disposer {
  const path = join(dir, JOURNAL_FILE);
  let fd: number | null = null;
  let ino = -1;
  let offset = 0;
  let carry = '';
  let closed = false;
  const openCurrent = (atEnd: boolean) => {
    try {
      const st = statSync(path);
      fd = openSync(path, 'r');
      ino = st.ino;
      offset = atEnd ? st.size : 0;
      carry = '';
    } catch {
      fd = null;
    }
  };
  const drain = () => {
    if (fd === null) return;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) break;
      offset += n;
      const text = carry + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseLine(line);
        if (e) onEntry(e);
      }
    }
  };
  /** Files rotated out after the one we were reading (inode `oldIno`), oldest first. */
  const rotatedAfter = (oldIno: number): string[] => {
    const files: string[] = [];
    for (let n = 1; n <= 9; n++) {
      const p = join(dir, rotatedName(n));
      let st;
      try {
        st = statSync(p);
      } catch {
        break;
      }
      if (st.ino === oldIno) return files.reverse();
      files.push(p);
    }
    return files.reverse();
  };
  const drainWhole = (p: string) => {
    try {
      const fdOld = openSync(p, 'r');
      fd = fdOld;
      offset = 0;
      carry = '';
      drain();
      closeSync(fdOld);
    } catch {
      // rotated away again; entries that old are gone
    }
    fd = null;
  };
  const check = () => {
    if (closed) return;
    if (fd === null) {
      openCurrent(false);
      drain();
      return;
    }
    drain();
    try {
      const st = statSync(path);
      if (st.ino !== ino) {
        closeSync(fd);
        fd = null;
        for (const p of rotatedAfter(ino)) drainWhole(p);
        openCurrent(false);
        drain();
      }
    } catch {
      // the file is being rotated; the next check opens the new one
    }
  };
  openCurrent(options.fromStart !== true);
  if (options.fromStart) drain();
  let watcher: FSWatcher | null = null;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    watcher = watch(dir, { persistent: true }, () => check());
    watcher.on('error', () => undefined);
  } catch {
    watcher = null;
  }
  // inotify does the work; a 1 s poll (one stat) is the safety net: inside the TUI's component
  // tests the watch's events did not arrive at all, and the poll caught every entry.
  const timer = setInterval(check, options.pollMs ?? 1000);
  if (watcher) timer.unref?.();
  return () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    watcher?.close();
    if (fd !== null) closeSync(fd);
  };
}
