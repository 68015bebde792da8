/**
 * The agent and the rules commands against the private engine, with what
 * users found: a second agent, names that do not exist, special files as the
 * rules file, hostile webhooks and log patterns, exits while no agent ran,
 * journal rotation, containers that stay unhealthy after a reset, outages.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalFiles, readJournal } from '../../core/agent/journal.js';
import { GUARD_FILE, requestReset } from '../../core/agent/store.js';
import { systemdUnit } from '../../tui/cli/rules-commands.js';
import { agentTests, type RunningAgent } from '../harness/agent.js';
import { docker, dockerHost, eventually, makeContainer } from '../harness/fixtures.js';
import { BIN, outpost, type Run } from '../harness/cli.js';

const P = 'rh-';
const { cleanups, startAgentIn } = agentTests(P);

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-rh-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The CLI with a deadline: a command that hangs is killed and fails the test instead of holding it. */
function run(args: string[], env: Record<string, string>, deadlineMs = 20_000): Promise<Run & { ms: number }> {
  const started = Date.now();
  return Promise.race([
    outpost(args, env).then((r) => ({ ...r, ms: Date.now() - started })),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`outpost ${args.join(' ')} still running after ${deadlineMs} ms`)), deadlineMs).unref()),
  ]);
}

type Agent = RunningAgent;

function startAgent(dir: string, rulesYaml?: string, options: { journal?: { maxBytes?: number; keep?: number }; host?: string } = {}): Promise<Agent> {
  return startAgentIn(dir, { ...(rulesYaml !== undefined ? { rulesYaml } : {}), ...options, reconnectMs: [100, 300] });
}

function spawnAgent(env: Record<string, string>, args: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'agent', ...args], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: dockerHost(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  return child;
}

