/**
 * The state directory's lock (`agent.lock`, one agent per directory) and the
 * temp files that crashed writers leave in it.
 *
 * The lock is a symbolic link whose target is the holder's pid: creating a
 * link is atomic and fails when it exists (of two agents started at the same
 * instant, one wins), it never exists without its pid, and a short link's
 * target lives in the inode, so it is made on a disk with no free block —
 * an agent must be able to start on a full disk. Earlier agents wrote a
 * regular file holding the pid; both are read.
 */
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../model/read-file.js';

export const AGENT_LOCK = 'agent.lock';

/** Whether a process with this pid exists (the pid may have been reused: callers that care check more). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in `agent.lock` (a link, or an older agent's file), or null when there is none or it is damaged. */
export function lockHolder(dir: string): number | null {
  const path = join(dir, AGENT_LOCK);
  let text: string;
  try {
    if (lstatSync(path).isSymbolicLink()) text = readlinkSync(path);
    else {
      const f = readRegularFile(path, 64);
      if (!f.ok) return null;
      text = f.text;
    }
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Claims the state directory for this process. A lock left by a process
 * that is gone (`isAgent` says no) is taken over. Returns the release
 * function, or the pid of the agent that holds it.
 */
export function claimAgentLock(dir: string, isAgent: (pid: number) => boolean): { release: () => void } | { heldBy: number } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, AGENT_LOCK);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      symlinkSync(String(process.pid), path);
      return {
        release: () => {
          if (lockHolder(dir) === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`cannot create the lock ${path}: ${(err as Error).message}; check that the state directory is writable by this user`);
      }
    }
    const pid = lockHolder(dir);
    if (pid !== null && pid !== process.pid && isAgent(pid)) return { heldBy: pid };
    rmSync(path, { force: true }); // stale, damaged (or ours from before): take it over
  }
  throw new Error(`cannot claim ${path}: it keeps coming back; is another agent starting with the same state directory?`);
}

/** `NAME.PID.tmp` (writeAtomic) and `agent.lock.PID.HEX` (the lock of earlier agents). */
const TEMP = /^(?:.+\.(\d+)\.tmp|agent\.lock\.(\d+)\.[0-9a-f]+)$/;

/**
 * Removes the temp files of writers that are gone (SIGKILL or a full disk
 * mid-write): those of pids that are not alive, and this process's own
 * (left by an earlier process with the same pid: this one writes its temp
 * files synchronously, so none of its own is in flight now). Returns the
 * names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m) continue;
    const pid = Number(m[1] ?? m[2]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // not ours to remove (another user's): left
    }
  }
  return removed;
}
