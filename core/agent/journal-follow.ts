import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync, type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import type { Disposer } from '../model/types.js';
import type { JournalEntry } from '../rules/types.js';
import { JOURNAL_FILE, parseLine, rotatedName } from './journal-read.js';

/**
 * Calls `onEntry` for every entry appended from now on (rotation included).
 * Uses inotify through fs.watch, with a slow poll as a safety net.
 */
export function followJournal(dir: string, onEntry: (e: JournalEntry) => void, options: { pollMs?: number; fromStart?: boolean } = {}): Disposer {
  const path = join(dir, JOURNAL_FILE);
  let fd: number | null = null;
  let ino = -1;
  let offset = 0;
  let closed = false;
  const openCurrent = (atEnd: boolean) => {
    try {
      const st = statSync(path);
      fd = openSync(path, 'r');
      ino = st.ino;
      offset = atEnd ? st.size : 0;
    } catch {
      fd = null;
    }
  };
  /**
   * Reads the complete lines after `offset` (always the start of a line). An incomplete last line
   * is read again from its start next time, not kept: a writer on a full disk cuts back a line that
   * did not fit and writes the next entry where it began, which a kept half line would garble.
   */
  const drain = () => {
    if (fd === null) return;
    if (fstatSync(fd).size < offset) offset = 0; // shorter than a line start: not the file we read
    const buf = Buffer.allocUnsafe(64 * 1024);
    let pending = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset + pending.length);
      if (n <= 0) break;
      const data = Buffer.concat([pending, buf.subarray(0, n)]);
      const last = data.lastIndexOf(0x0a);
      if (last < 0) {
        pending = data;
        continue;
      }
      offset += last + 1;
      pending = data.subarray(last + 1);
      for (const line of data.subarray(0, last).toString('utf8').split('\n')) {
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