function exitOf(child: ChildProcess, deadlineMs: number): Promise<number | null> {
  return Promise.race([
    new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code)))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after ${deadlineMs} ms`)), deadlineMs).unref()),
  ]);
}

describe('outpost agent and rules commands refuse what they cannot do', () => {
  it('a second agent on the same state directory exits 5 at once, having opened nothing (issue item 6)', async () => {
    const dir = tempDir();
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const first = spawnAgent(env);
    await eventually(async () => (await run(['agent', 'status'], env)).code === 0, 15_000, 'first agent running');
    const second = spawnAgent(env);
    let stderr = '';
    second.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exitOf(second, 10_000)).toBe(5);
    expect(stderr).toContain(`another agent (pid ${first.pid}) already enforces rules`);
    // The first one is untouched.
    expect((await run(['agent', 'status', '--json'], env)).stdout).toContain(`"pid": ${first.pid}`);
    first.kill('SIGTERM');
    expect(await exitOf(first, 15_000)).toBe(0);

    // Two started at the same instant: one runs, the other exits 5.
    const both = [spawnAgent(env), spawnAgent(env)];
    const settled = await Promise.race([
      Promise.any(both.map(async (c, i) => { const code = await exitOf(c, 20_000); return code === 5 ? i : Promise.reject(new Error(`exited with ${code}`)); })),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('neither refused')), 20_000).unref()),
    ]);
    const winner = both[1 - settled] as ChildProcess;
    await eventually(async () => JSON.parse((await run(['agent', 'status', '--json'], env)).stdout).agent?.pid === winner.pid, 15_000, 'the other one runs');
    expect(winner.exitCode).toBeNull();
    winner.kill('SIGTERM');
    expect(await exitOf(winner, 15_000)).toBe(0);
  });

  it('pause and reset name what does not exist and exit 2; a gone container with history may be named (issue item 7)', async () => {
    const dir = tempDir();
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    mkdirSync(join(dir, 'config', 'outpost'), { recursive: true });
    writeFileSync(join(dir, 'config', 'outpost', 'rules.yaml'), `rules:\n  - {name: crash, match: {name: "${P}*"}, when: {exit: nonzero}, then: restart}\n`);
    const real = `${P}real`;
    await makeContainer(docker(), { name: real, cmd: 'sleep 3600' });
    const pause = await run(['rules', 'pause', `${P}nosuch`], env);
    expect(pause.code).toBe(2);
    expect(pause.stderr).toContain(`no container is named \`${P}nosuch\` on this node`);
    expect(existsSync(join(dir, 'state', 'outpost', 'maintenance.json'))).toBe(false);
    const reset = await run(['rules', 'reset', real, '--rule', 'NO-SUCH-RULE'], env);
    expect(reset.code).toBe(2);
    expect(reset.stderr).toContain('no rule is named `NO-SUCH-RULE`');
    expect((await run(['rules', 'reset', `${P}nosuch`], env)).code).toBe(2);
    expect((await run(['rules', 'resume', `${P}nosuch`], env)).code).toBe(2);
    // The real one works, and so does one that is gone but has history in the journal.
    expect((await run(['rules', 'pause', real, '--for', '1h'], env)).code).toBe(0);
    expect((await run(['rules', 'reset', real, '--rule', 'crash'], env)).code).toBe(0);
    const stateDir = join(dir, 'state', 'outpost');
    writeFileSync(join(stateDir, 'journal.jsonl'), `${JSON.stringify({ seq: 1, ts: Date.now(), node: 'local', kind: 'act', reason: 'x', rule: 'crash', container: `${P}gone` })}\n`);
    const gone = await run(['rules', 'pause', `${P}gone`], env);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain('no such container now; it has journal history');
  });

  it('a FIFO, a 55 MB file or /dev/zero as the rules file: rules check answers at once with exit 2 (issue item 31)', async () => {
    const dir = tempDir();
    const env = { HOME: dir };
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big.yaml');
    writeFileSync(big, Buffer.alloc(55 * 1024 * 1024, 0x61));
    for (const [file, message] of [
      [fifo, 'is not a regular file (a FIFO)'],
      [big, 'the file is 55.0 MiB; at most 1.0 MiB is read; a rules file may be at most 1 MiB'],
      ['/dev/zero', 'is not a regular file (a device)'],
      [dir, 'is not a regular file (a directory)'],
    ] as const) {
      const r = await run(['rules', 'check', file], env, 10_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file}: (file): ${message}`);
    }
    // The agent does not freeze on one either: it starts, says why, and runs with label rules.
    const stateDir = join(dir, 'state');
    const agent = spawnAgent({ HOME: dir }, ['--rules', fifo, '--state-dir', stateDir]);
    const err = await eventually(() => readJournal(stateDir).entries.find((e) => e.kind === 'error'), 15_000, 'the agent says the file is not regular');
    expect(err.reason).toContain('is not a regular file (a FIFO)');
    agent.kill('SIGTERM');
    expect(await exitOf(agent, 15_000)).toBe(0);
  });

  it('bounded input: --since, --for and agent status --state-dir (issue items 28 and 32)', async () => {
    const dir = tempDir();
    const env = { XDG_STATE_HOME: join(dir, 'xdg'), HOME: dir };
    const name = `${P}since`;
    await makeContainer(docker(), { name, cmd: 'echo hi; sleep 3600' });
    const since = await run(['logs', name, '--since', '99999999999999999999'], env);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('is out of range');
    for (const bad of ['', '99999999999d', '1e35s']) {
      const r = await run(['rules', 'pause', name, '--for', bad], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--for `.*` is (not a duration|too long)/);
    }
    expect(existsSync(join(dir, 'xdg', 'outpost', 'maintenance.json'))).toBe(false);
    // `agent status --state-dir DIR` looks in DIR, wherever the option is given.
    const stateDir = join(dir, 'elsewhere');
    const agent = spawnAgent({ HOME: dir }, ['--state-dir', stateDir]);
    await eventually(() => existsSync(join(stateDir, 'agent.json')), 15_000, 'agent record');
    const st = await run(['agent', 'status', '--state-dir', stateDir, '--json'], env);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: true, stateDir, agent: { pid: agent.pid } });
    expect((await run(['agent', '--state-dir', stateDir, 'status'], env)).code).toBe(0);
    expect((await run(['agent', 'status'], env)).code).toBe(3);
    agent.kill('SIGTERM');
    expect(await exitOf(agent, 15_000)).toBe(0);
    // A pause file that is out of range (written by an older version) is reported, not fatal.
    mkdirSync(join(dir, 'xdg', 'outpost'), { recursive: true });
    writeFileSync(join(dir, 'xdg', 'outpost', 'maintenance.json'), JSON.stringify({ node: { until: 1e300 } }));
    const explain = await run(['rules', 'explain'], env);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('ignored 1 pause(s) with a time out of range');
  });

  it('webhook URLs that fail new URL(): check and explain exit cleanly, the agent journals it and keeps enforcing (issue item 25)', async () => {
    const dir = tempDir();
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'webhook: "http://localhost:99999/hook"\nrules: []\n');
    const check = await run(['rules', 'check', file], env);
    expect(check.code).toBe(2);
    // The value is not repeated (a hook's address is often its secret, and problems reach viewers): its place is.
    expect(check.stderr).toContain(`${file}:1:10: webhook: expected an http:// or https:// URL with a host, got a string of 27 characters that is not one`);
    expect(check.stderr).not.toMatch(/\n\s+at /);
    const explain = await run(['rules', 'explain', '--rules', file], env);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('problem: ');
    expect(explain.stderr).not.toMatch(/\n\s+at /);

    const name = `${P}hook`;
    const a = await startAgent(dir, `rules:\n  - {name: keep, match: {name: "${name}"}, when: {exit: nonzero}, then: restart, backoff: off}\n`);
    for (const url of ['http://[::1', 'http://localhost:99999/hook']) {
      const before = a.entries().length;
      writeFileSync(a.rulesFile, `webhook: "${url}"\nrules:\n  - {name: other, when: {exit: any}, then: stop}\n`);
      const err = await eventually(() => a.entries().slice(before).find((e) => e.kind === 'error'), 5000, 'reload error journaled');
      expect(err.reason).toContain('keeping the rules in force');
      expect(err.reason).toContain('webhook');
    }
    await makeContainer(docker(), { name, cmd: 'sleep 0.3; exit 1' });
    const act = await eventually(() => a.entries(name).find((e) => e.kind === 'act'), 10_000, 'old rule still acts');
    expect(act.rule).toBe('keep');
    await a.stop();
  });

  it('the systemd units (system and user) pass systemd-analyze verify; the user unit asks for no negative nice (issue item 11)', async () => {
    const dir = tempDir();
    const script = join(process.cwd(), BIN);
    for (const user of [false, true]) {
      const unit = systemdUnit({ user, env: { DOCKER_HOST: 'unix:///run/docker.sock' }, nodePath: process.execPath, script });
      const path = join(dir, user ? 'user' : 'system', 'outpost-agent.service');
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, unit);
      const args = [...(user ? ['--user'] : []), 'verify', '--man=yes', path];
      let out = '';
      try {
        out = execFileSync('systemd-analyze', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice', XDG_RUNTIME_DIR: dir } });
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; status?: number };
        throw new Error(`systemd-analyze ${args.join(' ')} failed (${e.status}): ${e.stderr ?? ''}${e.stdout ?? ''}`);
      }
      expect(out).toBe('');
      if (user) expect(unit).not.toMatch(/^Nice=-/m);
      else expect(unit).toMatch(/^Nice=-5$/m);
      expect(unit).not.toMatch(/^Documentation=man:/m);
    }
    const printed = await run(['agent', 'install', '--user', '--print'], { HOME: dir });
    expect(printed.stdout).not.toMatch(/^Nice=/m);
    // An engine socket under /tmp: no PrivateTmp (it would hide the socket), and the unit still verifies.
    const tmpUnit = systemdUnit({ user: true, env: { DOCKER_HOST: 'unix:///tmp/engine/docker.sock' }, nodePath: process.execPath, script });
    expect(tmpUnit).not.toMatch(/^PrivateTmp=/m);
    const tmpPath = join(dir, 'tmp-socket', 'outpost-agent.service');
    mkdirSync(join(tmpPath, '..'), { recursive: true });
    writeFileSync(tmpPath, tmpUnit);
    expect(execFileSync('systemd-analyze', ['--user', 'verify', '--man=yes', tmpPath], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice', XDG_RUNTIME_DIR: dir } })).toBe('');
  });
});

