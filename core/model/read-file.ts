import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** What `readRegularFile` found: the text, or why there is none. */
export type RegularFile =
  | { ok: true; text: string }
  | { ok: false; reason: 'missing' | 'not-regular' | 'too-large' | 'unreadable'; message: string };

/**
 * Reads a small file a person or a peer gave (a rules file, a config file)
 * without ever blocking: the file is opened with O_NONBLOCK (a FIFO with no
 * writer does not hold the open), anything but a regular file (a FIFO, a
 * device like /dev/zero, a directory) is refused, and at most `maxBytes`
 * are read (a file that is, or grows, larger is refused).
 */
export function readRegularFile(path: string, maxBytes: number): RegularFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', message: 'no such file' };
    return { ok: false, reason: 'unreadable', message: `cannot be read: ${(err as Error).message}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const what = st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a file';
      return { ok: false, reason: 'not-regular', message: `is not a regular file (${what})` };
    }
    const tooLarge = (size: number): RegularFile => ({
      ok: false,
      reason: 'too-large',
      message: `the file is ${formatSize(size)}; at most ${formatSize(maxBytes)} is read`,
    });
    if (st.size > maxBytes) return tooLarge(st.size);
    // One byte more than allowed tells a file that grew since the stat.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, null);
      if (n === 0) break;
      off += n;
    }
    if (off > maxBytes) return tooLarge(off);
    return { ok: true, text: buf.subarray(0, off).toString('utf8') };
  } catch (err) {
    return { ok: false, reason: 'unreadable', message: `cannot be read: ${(err as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1048576).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
