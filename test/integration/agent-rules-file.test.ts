/**
 * The agent and its rules file, hostile (issue items 22 and 24): a 1 MB rule
 * name, a rules file that disappears or becomes a dangling symlink while the
 * agent runs. The real agent on the private engine.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentInfo } from '../../core/rules/port.js';
import { agentTests } from '../harness/agent.js';
import { eventually } from '../harness/fixtures.js';
import { outpost } from '../harness/cli.js';

const P = 'arf-';
const { cleanups, startAgentIn } = agentTests(P);

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-arf-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const good = 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart}\n  - {name: oom, when: {oom: true}, then: restart}\n';

describe('the agent and its rules file', () => {
  it('a 1 MB rule name: one bounded error per edit, however often the file is reloaded (issue item 22)', async () => {
    const dir = tempDir();
    const a = await startAgentIn(dir, { rulesYaml: good });
    const errors = () => a.entries().filter((e) => e.kind === 'error' && e.reason.includes('rules file'));
    writeFileSync(a.rulesFile, `rules:\n  - {name: ${'n'.repeat(1_000_000)}, when: {exit: any}, then: restart}\n`);
    // The watch reloads it; a SIGHUP (or a second watch event) reloads the same edit again.
    await eventually(() => errors().length > 0, 10_000, 'the reload error');
    a.agent.reload();
    a.agent.reload();
    expect(errors()).toHaveLength(1);
    expect(errors()[0]?.reason.length).toBeLessThan(2000);
    expect(errors()[0]?.reason).toMatch(/rule 1 "n{64}… \(999936 more characters\)": name: expected a name/);
    // Another problem is news; the same one after a good edit is news again.
    writeFileSync(a.rulesFile, 'rules: 5\n');
    a.agent.reload();
    expect(errors()).toHaveLength(2);
    writeFileSync(a.rulesFile, good);
    a.agent.reload();
    writeFileSync(a.rulesFile, 'rules: 5\n');
    a.agent.reload();
    expect(errors()).toHaveLength(3);
    await a.stop();
  });

  it('a rules file that disappears, or becomes a dangling symlink, keeps the last good rules in force and is a problem every face shows (issue item 24)', async () => {
    const dir = tempDir();
    const real = join(dir, 'real-rules.yaml');
    writeFileSync(real, good);
    symlinkSync(real, join(dir, 'rules.yaml'));
    const a = await startAgentIn(dir, { rulesYaml: good, keepRules: true });
    expect(a.agent.engine.rules().map((r) => r.name)).toEqual(['crash', 'oom']);
    const record = () => JSON.parse(readFileSync(join(a.stateDir, 'agent.json'), 'utf8')) as AgentInfo;
    expect(record().problems).toBe(0);

    // The symlink's target goes: nothing in the rules directory changes, a reload (SIGHUP) finds it.
    renameSync(real, `${real}.moved`);
    a.agent.reload();
    const gone = a.entries().filter((e) => e.kind === 'error').at(-1);
    expect(gone?.reason).toBe(`rules file ${a.rulesFile} is gone (deleted, or a symlink to nothing); keeping the 2 rule(s) in force: restore it, or leave it empty to drop them`);
    expect(a.agent.engine.rules().map((r) => r.name)).toEqual(['crash', 'oom']);
    // What agent status and the rules tab read (agentStatus turns `issues` into its problems: test/unit/state-dir-lock.test.ts).
    expect(record()).toMatchObject({ rules: 2, problems: 1, issues: [`${a.rulesFile} is gone (deleted, or a symlink to nothing); the agent keeps the 2 rule(s) it had in force: restore it, or leave it empty to drop them`] });

    // Back: loaded, and the problem is over.
    renameSync(`${real}.moved`, real);
    a.agent.reload();
    expect(record().problems).toBe(0);
    expect(record().issues).toBeUndefined();

    // Deleted outright: the watch sees it.
    rmSync(join(dir, 'rules.yaml'));
    await eventually(() => record().problems === 1, 10_000, 'the problem after the file was deleted');
    expect(a.agent.engine.rules().map((r) => r.name)).toEqual(['crash', 'oom']);
    expect(a.entries().filter((e) => e.kind === 'agent' && /enforcing container label rules only/.test(e.reason))).toEqual([]);
    await a.stop();
  });
});

describe('journal -c without an engine (issue item 24)', () => {
  it('a name the journal does not know fails with the engine error and exit 4; a known one is answered from the journal', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'state', 'outpost'), { recursive: true });
    writeFileSync(join(dir, 'state', 'outpost', 'journal.jsonl'), `${JSON.stringify({ seq: 1, ts: 1, node: 'local', kind: 'act', container: 'web', reason: 'restarted web' })}\n`);
    const env = { HOME: dir, XDG_STATE_HOME: join(dir, 'state'), DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` };
    const unknown = await outpost(['journal', '-c', 'nosuch'], env);
    expect(unknown).toMatchObject({ code: 4, stdout: '' });
    expect(unknown.stderr).toMatch(/^Error: Cannot reach the Docker engine at unix:\/\/.*no-engine\.sock/);
    const known = await outpost(['journal', '-c', 'web'], env);
    expect(known.code).toBe(0);
    expect(known.stdout).toMatch(/act +restarted web\n$/);
  });
});

describe('the state directory at agent start (issue item 19)', () => {
  it('temp files of writers that are gone are removed, and the start says how many', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    for (const n of [`guards.json.${dead}.tmp`, `agent.json.${dead}.tmp`, `agent.lock.${dead}.0a1b2c3d`]) writeFileSync(join(state, n), '');
    const a = await startAgentIn(dir, { rulesYaml: good });
    expect(readdirSync(state).filter((n) => n.includes(`.${dead}.`))).toEqual([]);
    expect(a.entries().find((e) => e.kind === 'agent' && e.reason.startsWith('agent started'))?.reason).toMatch(/; removed 3 temp file\(s\) of writers that are gone$/);
    await a.stop();
  });
});