describe('the agent keeps enforcing through what users found', () => {
  it('rules explain counts unhealthy from the engine, not from when it started (issue item 10)', async () => {
    const dir = tempDir();
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const name = `${P}sick-explain`;
    mkdirSync(join(dir, 'config', 'outpost'), { recursive: true });
    writeFileSync(
      join(dir, 'config', 'outpost', 'rules.yaml'),
      `rules:\n  - {name: crash, match: {name: "${name}"}, when: {exit: nonzero}, then: restart}\n  - {name: sick, match: {name: "${name}"}, when: {unhealthy: 1h}, then: restart}\n`,
    );
    await makeContainer(docker(), { name, cmd: 'sleep 3600', health: { cmd: 'false', intervalMs: 500, retries: 1 } });
    await eventually(async () => (await docker().getContainer(name).inspect()).State.Health?.Status === 'unhealthy', 15_000, 'unhealthy');
    const turned = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const out = await run(['rules', 'explain', name], env);
    expect(out.code).toBe(0);
    const sick = out.stdout.split('\n').find((l) => l.startsWith(`sick → ${name}`)) ?? '';
    const secs = Number(/unhealthy for (\d+)s/.exec(sick)?.[1] ?? -1);
    expect(secs).toBeGreaterThanOrEqual(4);
    expect(secs).toBeLessThanOrEqual(Math.ceil((Date.now() - turned) / 1000) + 2);
    // The exit rule says nothing about how long it has been unhealthy.
    expect(out.stdout).toContain(`crash → ${name}: armed: would restart on an exit with a non-zero code\n`);
  });

  it('a custom notify message is the notification (issue item 8)', async () => {
    const dir = tempDir();
    const name = `${P}sensor`;
    const a = await startAgent(dir, `rules:\n  - {name: sensor, match: {name: "${name}"}, when: {log: "timeout"}, then: {notify: "sensor timeout seen"}}\n`);
    await makeContainer(docker(), { name, cmd: 'sleep 0.5; echo "read timeout on /dev/ttyUSB0"; sleep 3600' });
    const note = await eventually(() => a.entries(name).find((e) => e.kind === 'notify'), 15_000, 'notify entry');
    expect(note.reason).toBe(`sensor timeout seen (${name}: logged "read timeout on /dev/ttyUSB0")`);
    await a.stop();
  });

  it('a log line that would backtrack for minutes does not hold the agent: a crash 8 s later is restarted (issue item 27)', async () => {
    const dir = tempDir();
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const stateDir = join(dir, 'state', 'outpost');
    const words = `${P}words`;
    const crash = `${P}crash-after`;
    mkdirSync(join(dir, 'config', 'outpost'), { recursive: true });
    writeFileSync(
      join(dir, 'config', 'outpost', 'rules.yaml'),
      `rules:
  - {name: words, match: {name: "${words}"}, when: {log: '^(\\w+\\s?)+$'}, then: notify}
  - {name: crash, match: {name: "${crash}"}, when: {exit: nonzero}, then: restart, budget: 1/10m}
`,
    );
    const agent = spawnAgent(env);
    await eventually(async () => (await run(['agent', 'status'], env)).code === 0, 15_000, 'agent running');
    await makeContainer(docker(), { name: words, cmd: `sleep 1; echo ${'a'.repeat(40)}!; sleep 3600` });
    await makeContainer(docker(), { name: crash, cmd: 'sleep 9; exit 3' });
    const act = await eventually(() => readJournal(stateDir).entries.find((e) => e.container === crash && e.kind === 'act'), 30_000, 'restart of the crash');
    expect(act.latencyMs ?? 0).toBeLessThan(2000);
    expect(readJournal(stateDir).entries.some((e) => e.container === words && e.kind === 'act')).toBe(false);
    agent.kill('SIGTERM');
    expect(await exitOf(agent, 15_000)).toBe(0);
  });

  it('an exit while no agent watched is acted on by the next agent (issue item 26)', async () => {
    const dir = tempDir();
    const name = `${P}loop`;
    const rules = `rules:\n  - {name: loop, match: {name: "${name}"}, when: {exit: nonzero}, then: restart, backoff: {min: 1s, max: 2s}, budget: 3/10m}\n`;
    const a = await startAgent(dir, rules);
    await makeContainer(docker(), { name, cmd: 'sleep 1; exit 1' });
    await eventually(() => a.entries(name).find((e) => e.kind === 'outcome'), 15_000, 'first restart');
    await a.stop();
    // While no agent runs, it exits again.
    await eventually(async () => (await docker().getContainer(name).inspect()).State.Running === false, 15_000, 'exit with no agent');
    await new Promise((r) => setTimeout(r, 300));
    const b = await startAgent(dir);
    const act = await eventually(() => b.entries(name).filter((e) => e.kind === 'act')[1], 15_000, 'the new agent acts on the exit it did not see');
    expect(act.reason).toMatch(new RegExp(`^restarted ${name}: exited with code 1; 2nd restart in 10m \\(budget 3\\)`));
    await eventually(async () => (await docker().getContainer(name).inspect()).State.Running === true || b.entries(name).some((e) => e.kind === 'give-up'), 10_000, 'restarted');
    // And the loop goes on to the give-up, with no agent restart in between.
    await eventually(() => b.entries(name).find((e) => e.kind === 'give-up'), 20_000, 'give-up');
    await b.stop();
  });

  it('journal rotation cannot erase a give-up: guard state lives in its own file (issue item 30)', async () => {
    const dir = tempDir();
    const crash = `${P}rot-crash`;
    const spam = `${P}rot-spam`;
    const rules = `rules:
  - {name: crash, match: {name: "${crash}"}, when: {exit: nonzero}, then: restart, backoff: off, budget: 1/1h}
  - {name: spam, match: {name: "${spam}"}, when: {log: "line"}, then: notify, cooldown: 0s}
`;
    const journal = { maxBytes: 8 * 1024, keep: 1 };
    const a = await startAgent(dir, rules, { journal });
    await makeContainer(docker(), { name: crash, cmd: 'sleep 0.5; exit 1' });
    const gaveUp = await eventually(() => a.entries(crash).find((e) => e.kind === 'give-up'), 15_000, 'give-up');
    await makeContainer(docker(), { name: spam, cmd: 'while :; do echo line; sleep 0.01; done' });
    // The chatty rule rotates the give-up out of every journal file.
    await eventually(() => !journalFiles(a.stateDir).some((f) => readFileSync(f, 'utf8').includes('"give-up"')), 30_000, 'give-up rotated out');
    // And one rule cannot journal more than its share: at most 60 actions a minute.
    expect(a.entries(spam).filter((e) => e.kind === 'act').length).toBeLessThanOrEqual(60);
    await docker().getContainer(spam).remove({ force: true });
    await a.stop();
    expect(existsSync(join(a.stateDir, GUARD_FILE))).toBe(true);
    const b = await startAgent(dir, undefined, { journal });
    const st = b.agent.engine.explain(Date.now(), crash)[0];
    expect(st?.state).toBe('given-up');
    expect(st?.gaveUpAt).toBe(gaveUp.ts);
    await b.stop();
  });

  it('a container still unhealthy after a reset is acted on again once it held for the duration (issue item 4)', async () => {
    const dir = tempDir();
    const name = `${P}still-sick`;
    const a = await startAgent(dir, `rules:\n  - {name: sick, match: {name: "${name}"}, when: {unhealthy: 1s}, then: restart, backoff: off, budget: 1/10m}\n`);
    await makeContainer(docker(), { name, cmd: "trap 'exit 0' TERM; while :; do sleep 0.2; done", health: { cmd: 'false', intervalMs: 500, retries: 1 } });
    await eventually(() => a.entries(name).find((e) => e.kind === 'give-up'), 30_000, 'give-up after the restart did not help');
    const before = a.entries(name).length;
    requestReset(a.stateDir, { container: name, at: Date.now() });
    await eventually(() => a.entries(name).slice(before).find((e) => e.kind === 'reset'), 5000, 'reset applied');
    const act = await eventually(() => a.entries(name).slice(before).find((e) => e.kind === 'act'), 15_000, 'acts again after the reset');
    expect(act.reason).toMatch(new RegExp(`^restarted ${name}: unhealthy for \\d+s; 1st restart in 10m`));
    await a.stop();
  });
});

