/**
 * Writing small files so that a full disk never leaves half of one behind:
 * `writeAtomic` replaces a file whole or not at all, `appendLine` adds a
 * whole line or nothing. Both check what write(2) says it wrote: on a nearly
 * full disk it writes part of a buffer and returns the count without an
 * error (a 50 KB write returned 16,384), and only the next write fails.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** write(2) as `writeAll` calls it: the bytes written, which may be fewer than asked for. */
export type WriteFn = (fd: number, buf: Buffer, offset: number, length: number) => number;

const systemWrite: WriteFn = (fd, buf, offset, length) => writeSync(fd, buf, offset, length);

/** A file could not be written whole (a full disk, a quota, an I/O error); what was there before is kept. */
export class FileWriteError extends Error {
  readonly path: string;
  /** The errno code (`ENOSPC`, `EDQUOT`, …), or `SHORT` when the system kept writing nothing without saying why. */
  readonly errno: string;

  constructor(path: string, written: number, total: number, cause: string, errno: string) {
    super(
      `cannot write ${path}: ${written} of ${total} bytes written (${cause}); ${
        errno === 'ENOSPC' || errno === 'EDQUOT' ? 'free space on its disk' : 'check the disk'
      } — the previous content is kept`,
    );
    this.name = 'FileWriteError';
    this.path = path;
    this.errno = errno;
  }
}

/** Whether an error is a disk that is full (or a quota that is spent): what waiting for space can cure. */
export function isDiskFull(err: unknown): boolean {
  const code = err instanceof FileWriteError ? err.errno : (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Writes all of `buf` at the file's position, looping over short writes.
 * A write that makes no progress, or throws, is a FileWriteError naming
 * `path` and how much got out.
 */
export function writeAll(fd: number, buf: Buffer, path: string, write: WriteFn = systemWrite): void {
  let off = 0;
  while (off < buf.length) {
    let n: number;
    try {
      n = write(fd, buf, off, buf.length - off);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new FileWriteError(path, off, buf.length, e.code === 'ENOSPC' ? 'no space left on the device' : e.message, e.code ?? 'EIO');
    }
    // write(2) returning 0 for a non-empty buffer would loop for ever: it is a failure.
    if (!(n > 0)) throw new FileWriteError(path, off, buf.length, 'the system wrote nothing more', 'SHORT');
    off += n;
  }
}

/**
 * Writes a small file so that readers see the old or the new content, never
 * a mix or a cut: temp file `PATH.PID.tmp`, every byte written, fsync,
 * rename. Any failure removes the temp file and throws; the old file stays.
 */
export function writeAtomic(path: string, text: string, write: WriteFn = systemWrite): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeAll(fd, Buffer.from(text, 'utf8'), path, write);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some filesystems refuse to fsync a directory; the rename is still atomic
  }
}

/**
 * Appends one line to a file opened with `a+`: all of it, or nothing. A
 * failed or short append is cut back to the length the file had, so the
 * next line never sticks to half of this one (a torn line in the middle of a
 * file is never repaired, only skipped). Should a torn end be left anyway (a
 * crash mid-write, a cut that failed), the line starts on a fresh line.
 * Returns the file's new size.
 */
export function appendLine(fd: number, line: Buffer, path: string, write: WriteFn = systemWrite): number {
  const before = fstatSync(fd).size;
  let out = line;
  if (before > 0) {
    const last = Buffer.alloc(1);
    let n = 0;
    try {
      n = readSync(fd, last, 0, 1, before - 1);
    } catch {
      // opened write-only: the end cannot be checked
    }
    if (n === 1 && last[0] !== 0x0a) out = Buffer.concat([Buffer.from('\n'), line]);
  }
  try {
    writeAll(fd, out, path, write);
  } catch (err) {
    try {
      // Shrinking needs no space: this works on a full disk.
      ftruncateSync(fd, before);
    } catch {
      // the caller is told of the write; its next line starts after a newline anyway (see Journal)
    }
    throw err;
  }
  return before + out.length;
}

/** `appendLine` on a file by its path (created with `mode` when new): for logs written now and then. */
export function appendLineTo(path: string, text: string, mode = 0o600): void {
  const fd = openSync(path, 'a+', mode);
  try {
    appendLine(fd, Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}
