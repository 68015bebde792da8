/**
 * The journal: every decision of the rule agent, append-only JSON Lines with
 * rotation. This file is the writer; journal-read.ts reads the files and
 * journal-follow.ts follows new entries.
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync } from 'node:fs';
import { appendLine } from '../model/write-file.js';
import { clip, MAX_MESSAGE_CHARS } from '../model/clip.js';
import { join } from 'node:path';
import type { JournalEntry } from '../rules/types.js';
import { JOURNAL_FILE, parseLine, readAll, rotatedName } from './journal-read.js';

export type { JournalEntry, JournalKind } from '../rules/types.js';
export { JOURNAL_FILE, journalFiles, readJournal, type ReadResult } from './journal-read.js';
export { followJournal } from './journal-follow.js';

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

/**
 * The append-only journal. Each entry is one JSON line, written whole
 * before `append` returns (made durable as `sync` says), so a SIGKILL at any
 * instant leaves at most a torn last line — which `open` cuts off and
 * readers skip. A line that does not fit (a full disk) is cut back and
 * `append` throws; the next line never sticks to it. Rotation renames whole
 * files (atomic).
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
    // Bounded: a 1 MB reason (a rule name echoed back) on every reload would rotate the journal away.
    const full = { seq: this.#seq + 1, ...entry, reason: clip(entry.reason, MAX_MESSAGE_CHARS), ...(entry.error !== undefined ? { error: clip(entry.error, MAX_MESSAGE_CHARS) } : {}) } as JournalEntry;
    const line = Buffer.from(`${JSON.stringify(full)}\n`, 'utf8');
    if (this.#size > 0 && this.#size + line.length > this.#maxBytes) this.#rotate();
    // All of the line or none of it: a full disk must not glue half an entry to the next one.
    appendLine(this.#fd, line, join(this.#dir, JOURNAL_FILE));
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
