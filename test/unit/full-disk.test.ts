/**
 * The state directory on a full disk (issue items 17 and 18): on a real
 * tmpfs that fills up, and with a write function that writes less than asked.
 */
import { appendFileSync, closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { appendLine, appendLineTo, FileWriteError, writeAtomic, type WriteFn } from '../../core/model/write-file.js';
import { followJournal, Journal, readJournal, JOURNAL_FILE } from '../../core/agent/journal.js';
import { readGuardState, writeGuardState, type GuardFile } from '../../core/agent/store.js';
import { HeldJournal, MAX_HELD_ENTRIES } from '../../core/agent/held-journal.js';
import { canMount, smallDisk } from '../harness/tmpfs.js';

const guards = (n: number): GuardFile => ({
  seq: n,
  savedAt: 1_700_000_000_000,
  snapshot: {
    guards: Array.from({ length: n }, (_, i) => ({ rule: 'crash', container: `web-${i}`, level: 3, lastActionAt: 1_700_000_000_000, actions: [1_700_000_000_000], gaveUpAt: null, troubleAt: null, pending: null })),
    exits: {},
  },
});

describe.runIf(canMount)('writeAtomic on a nearly full disk (issue item 17)', () => {
  const disk = smallDisk(128);

  it('a 50 KB guard state that does not fit throws, keeps the good guards.json and leaves no temp file', () => {
    const dir = join(disk.dir, 'state-17');
    writeGuardState(dir, guards(2));
    const good = readFileSync(join(dir, 'guards.json'), 'utf8');
    disk.fill(16 * 1024);
    try {
      const big = guards(400);
      expect(JSON.stringify(big).length).toBeGreaterThan(50_000);
      expect(() => writeGuardState(dir, big)).toThrow(FileWriteError);
      expect(() => writeGuardState(dir, big)).toThrow(/guards\.json: \d+ of \d+ bytes written \(no space left on the device\); free space on its disk/);
      expect(readFileSync(join(dir, 'guards.json'), 'utf8')).toBe(good);
      expect(readGuardState(dir).state?.snapshot.guards).toHaveLength(2);
      expect(readdirSync(dir)).toEqual(['guards.json']);
    } finally {
      disk.free();
    }
  });
});

describe('writeAtomic and appendLine check what write(2) says it wrote (issue items 17 and 18)', () => {
  const dir = () => {
    const d = join(process.env.TMPDIR ?? '/tmp', `outpost-short-${process.pid}-${Math.random().toString(16).slice(2)}`);
    return d;
  };

  it('loops over short writes and writes everything', () => {
    const d = dir();
    let calls = 0;
    const short: WriteFn = (fd, buf, off, len) => {
      calls++;
      return openWrite(fd, buf, off, Math.min(len, 1000));
    };
    writeAtomic(join(d, 'f.json'), 'x'.repeat(5000), short);
    expect(readFileSync(join(d, 'f.json'), 'utf8')).toBe('x'.repeat(5000));
    expect(calls).toBe(5);
  });

  it('a write that makes no progress is an error; the old file stays, no temp file is left', () => {
    const d = dir();
    writeAtomic(join(d, 'f.json'), 'old');
    const stuck: WriteFn = (fd, buf, off, len) => (off === 0 ? openWrite(fd, buf, off, Math.min(len, 4096)) : 0);
    expect(() => writeAtomic(join(d, 'f.json'), 'y'.repeat(50_000), stuck)).toThrow(/f\.json: 4096 of 50000 bytes written \(the system wrote nothing more\)/);
    expect(readFileSync(join(d, 'f.json'), 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['f.json']);
  });

  it('appendLine cuts a failed append back: the file keeps only whole lines', () => {
    const d = dir();
    writeAtomic(join(d, 'log'), 'one\n');
    const fd = openSync(join(d, 'log'), 'a+');
    try {
      const half: WriteFn = (f, buf, off, len) => {
        if (off > 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return openWrite(f, buf, off, Math.min(len, 3));
      };
      expect(() => appendLine(fd, Buffer.from('two two\n'), join(d, 'log'), half)).toThrow(FileWriteError);
      expect(appendLine(fd, Buffer.from('three\n'), join(d, 'log'))).toBe(10);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(join(d, 'log'), 'utf8')).toBe('one\nthree\n');
  });
});

function openWrite(fd: number, buf: Buffer, off: number, len: number): number {
  return writeSync(fd, buf, off, len);
}

describe.runIf(canMount)('the journal on a full disk (issue item 18)', () => {
  const disk = smallDisk(64);

  it('an entry that does not fit leaves nothing behind; the next one, once there is space, is a line of its own', () => {
    const dir = join(disk.dir, 'state-18');
    const { journal } = Journal.open(dir);
    const entry = (reason: string) => ({ ts: 1_700_000_000_000, node: 'local', kind: 'agent' as const, reason });
    journal.append(entry('before'));
    disk.fill(100);
    try {
      expect(() => journal.append(entry('x'.repeat(9000)))).toThrow(/journal\.jsonl: \d+ of \d+ bytes written \(no space left on the device\)/);
    } finally {
      disk.free();
    }
    journal.append(entry('after'));
    journal.close();
    const read = readJournal(dir);
    expect(read.unreadable).toBe(0);
    expect(read.entries.map((e) => e.reason)).toEqual(['before', 'after']);
    expect(read.entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(existsSync(join(dir, JOURNAL_FILE))).toBe(true);
  });
});

describe('a torn end left by a crash (issue item 18)', () => {
  it('the next line starts on a line of its own, in the journal and the audit log alike', () => {
    const d = join(process.env.TMPDIR ?? '/tmp', `outpost-torn-${process.pid}-${Math.random().toString(16).slice(2)}`);
    writeAtomic(join(d, 'audit.jsonl'), '{"time":"x","action":"a"}\n{"time":"y","act');
    appendLineTo(join(d, 'audit.jsonl'), '{"time":"z","action":"b"}');
    expect(readFileSync(join(d, 'audit.jsonl'), 'utf8').split('\n')).toEqual(['{"time":"x","action":"a"}', '{"time":"y","act', '{"time":"z","action":"b"}', '']);
  });
});

describe.runIf(canMount)('entries held while the disk is full (issue item 16)', () => {
  // Room for all of them once the filler goes (5000 lines of about 300 bytes).
  const disk = smallDisk(4096);

  it(`are journaled in order once there is space, at most ${MAX_HELD_ENTRIES} of them, and the drop is said`, () => {
    const dir = join(disk.dir, 'state-held');
    let now = 1_700_000_000_000;
    const seen: number[] = [];
    let firstHeld = -1;
    const journal = new HeldJournal(dir, 'local', () => now, {}, (e) => seen.push(e.seq));
    journal.open();
    journal.append({ ts: now, node: 'local', kind: 'agent', reason: 'agent started' });
    disk.fill(0);
    try {
      const entry = (i: number) => ({ ts: now + i, node: 'local', kind: 'act' as const, rule: 'r', container: 'web', reason: `restart ${i} ${'x'.repeat(200)}` });
      // The journal's last page takes a few more; then nothing fits.
      let i = 0;
      while (journal.append(entry(i)) !== null && i < 100) i++;
      firstHeld = i;
      for (i++; i < firstHeld + MAX_HELD_ENTRIES + 3; i++) expect(journal.append(entry(i))).toBe(null);
      expect(journal.heldCount).toBe(MAX_HELD_ENTRIES);
      expect(journal.problem).toMatch(/^cannot write the journal in .*state-held \(.*no space left on the device/);
      expect(journal.flush()).toEqual([]);
    } finally {
      disk.free();
    }
    now += 60_000;
    const written = journal.flush();
    journal.close();
    expect(written).toHaveLength(MAX_HELD_ENTRIES + 1);
    expect(journal.problem).toBe(null);
    expect(written.at(-1)?.reason).toMatch(new RegExp(`^there is space again in .*state-held: journaled ${MAX_HELD_ENTRIES} entries held in memory since .* \\(1m\\); 3 older one\\(s\\) were dropped \\(at most ${MAX_HELD_ENTRIES} are held\\)$`));
    const { entries, unreadable } = readJournal(dir);
    expect(unreadable).toBe(0);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[firstHeld + 1]?.reason).toMatch(new RegExp(`^restart ${firstHeld + 3} `));
    expect(seen).toEqual(entries.map((e) => e.seq));
  });
});

describe('a follower of the journal when a line is cut back (issue item 18)', () => {
  it('drops the half line it had read and reads the next entry whole', async () => {
    const dir = join(process.env.TMPDIR ?? '/tmp', `outpost-follow-${process.pid}-${Math.random().toString(16).slice(2)}`);
    const { journal } = Journal.open(dir);
    journal.append({ ts: 1, node: 'local', kind: 'agent', reason: 'one' });
    const seen: string[] = [];
    const stop = followJournal(dir, (e) => seen.push(e.reason), { pollMs: 20 });
    try {
      const path = join(dir, JOURNAL_FILE);
      const good = statSync(path).size;
      // Half a line, as a write on a full disk leaves it, read by the follower, then cut back.
      appendFileSync(path, '{"seq":2,"ts":2,"node":"local","kind":"agent","reason":"tw');
      await new Promise((r) => setTimeout(r, 150));
      truncateSync(path, good);
      journal.append({ ts: 3, node: 'local', kind: 'agent', reason: 'three' });
      await vi.waitFor(() => expect(seen).toEqual(['three']), { timeout: 3000, interval: 20 });
    } finally {
      stop();
      journal.close();
    }
  });
});
