/**
 * The state directory's lock and the temp files crashed writers leave
 * (issue items 16 and 19).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimAgentLock, lockHolder, removeStaleTemps } from '../../core/agent/lock.js';
import { agentStatus, isAgentPid, writeAgentRecord } from '../../core/agent/store.js';
import { canMount, smallDisk } from '../harness/tmpfs.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-lock-'));
  dirs.push(d);
  return d;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('stale temp files (issue item 19)', () => {
  it('removes the temp files of writers that are gone, and only those', () => {
    const dir = tmp();
    const dead = deadPid();
    const live = process.ppid;
    const stale = [`guards.json.${dead}.tmp`, `agent.json.${dead}.tmp`, `agent.lock.${dead}.0a1b2c3d`, `reset-request.1.ab.json.${dead}.tmp`, `guards.json.${process.pid}.tmp`];
    const kept = [`maintenance.json.${live}.tmp`, 'guards.json', 'journal.jsonl', 'notes.tmp'];
    for (const n of [...stale, ...kept]) writeFileSync(join(dir, n), '');
    expect(removeStaleTemps(dir).sort()).toEqual([...stale].sort());
    expect(readdirSync(dir).sort()).toEqual([...kept].sort());
  });
});

describe('the lock (issue item 16)', () => {
  it('is a link holding the pid; a second claim sees the holder; an old agent\'s lock file is read too', () => {
    const dir = tmp();
    const a = claimAgentLock(dir, () => true);
    expect('release' in a).toBe(true);
    expect(lockHolder(dir)).toBe(process.pid);
    expect(readdirSync(dir)).toEqual(['agent.lock']);
    if ('release' in a) a.release();
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(join(dir, 'agent.lock'), `${process.ppid}\n`);
    expect(claimAgentLock(dir, () => true)).toEqual({ heldBy: process.ppid });
    // A holder that is gone is taken over.
    rmSync(join(dir, 'agent.lock'));
    symlinkSync(String(deadPid()), join(dir, 'agent.lock'));
    const b = claimAgentLock(dir, isAgentPid);
    expect('release' in b).toBe(true);
    expect(lockHolder(dir)).toBe(process.pid);
  });
});

describe.runIf(canMount)('the lock on a full disk (issue item 16)', () => {
  const disk = smallDisk(64);

  it('is claimed with no free block, leaves no temp file, and status finds the agent by it', () => {
    const dir = join(disk.dir, 'outpost');
    mkdirSync(dir);
    disk.fill(0);
    try {
      const claim = claimAgentLock(dir, () => true);
      expect('release' in claim).toBe(true);
      expect(readdirSync(dir)).toEqual(['agent.lock']);
      // vitest's worker is not an `agent`; the status reader is asked about a pid that is one.
      const st = agentStatus(dir);
      expect(st.problems.join(' ')).toMatch(/the disk holding .*outpost is full \(\d+ bytes available\)/);
      if ('release' in claim) claim.release();
    } finally {
      disk.free();
    }
  });
});

describe('agent status reads what the running agent recorded (issue items 16 and 24)', () => {
  it("a running agent's rules file problems are its problems; one that could not write its record is found by its lock", async () => {
    const dir = tmp();
    // A live process whose command line says `agent`, as `outpost agent`'s does.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', 'agent'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      await new Promise((r) => child.once('spawn', r));
      symlinkSync(String(pid), join(dir, 'agent.lock'));
      expect(agentStatus(dir)).toMatchObject({ running: true, record: null, pid, problems: [`the agent (pid ${pid}) has not written its record ${join(dir, 'agent.json')} yet`] });
      writeAgentRecord(dir, { pid, startedAt: 1, node: 'local', endpoint: '', rulesFile: '/etc/outpost/rules.yaml', rules: 2, problems: 1, version: 'x', issues: ['/etc/outpost/rules.yaml is gone'] });
      expect(agentStatus(dir)).toMatchObject({ running: true, pid, problems: ['/etc/outpost/rules.yaml is gone'] });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
