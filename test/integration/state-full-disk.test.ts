/**
 * The agent with its state directory on a full disk (issue item 16): a real
 * tmpfs filled to the last byte, the built CLI, the private engine.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal } from '../../core/agent/journal.js';
import { agentTests } from '../harness/agent.js';
import { BIN, outpost } from '../harness/cli.js';
import { docker, dockerHost, eventually, makeContainer } from '../harness/fixtures.js';
import { canMount, smallDisk } from '../harness/tmpfs.js';

const P = 'fd-';
const { cleanups } = agentTests(P);

describe.runIf(canMount)('an agent whose state directory is full', () => {
  const disk = smallDisk(256);

  it('starts, enforces its rules from memory, says the disk is full, and journals what it held once space returns (issue item 16)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-fd-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const name = `${P}crash`;
    mkdirSync(join(home, 'outpost'));
    writeFileSync(join(home, 'outpost', 'rules.yaml'), `rules:\n  - {name: crash, match: {name: "${name}"}, when: {exit: nonzero}, then: restart, backoff: {min: 1s, max: 1s}, budget: 50/10m}\n`);
    const state = join(disk.dir, 'outpost');
    mkdirSync(state);
    const env = { XDG_CONFIG_HOME: home, XDG_STATE_HOME: disk.dir, HOME: home };
    disk.fill(0);
    let freed = false;
    cleanups.push(() => disk.free());

    const child = spawn(process.execPath, [BIN, 'agent'], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: dockerHost(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited: number | null = null;
    child.on('exit', (code) => (exited = code ?? -1));
    cleanups.push(() => void child.kill('SIGKILL'));

    // It runs, and every face's status says why nothing is journaled.
    const status = await eventually(async () => {
      const r = await outpost(['agent', 'status'], env);
      return r.code === 0 && r;
    }, 15_000, `agent status to say running (agent stderr: ${stderr})`);
    expect(exited).toBe(null);
    expect(status.stdout).toMatch(new RegExp(`running: pid ${child.pid}`));
    expect(status.stdout).toMatch(/problem: the disk holding .*outpost is full \(\d+ bytes available\): the agent cannot write its journal or state; it enforces its rules from memory and journals what it held once there is space/);
    expect(stderr).not.toMatch(/at claimAgentLock|ENOSPC: no space left on device, write\n\s+at /);
    expect(readdirSync(state).filter((n) => n.startsWith('agent.lock.') || n.endsWith('.tmp'))).toEqual([]);

    // A second agent is refused at once (exit 5), though the first could write no record: the lock says who runs.
    const second = await outpost(['agent'], env);
    expect(second.code).toBe(5);
    expect(second.stderr).toContain(`another agent (pid ${child.pid}) already enforces rules with ${state}`);

    // A command that must write there says so, with the file and what to do, and no stack trace.
    const pause = await outpost(['rules', 'pause'], env);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toMatch(/^Error: cannot write .*outpost\/maintenance\.json: 0 of \d+ bytes written \(no space left on the device\); free space on its disk — the previous content is kept\n$/);

    // It enforces its rules: a crash is restarted with nothing on disk.
    await makeContainer(docker(), { name, cmd: 'sleep 1; exit 1' });
    const first = (await docker().getContainer(name).inspect()).State.StartedAt;
    await eventually(async () => (await docker().getContainer(name).inspect()).State.StartedAt !== first, 15_000, `a restart from memory (agent stderr: ${stderr})`);
    expect(readJournal(state).entries.filter((e) => e.container === name)).toEqual([]);

    // Space again: what it held is journaled, in order, and the status is clean.
    disk.free();
    freed = true;
    const held = await eventually(() => readJournal(state).entries.find((e) => e.kind === 'agent' && /held in memory/.test(e.reason)), 15_000, 'the held entries journaled');
    expect(held.reason).toMatch(/^there is space again in .*outpost: journaled \d+ entr(y|ies) held in memory since /);
    const { entries, unreadable } = readJournal(state);
    expect(unreadable).toBe(0);
    expect(entries.some((e) => e.kind === 'act' && e.container === name)).toBe(true);
    expect(entries[0]?.reason).toMatch(/^agent started/);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    const after = await eventually(async () => {
      const r = await outpost(['agent', 'status'], env);
      return r.code === 0 && !r.stdout.includes('problem:') && r.stdout.includes(`rules: 1 from ${join(home, 'outpost', 'rules.yaml')}`) && r;
    }, 15_000, 'a clean status');
    expect(after.stdout).not.toContain('full');
    expect(freed).toBe(true);
    child.kill('SIGTERM');
    await eventually(() => exited !== null, 20_000, 'the agent to stop');
    expect(exited).toBe(0);
  });

  it('with --listen on its first start (no room for its certificate): the rules are enforced all the same, and the log says the node is not served', async () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-fd-listen-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const name = `${P}listen-crash`;
    mkdirSync(join(home, 'outpost'));
    writeFileSync(join(home, 'outpost', 'rules.yaml'), `rules:\n  - {name: crash, match: {name: "${name}"}, when: {exit: nonzero}, then: restart, backoff: {min: 1s, max: 1s}, budget: 50/10m}\n`);
    mkdirSync(join(disk.dir, 'outpost'), { recursive: true });
    const env = { XDG_CONFIG_HOME: home, XDG_STATE_HOME: disk.dir, HOME: home };
    disk.fill(0);
    cleanups.push(() => disk.free());
    const child = spawn(process.execPath, [BIN, 'agent', '--listen', '127.0.0.1:0'], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: dockerHost(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited: number | null = null;
    child.on('exit', (code) => (exited = code ?? -1));
    cleanups.push(() => void child.kill('SIGKILL'));
    await eventually(() => /api: not serving this node to its peers: .*the rules are enforced all the same/.test(stderr), 15_000, `the log line (stderr: ${stderr})`);
    await makeContainer(docker(), { name, cmd: 'sleep 1; exit 1' });
    const first = (await docker().getContainer(name).inspect()).State.StartedAt;
    await eventually(async () => (await docker().getContainer(name).inspect()).State.StartedAt !== first, 15_000, `a restart (agent stderr: ${stderr})`);
    expect(exited).toBe(null);
    child.kill('SIGTERM');
    await eventually(() => exited !== null, 20_000, 'the agent to stop');
    disk.free();
  });
});