describe('what the tester found in the commands', () => {
  it('rules pause --for 0s is refused with exit 2 naming --for; the 10-year bound stays (defect 3)', async () => {
    const dir = tempDir();
    const env = { XDG_STATE_HOME: join(dir, 'xdg'), HOME: dir };
    const name = `${P}pause-zero`;
    await makeContainer(docker(), { name, cmd: 'sleep 3600' });
    for (const bad of ['0s', '0ms', '0m0s', '0.0001s']) {
      const r = await run(['rules', 'pause', name, '--for', bad], env);
      expect(r.code, `${bad}: ${r.stdout}`).toBe(2);
      expect(r.stderr).toMatch(/--for `.*` must be longer than zero/);
    }
    expect(existsSync(join(dir, 'xdg', 'outpost', 'maintenance.json'))).toBe(false);
    const long = await run(['rules', 'pause', name, '--for', '3651d'], env);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/--for `3651d` is too long/);
    const ok = await run(['rules', 'pause', name, '--for', '1s'], env);
    expect(ok.code).toBe(0);
  });

  it('journal -c NOSUCH says so and exits 2; a container without entries prints nothing and exits 0 (defect 5)', async () => {
    const dir = tempDir();
    const env = { XDG_STATE_HOME: join(dir, 'xdg'), HOME: dir };
    const name = `${P}journal-quiet`;
    await makeContainer(docker(), { name, cmd: 'sleep 3600' });
    const none = await run(['journal', '-c', `${P}nosuch\u001b[2J`], env);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain(`no container is named \`${P}nosuch`);
    expect(none.stderr).not.toContain('\u001b');
    const quiet = await run(['journal', '-c', name], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toBe('');
  });

  it('agent install --print leaves PrivateTmp out when the executable or the engine socket is under /tmp, and says why (defect 2)', async () => {
    const dir = tempDir();
    const printed = await run(['agent', 'install', '--user', '--print'], { HOME: dir, DOCKER_HOST: 'unix:///tmp/outpost-test/docker.sock' });
    expect(printed.code).toBe(0);
    expect(printed.stdout).not.toMatch(/^PrivateTmp=/m);
    expect(printed.stderr).toMatch(/PrivateTmp.*\/tmp\/outpost-test\/docker\.sock/);
    const plain = await run(['agent', 'install', '--user', '--print'], { HOME: dir, DOCKER_HOST: 'unix:///run/docker.sock' });
    expect(plain.stdout.includes('PrivateTmp=yes')).toBe(!/^\/(var\/)?tmp\//.test(join(process.cwd(), BIN)));
  });
});

describe('deferred actions and re-created containers', () => {
  it('a deferred notify is dropped, journaled, when the container is re-created under its name (defect 6)', async () => {
    const dir = tempDir();
    const name = `${P}recreated`;
    const a = await startAgent(dir, `rules:\n  - {name: panics, match: {name: "${name}"}, when: {log: "panic"}, then: {notify: "it panicked"}, cooldown: 4s}\n`);
    const old = await makeContainer(docker(), { name, cmd: 'sleep 1; echo panic one; sleep 1; echo panic two; exec sleep 3600' });
    const defer = await eventually(() => a.entries(name).find((e) => e.kind === 'defer'), 15_000, 'the second line deferred').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(a.entries().map((e) => [e.kind, e.reason]))}`);
    });
    await old.remove({ force: true });
    const fresh = await makeContainer(docker(), { name, cmd: 'exec sleep 3600' });
    const dropped = await eventually(() => a.entries(name).find((e) => e.kind === 'skip' && e.reason.startsWith('dropped the deferred')), 15_000, 'the deferred notify dropped');
    expect(dropped.reason).toMatch(/was (destroyed|re-created)/);
    expect(dropped.containerId).toBe(old.id);
    // Past the time it was deferred to: nothing acted for the old container's line, on the new one.
    await eventually(() => Date.now() > (defer.at ?? 0) + 1500, 10_000, 'past the deferred time');
    const acts = a.entries(name).filter((e) => e.kind === 'act');
    expect(acts).toHaveLength(1);
    expect(acts.some((e) => e.containerId === fresh.id)).toBe(false);
    expect(a.entries(name).some((e) => e.kind === 'notify' && e.reason.includes('panic two'))).toBe(false);
    await a.stop();
  }, 60_000);
});

describe('one incident, one action', () => {
  it('a restart that takes 10 s is not restarted again while it runs; unhealthy counts from the new start (defect 1)', async () => {
    const dir = tempDir();
    const name = `${P}slow-sick`;
    const a = await startAgent(
      dir,
      `interval: 1s\nrules:\n  - {name: sick, match: {name: "${name}"}, when: {unhealthy: 1s}, then: restart, backoff: 1s-30s, budget: 3/10m}\n`,
    );
    // sleep as PID 1 ignores SIGTERM: the agent's restart waits its 10 s timeout, then kills it.
    await makeContainer(docker(), { name, cmd: 'exec sleep 100000', health: { cmd: 'false', intervalMs: 500, retries: 1 } });
    const first = await eventually(() => a.entries(name).find((e) => e.kind === 'outcome'), 40_000, 'the first restart done');
    expect(first.ok).toBe(true);
    expect(first.durationMs).toBeGreaterThanOrEqual(9000);
    const during = a.entries(name).filter((e) => (e.kind === 'act' || e.kind === 'defer' || e.kind === 'give-up') && e.seq < first.seq);
    expect(during.map((e) => e.kind)).toEqual(['act']);
    // Still sick after the restart: acted on again, counting from the new run, not across the earlier one.
    const second = await eventually(() => a.entries(name).find((e) => e.kind === 'act' && e.seq > first.seq), 20_000, 'the second restart');
    const m = /unhealthy for (\d+)s/.exec(second.reason) ?? /(turned) unhealthy/.exec(second.reason);
    expect(m, second.reason).not.toBeNull();
    if (m && m[1] !== 'turned') expect(Number(m[1])).toBeLessThan(8);
    expect(second.reason).toMatch(/2nd restart in 10m/);
    await a.stop();
  }, 90_000);
});

describe('an engine that goes away and comes back', () => {
  /** A unix socket in front of the private engine that can be cut and restored (what a dockerd restart looks like to a client). */
  async function cuttableEngine(): Promise<{ host: string; cut: () => Promise<void>; restore: () => Promise<void> }> {
    const dir = tempDir();
    const path = join(dir, 'engine.sock');
    const upstream = dockerHost().replace(/^unix:\/\//, '');
    const sockets = new Set<Socket>();
    let server: Server | null = null;
    const listen = () =>
      new Promise<void>((resolve) => {
        server = createServer((client) => {
          const up = connect(upstream);
          sockets.add(client).add(up);
          client.pipe(up).pipe(client);
          const end = () => {
            client.destroy();
            up.destroy();
            sockets.delete(client);
            sockets.delete(up);
          };
          client.on('error', end).on('close', end);
          up.on('error', end).on('close', end);
        });
        server.listen(path, () => resolve());
      });
    await listen();
    const cut = () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server?.close(() => resolve());
      });
    cleanups.push(cut);
    return { host: `unix://${path}`, cut, restore: listen };
  }

  it('journals the outage and the return, and acts on an exit that happened while the engine was away (issue items 26 and 32)', async () => {
    const dir = tempDir();
    const engine = await cuttableEngine();
    const name = `${P}away`;
    await makeContainer(docker(), { name, cmd: 'sleep 3; exit 7' });
    const a = await startAgent(dir, `rules:\n  - {name: away, match: {name: "${name}"}, when: {exit: nonzero}, then: restart, budget: 1/10m}\n`, { host: engine.host });
    await engine.cut();
    const lost = await eventually(() => a.entries().find((e) => e.kind === 'agent' && e.reason.startsWith('lost the engine')), 10_000, 'outage journaled');
    expect(lost.reason).toContain('rules are not enforced until it is back');
    await eventually(async () => (await docker().getContainer(name).inspect()).State.Running === false, 15_000, 'exit while the engine is away');
    await new Promise((r) => setTimeout(r, 1000));
    await engine.restore();
    const back = await eventually(() => a.entries().find((e) => e.kind === 'agent' && e.reason.startsWith('the engine is back after')), 15_000, 'return journaled');
    expect(back.seq).toBeGreaterThan(lost.seq);
    const act = await eventually(() => a.entries(name).find((e) => e.kind === 'act'), 15_000, 'the exit is acted on');
    expect(act.reason).toMatch(new RegExp(`^restarted ${name}: exited with code 7; 1st restart`));
    // Once: not again when the engine's events replay the same die.
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.entries(name).filter((e) => e.kind === 'act' || e.kind === 'give-up')).toHaveLength(1);
    expect(a.entries().filter((e) => e.kind === 'agent' && e.reason.startsWith('lost the engine'))).toHaveLength(1);
    await a.stop();
  });
});
