/**
 * A small real filesystem that can be filled up: a tmpfs of a few KiB
 * mounted on a temp directory (the tests run as root). `fill()` writes a
 * filler file until the disk is full, leaving `leave` bytes free; `free()`
 * removes it. Unmounted after the file's tests.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const canMount = process.getuid?.() === 0;

export interface SmallDisk {
  dir: string;
  /** Fills the disk, leaving about `leave` bytes (0: full). */
  fill: (leave?: number) => void;
  free: () => void;
  available: () => number;
}

export function smallDisk(sizeKiB: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  afterAll(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const filler = join(dir, 'filler');
  const available = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    available,
    fill: (leave = 0) => {
      const fd = openSync(filler, 'a');
      try {
        const page = Buffer.alloc(4096, 0x2e);
        while (available() > leave) {
          try {
            writeSync(fd, page, 0, Math.min(4096, Math.max(1, available() - leave)));
          } catch {
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
  };
}
