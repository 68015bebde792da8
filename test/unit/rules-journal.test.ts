import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal, followJournal, readJournal, JOURNAL_FILE, type JournalEntry } from '../../core/agent/journal.js';
import { agentStatus, readMaintenance, setMaintenance, writeAgentRecord } from '../../core/agent/store.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-journal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const entry = (i: number) => ({ ts: 1000 + i, node: 'local', kind: 'act' as const, reason: `restarted web (${i})`, rule: 'r', container: 'web', level: i });

describe('Journal', () => {
  it('appends numbered entries that read back in order', () => {
    const dir = tmp();
    const { journal } = Journal.open(dir);
    for (let i = 0; i < 5; i++) journal.append(entry(i));
    journal.close();
    const { entries, unreadable } = readJournal(dir);
    expect(unreadable).toBe(0);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[4]?.reason).toBe('restarted web (4)');
    // Re-opening continues the numbering.
    const again = Journal.open(dir).journal;
    expect(again.append(entry(5)).seq).toBe(6);
    again.close();
  });

  it('cuts a torn last line on open, and readers skip damaged lines', () => {
    const dir = tmp();
    const { journal } = Journal.open(dir);
    journal.append(entry(0));
    journal.append(entry(1));
    journal.close();
    appendFileSync(join(dir, JOURNAL_FILE), '{"seq":3,"ts":1003,"kind":"act","rea');
    expect(readJournal(dir)).toMatchObject({ unreadable: 1 });
    const { journal: j2, repairedBytes } = Journal.open(dir);
    expect(repairedBytes).toBe(36);
    expect(j2.append(entry(2)).seq).toBe(3);
    j2.close();
    const { entries, unreadable } = readJournal(dir);
    expect(unreadable).toBe(0);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('rotates at its size limit and keeps a bounded number of files', () => {
    const dir = tmp();
    const { journal } = Journal.open(dir, { maxBytes: 2000, keep: 2 });
    for (let i = 0; i < 200; i++) journal.append(entry(i));
    journal.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['journal.1.jsonl', 'journal.2.jsonl', 'journal.jsonl']);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2000);
    const { entries } = readJournal(dir);
    // The newest entries survive, in order, with no gap.
    expect(entries.at(-1)?.seq).toBe(200);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => 201 - entries.length + i));
  });

  it('follows new entries across a rotation', async () => {
    const dir = tmp();
    const { journal } = Journal.open(dir, { maxBytes: 600, keep: 3 });
    journal.append(entry(0));
    const seen: JournalEntry[] = [];
    const stop = followJournal(dir, (e) => seen.push(e), { pollMs: 50 });
    for (let i = 1; i <= 10; i++) journal.append(entry(i));
    // Waits for the last entry (a deadline, not a sleep), then checks that none was missed or repeated.
    await vi.waitFor(() => expect(seen.at(-1)?.seq).toBe(11), { timeout: 5000, interval: 20 });
    stop();
    journal.close();
    expect(seen.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('survives SIGKILL of a process that journals as fast as it can', async () => {
    const dir = tmp();
    const { fork } = await import('node:child_process');
    const script = join(dir, 'writer.mjs');
    // Node 20 cannot run TypeScript: bundle the journal for the child.
    const { buildSync } = await import('esbuild');
    const mod = join(dir, 'journal.mjs');
    buildSync({ entryPoints: [new URL('../../core/agent/journal.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: mod, logLevel: 'error' });
    writeFileSync(
      script,
      `const { Journal } = await import(${JSON.stringify(mod)});
       const { journal } = Journal.open(process.argv[2], { maxBytes: 64 * 1024, keep: 3 });
       process.send('ready');
       for (let i = 0; ; i++) journal.append({ ts: Date.now(), node: 'n', kind: 'act', reason: 'x'.repeat(i % 300), rule: 'r', container: 'c', level: i });`,
    );
    const child = fork(script, [join(dir, 'state')], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    // Killed while it writes: once the journal holds a few hundred entries (it has rotated by then), not after a guessed time.
    const state0 = join(dir, 'state');
    await vi.waitFor(() => expect(readJournal(state0).entries.length).toBeGreaterThan(500), { timeout: 20_000, interval: 25 });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const state = join(dir, 'state');
    const before = readJournal(state);
    expect(before.entries.length).toBeGreaterThan(100);
    expect(before.unreadable).toBeLessThanOrEqual(1); // at most the torn last line
    const { journal, repairedBytes } = Journal.open(state);
    const next = journal.append(entry(0));
    journal.close();
    const after = readJournal(state);
    expect(after.unreadable).toBe(0);
    expect(next.seq).toBe((before.entries.at(-1)?.seq ?? 0) + 1);
    expect(repairedBytes === 0 || before.unreadable === 1).toBe(true);
  });
});

describe('maintenance and agent status files', () => {
  it('pauses and resumes the node and single containers', () => {
    const dir = tmp();
    setMaintenance(dir, {}, { pauseUntil: null });
    setMaintenance(dir, { container: 'web' }, { pauseUntil: 5000 });
    expect(readMaintenance(dir).maintenance).toEqual({ node: { until: null }, containers: { web: { until: 5000 } } });
    setMaintenance(dir, {}, 'resume');
    setMaintenance(dir, { container: 'web' }, 'resume');
    expect(readMaintenance(dir).maintenance).toEqual({ node: null, containers: {} });
    expect(() => setMaintenance(dir, { container: '../etc' }, 'resume')).toThrow(/not a container name/);
  });

  it('a damaged maintenance file means no maintenance and says why', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'maintenance.json'), '{"node": ');
    const r = readMaintenance(dir);
    expect(r.maintenance).toEqual({});
    expect(r.problem).toMatch(/not valid maintenance JSON/);
  });

  it('tells a live agent from a stale record', () => {
    const dir = tmp();
    expect(agentStatus(dir).running).toBe(false);
    writeAgentRecord(dir, { pid: 2 ** 22 + 7, startedAt: 0, node: 'local', endpoint: '', rulesFile: '', rules: 0, problems: 0, version: '0' });
    expect(agentStatus(dir)).toMatchObject({ running: false, reason: expect.stringContaining('did not stop cleanly') });
    expect(JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')).pid).toBe(2 ** 22 + 7);
  });
});
