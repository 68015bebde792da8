/**
 * The rule agent against the private engine: real containers crash, turn
 * unhealthy, burn CPU, hog memory and log; the agent reacts through the
 * real LocalNode. Only the durations are short.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal, type JournalEntry } from '../../core/agent/journal.js';
import { requestReset } from '../../core/agent/store.js';
import { agentTests, type RunningAgent } from '../harness/agent.js';
import { docker, dockerHost, eventually, makeContainer } from '../harness/fixtures.js';
import { BIN, outpost } from '../harness/cli.js';
import { NODE_MEMORY_FLAGS } from '../../tui/cli/node-flags.js';
import { execFileSync } from 'node:child_process';

const P = 'ra-';
const { cleanups, startAgentIn } = agentTests(P);

interface Running extends RunningAgent {
  dir: string;
}

async function startAgent(rulesYaml: string, dir = mkdtempSync(join(tmpdir(), 'outpost-agent-')), extra: { fetch?: typeof fetch } = {}): Promise<Running> {
  const running = await startAgentIn(dir, { rulesYaml, keepRules: true, ...extra });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { ...running, dir };
}

const kinds = (es: JournalEntry[]) => es.filter((e) => e.kind !== 'outcome').map((e) => e.kind);

describe('rule agent against the private engine', () => {
  it('follows the back-off schedule on a crash loop, gives up at the budget, notifies (webhook too), and stays given up after an agent restart', async () => {
    const posts: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posts.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const rules = `
webhook: http://127.0.0.1:${port}/hook
rules:
  - name: crash
    match: {name: "${P}crash"}
    when: {exit: nonzero}
    then: restart
    backoff: {min: 2s, max: 8s, reset-after: 10m}
    budget: 3/1m
`;
    const a = await startAgent(rules);
    const name = `${P}crash`;
    await makeContainer(docker(), { name, cmd: 'sleep 1; exit 1' });
    const gaveUp = await eventually(() => a.entries(name).find((e) => e.kind === 'give-up'), 30_000, 'give-up');
    const acts = a.entries(name).filter((e) => e.kind === 'act');
    expect(acts).toHaveLength(3);
    const gaps = acts.slice(1).map((e, i) => e.ts - (acts[i] as JournalEntry).ts);
    // Back-off from each restart: 2 s, then 4 s (the container dies after 1 s, so the waits are the back-off's).
    expect(gaps[0]).toBeGreaterThanOrEqual(2000);
    expect(gaps[0]).toBeLessThan(2600);
    expect(gaps[1]).toBeGreaterThanOrEqual(4000);
    expect(gaps[1]).toBeLessThan(4600);
    expect(acts[1]?.reason).toBe(`restarted ${name}: exited with code 1; 2nd restart in 1m (budget 3); next allowed after 4s`);
    expect(gaveUp.reason).toBe(`gave up on ${name}: exited with code 1; 3 restarts within 1m already (budget 3/1m)`);
    // Every restart worked, and was asked for within milliseconds of the engine's event.
    const outcomes = a.entries(name).filter((e) => e.kind === 'outcome');
    expect(outcomes.every((e) => e.ok === true)).toBe(true);
    expect(outcomes[0]?.latencyMs).toBeLessThan(1000);
    const note = a.entries(name).find((e) => e.kind === 'notify');
    expect(note?.reason).toBe(gaveUp.reason);
    await eventually(() => posts.length > 0, 5000, 'webhook POST');
    expect(JSON.parse(posts[0] as string)).toMatchObject({ container: name, rule: 'crash', kind: 'give-up', message: gaveUp.reason });
    const c = await docker().getContainer(name).inspect();
    expect(c.State.Running).toBe(false);

    // A new agent on the same state: the crash loop is still given up.
    await a.stop();
    const b = await startAgent(rules, a.dir);
    const before = b.entries(name).length;
    await docker().getContainer(name).start();
    const skip = await eventually(() => b.entries(name).slice(before).find((e) => e.kind === 'skip'), 10_000, 'skip after restart');
    expect(skip.reason).toContain('gave up at');
    // The exit was decided (a skip, not an action): once nothing is in flight, nothing else can follow from it.
    await b.agent.settle();
    expect(kinds(b.entries(name).slice(before))).toEqual(['skip']);
    expect((await docker().getContainer(name).inspect()).State.Running).toBe(false);

    // The operator re-arms it: the next crash is restarted again, as a 1st restart.
    requestReset(b.stateDir, { container: name, at: Date.now() });
    const reset = await eventually(() => b.entries(name).slice(before).find((e) => e.kind === 'reset'), 5000, 'reset applied');
    expect(reset.reason).toBe(`reset the back-off, budget and give-up of ${name} for rule crash on request`);
    await docker().getContainer(name).start();
    const again = await eventually(() => b.entries(name).slice(before).find((e) => e.kind === 'act'), 10_000, 'act after reset');
    expect(again.reason).toMatch(new RegExp(`^restarted ${name}: exited with code 1; 1st restart in 1m`));
    await b.stop();
    // A restarted agent replays the reset too: the 1st restart's back-off, not a give-up.
    const c2 = await startAgent(rules, a.dir);
    expect(c2.agent.engine.explain(Date.now(), name)[0]?.state).not.toBe('given-up');
    await c2.stop();
  });

  it('restarts an unhealthy container after it stayed unhealthy for the configured time', async () => {
    const name = `${P}sick`;
    const a = await startAgent(`rules:\n  - {name: sick, match: {name: "${name}"}, when: {unhealthy: 2s}, then: restart}\n`);
    await makeContainer(docker(), { name, cmd: "trap 'exit 0' TERM; while :; do sleep 0.2; done", health: { cmd: 'test -f /tmp/ok', intervalMs: 500, retries: 1 } });
    const startedBefore = (await docker().getContainer(name).inspect()).State.StartedAt;
    const act = await eventually(() => a.entries(name).find((e) => e.kind === 'act'), 20_000, 'restart of the unhealthy container');
    expect(act.reason).toMatch(new RegExp(`^restarted ${name}: unhealthy for [23]s; 1st restart in 10m; next allowed after 10s$`));
    await eventually(() => a.entries(name).find((e) => e.kind === 'outcome'), 15_000, 'outcome');
    const after = await docker().getContainer(name).inspect();
    expect(after.State.StartedAt).not.toBe(startedBefore);
    expect(after.State.Running).toBe(true);
    await a.stop();
  });

  it('a CPU burner trips the CPU rule, a memory hog the memory rule, a log line the log rule (exec in the container)', async () => {
    const hot = `${P}hot`;
    const fat = `${P}fat`;
    const chatty = `${P}chatty`;
    const a = await startAgent(`
interval: 500ms
rules:
  - {name: hot, match: {name: "${hot}"}, when: {cpu: {above: 50, samples: 2}}, then: stop}
  - {name: fat, match: {name: "${fat}"}, when: {memory: {above: 30MiB}}, then: {kill: SIGKILL}}
  - {name: fatal, match: {name: "${chatty}"}, when: {log: {match: "^FATAL", stream: stderr}}, then: {exec: "touch /tmp/healed"}}
`);
    await makeContainer(docker(), { name: hot, cmd: "trap 'exit 0' TERM; while :; do :; done" });
    await makeContainer(docker(), { name: fat, cmd: 'head -c 41943040 /dev/zero > /dev/shm/fill; sleep 3600' });
    await makeContainer(docker(), { name: chatty, cmd: 'echo FATAL on stdout; sleep 2; echo "FATAL: disk gone" >&2; sleep 3600' });
    const hotAct = await eventually(() => a.entries(hot).find((e) => e.kind === 'act'), 20_000, 'CPU rule');
    expect(hotAct.reason).toMatch(new RegExp(`^stopped ${hot}: CPU \\d+% above 50% for 2 samples`));
    const fatAct = await eventually(() => a.entries(fat).find((e) => e.kind === 'act'), 20_000, 'memory rule');
    expect(fatAct.reason).toMatch(new RegExp(`^killed ${fat} with SIGKILL: memory \\d+ MiB \\(\\d+% of its limit\\) above 30 MiB`));
    const logAct = await eventually(() => a.entries(chatty).find((e) => e.kind === 'act'), 20_000, 'log rule');
    expect(logAct.reason).toBe(`ran \`sh -c touch /tmp/healed\` in ${chatty}: logged "FATAL: disk gone"; 1st exec in 10m; next allowed after 10s`);
    await eventually(() => a.entries(chatty).find((e) => e.kind === 'outcome'), 10_000, 'exec outcome');
    await eventually(async () => (await docker().getContainer(hot).inspect()).State.Running === false, 15_000, 'burner stopped');
    await eventually(async () => (await docker().getContainer(fat).inspect()).State.Running === false, 15_000, 'hog killed');
    // The exec ran inside the container.
    const exec = await docker().getContainer(chatty).exec({ Cmd: ['test', '-f', '/tmp/healed'] });
    await exec.start({ Detach: true });
    const code = await eventually(async () => {
      const i = await exec.inspect();
      return i.Running ? undefined : i.ExitCode ?? undefined;
    });
    expect(code).toBe(0);
    // The stdout FATAL did not count: only one action on chatty.
    expect(a.entries(chatty).filter((e) => e.kind === 'act')).toHaveLength(1);
    await a.stop();
  });

  it('a container fenced by placement failover is left alone: the rule that would act journals a skip', async () => {
    const fenced = `${P}fenced`;
    const free = `${P}unfenced`;
    const cmd = 'sleep 2; echo "FATAL: lost the line" >&2; sleep 3600';
    const a = await startAgent(`
rules:
  - {name: fatal, match: {name: "${P}*fenced"}, when: {log: {match: "^FATAL", stream: stderr}}, then: restart}
`);
    const f = await makeContainer(docker(), { name: fenced, cmd });
    // The controller's persisted state fences it (as a node cut off from its fleet writes it).
    writeFileSync(join(a.stateDir, 'placement-state.json'), JSON.stringify({ failover: { fenced: { [f.id]: { workload: 'web', at: 1 } } } }));
    const startedAt = (await f.inspect()).State.StartedAt;
    await makeContainer(docker(), { name: free, cmd });
    const skip = await eventually(() => a.entries(fenced).find((e) => e.kind === 'skip'), 20_000, 'skip of the fenced container');
    expect(skip.reason).toMatch(new RegExp(`^restart of ${fenced} skipped: it is fenced by placement failover`));
    // The same rule acts on the container that is not fenced, so the skip is the fence's doing.
    await eventually(() => a.entries(free).find((e) => e.kind === 'act'), 20_000, 'act on the unfenced one');
    expect(a.entries(fenced).filter((e) => e.kind === 'act')).toHaveLength(0);
    expect((await f.inspect()).State.StartedAt).toBe(startedAt);
    await a.stop();
  });

  it('two rules on one container follow the precedence; Docker restart policies are left alone; label rules act', async () => {
    const both = `${P}both`;
    const policy = `${P}policy`;
    const labelled = `${P}labelled`;
    const a = await startAgent(`
rules:
  - {name: restart-all, match: {name: "${P}*"}, when: {exit: nonzero}, then: restart}
  - {name: tell-me, match: {name: "${both}"}, when: {exit: nonzero}, then: notify, priority: 5}
`);
    await makeContainer(docker(), { name: both, cmd: 'sleep 0.5; exit 4' });
    await makeContainer(docker(), { name: policy, cmd: 'sleep 0.5; exit 4', restart: 'on-failure' });
    await makeContainer(docker(), {
      name: labelled,
      cmd: 'sleep 0.5; exit 5',
      labels: { 'outpost.restart-on': 'exit-nonzero', 'outpost.restart-budget': '1/1m', 'outpost.backoff': '1s-2s' },
    });
    const bothAct = await eventually(() => a.entries(both).find((e) => e.kind === 'act'), 10_000, 'precedence');
    expect(bothAct.rule).toBe('tell-me');
    expect(bothAct.action).toEqual({ kind: 'notify' });
    const skip = await eventually(() => a.entries(policy).find((e) => e.kind === 'skip'), 10_000, 'policy skip');
    expect(skip.reason).toBe(`left to Docker: its restart policy \`on-failure\` restarts ${policy} after this exit`);
    const labelAct = await eventually(() => a.entries(labelled).find((e) => e.kind === 'act'), 10_000, 'label rule');
    expect(labelAct.rule).toBe(`label:${labelled}`);
    // The label's budget (1 per minute) stops the second crash.
    await eventually(() => a.entries(labelled).find((e) => e.kind === 'give-up'), 10_000, 'label budget');
    await a.agent.settle();
    expect(a.entries(both).filter((e) => e.kind === 'act').map((e) => e.rule)).toEqual(['tell-me']);
    expect((await docker().getContainer(both).inspect()).State.Running).toBe(false);
    await a.stop();
  });

  it('a broken rules file never crashes the agent: the rules in force stay, and the journal says why', async () => {
    const name = `${P}keep`;
    const a = await startAgent(`rules:\n  - {name: keep, match: {name: "${name}"}, when: {exit: nonzero}, then: restart, backoff: off}\n`);
    for (const bad of ['rules:\n  - {name: keep, when: {exit: nonzero', `rules:\n  - {name: x, when: {cpu: {above: lots}}, then: restart}\n`, 'x'.repeat(2 * 1024 * 1024)]) {
      const before = a.entries().length;
      writeFileSync(a.rulesFile, bad);
      const err = await eventually(() => a.entries().slice(before).find((e) => e.kind === 'error'), 5000, 'reload error');
      expect(err.reason).toContain('keeping the rules in force');
    }
    await makeContainer(docker(), { name, cmd: 'sleep 0.3; exit 1' });
    const act = await eventually(() => a.entries(name).find((e) => e.kind === 'act'), 10_000, 'old rule still acts');
    expect(act.rule).toBe('keep');
    await a.stop();
  });
});

describe('outpost agent, rules and journal commands', () => {
  const run = outpost;

  it('an exit while the agent was down is acted on when `outpost agent` starts again (its node\'s first list has no exit times)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-agent-down-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const stateDir = join(dir, 'state', 'outpost');
    const name = `${P}down-crash`;
    execFileSync('mkdir', ['-p', join(dir, 'config', 'outpost')]);
    // As a node of a fleet runs it: the API beside the rules.
    const spawnAgent = (): ChildProcess => spawn(process.execPath, [BIN, 'agent', '--listen', '127.0.0.1:0'], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: dockerHost(), ...env }, stdio: 'ignore' });
    let agent = spawnAgent();
    cleanups.push(() => void agent.kill('SIGKILL'));
    await eventually(() => readJournal(stateDir).entries.some((e) => e.kind === 'agent'), 15_000, 'the agent started');
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    // While nobody watches, it crashes; a label rule of its own says what to do.
    const c = await makeContainer(docker(), { name, cmd: 'sleep 1; exit 2', labels: { 'outpost.restart-on': 'exit-nonzero', 'outpost.backoff': '2s-30s' } });
    await c.wait();
    agent = spawnAgent();
    const act = await eventually(() => readJournal(stateDir).entries.find((e) => e.kind === 'act' && e.container === name), 20_000, 'the exit acted on');
    expect(act.reason).toMatch(/exited with code 2/);
    expect(act.rule).toMatch(/label/);
    await eventually(async () => (await c.inspect()).State.StartedAt > (await c.inspect()).Created, 10_000, 'started again');
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
  });

  it('survives SIGKILL during heavy journaling; status, explain, pause and journal work on the result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-agent-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const stateDir = join(dir, 'state', 'outpost');
    const spam = `${P}spam`;
    const crash = `${P}cli-crash`;
    execFileSync('mkdir', ['-p', join(dir, 'config', 'outpost')]);
    writeFileSync(
      join(dir, 'config', 'outpost', 'rules.yaml'),
      // One rule acts at most 60 times a minute on a container: five chatty containers journal heavily.
      `rules:
${[1, 2, 3, 4, 5].map((n) => `  - {name: every-line-${n}, match: {name: "${spam}-${n}"}, when: {log: "line"}, then: notify, cooldown: 0s}\n`).join('')}  - {name: crash, match: {name: "${crash}"}, when: {exit: nonzero}, then: restart, budget: 5/10m}
`,
    );
    for (const n of [1, 2, 3, 4, 5]) await makeContainer(docker(), { name: `${spam}-${n}`, cmd: 'i=0; while :; do i=$((i+1)); echo "line $i"; done' });
    const spawnAgent = (): ChildProcess => spawn(process.execPath, [BIN, 'agent'], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: dockerHost(), ...env }, stdio: 'ignore' });
    let agent = spawnAgent();
    cleanups.push(() => void agent.kill('SIGKILL'));
    await eventually(() => readJournal(stateDir).entries.filter((e) => e.kind === 'act').length > 200, 20_000, 'heavy journaling');
    expect((await run(['agent', 'status'], env)).code).toBe(0);
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    const killed = readJournal(stateDir);
    expect(killed.unreadable).toBeLessThanOrEqual(1);
    const status = await run(['agent', 'status', '--json'], env);
    expect(status.code).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, reason: expect.stringContaining('did not stop cleanly') });
    for (const n of [1, 2, 3, 4, 5]) await docker().getContainer(`${spam}-${n}`).remove({ force: true });

    // It starts again on what it left, and keeps working.
    agent = spawnAgent();
    const starts = () => readJournal(stateDir).entries.filter((e) => e.kind === 'agent' && e.reason.includes('restored state from'));
    await eventually(() => starts().length === 2, 10_000, 'restart');
    expect(starts()[1]?.reason).toMatch(/restored state from guards\.json and \d+ journal entries/);
    const restarted = readJournal(stateDir);
    expect(restarted.unreadable).toBe(0);
    expect(restarted.entries.at(-1)?.seq).toBeGreaterThan(killed.entries.at(-1)?.seq ?? 0);
    await eventually(async () => (await run(['agent', 'status'], env)).code === 0, 5000, 'status running');

    // Paused: a crash is left alone, and the journal says why.
    // (A name must exist to be paused: created first, started once paused.)
    const crashed = await makeContainer(docker(), { name: crash, cmd: 'sleep 0.3; exit 1', start: false });
    expect((await run(['rules', 'pause', crash, '--for', '1h'], env)).stdout).toMatch(/rules paused for ra-cli-crash until/);
    // The agent says when it has taken the pause up.
    await eventually(() => readJournal(stateDir).entries.find((e) => e.kind === 'agent' && e.reason.startsWith(`maintenance: rules paused for ${crash} until`)), 10_000, 'the agent to take the pause up');
    await crashed.start();
    await eventually(() => readJournal(stateDir).entries.find((e) => e.container === crash && e.kind === 'skip'), 10_000, 'paused skip');
    const explain = await run(['rules', 'explain', 'crash'], env);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('agent: running');
    expect(explain.stdout).toContain(`crash → ${crash}: silenced: rules are paused for ${crash} until`);
    await run(['rules', 'resume', crash], env);
    await eventually(() => readJournal(stateDir).entries.find((e) => e.kind === 'agent' && e.reason === 'maintenance: no rules paused'), 10_000, 'the agent to take the resume up');
    await docker().getContainer(crash).start();
    await eventually(() => readJournal(stateDir).entries.find((e) => e.container === crash && e.kind === 'act'), 10_000, 'act after resume');
    const explained = JSON.parse((await run(['rules', 'explain', crash, '--json'], env)).stdout);
    expect(explained.statuses[0]).toMatchObject({ rule: 'crash', container: crash, budgetUsed: 1, budgetMax: 5 });

    const journal = await run(['journal', '--json', '-c', crash], env);
    const lines = journal.stdout.trim().split('\n').map((l) => JSON.parse(l) as JournalEntry);
    expect(lines.map((e) => e.kind)).toEqual(expect.arrayContaining(['skip', 'act', 'outcome']));
    const text = await run(['journal', '-n', '3', '-c', crash], env);
    expect(text.stdout.trim().split('\n')).toHaveLength(Math.min(3, lines.length));

    agent.kill('SIGTERM');
    const code = await new Promise((r) => agent.once('exit', r));
    expect(code).toBe(0);
    expect((await run(['agent', 'status'], env)).stdout).toContain('not running: no agent is running (none was started, or it stopped)');
  });

  it('rejects bad input with clear errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-rules-bad-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { XDG_CONFIG_HOME: dir, XDG_STATE_HOME: dir, HOME: dir };
    const file = join(dir, 'r.yaml');
    writeFileSync(file, 'rules:\n  - {name: a, when: {exit: sometimes}, then: restart}\n');
    const check = await run(['rules', 'check', file], env);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(`${file}:2:28: rule 1 "a": when.exit: expected \`nonzero\` or \`any\`, got "sometimes"`);
    const missing = await run(['rules', 'check', join(dir, 'nope.yaml')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    expect((await run(['rules', 'pause', '--for', 'soon'], env)).code).toBe(2);
    expect((await run(['rules', 'pause', '../../etc'], env)).code).toBe(2);
    expect((await run(['journal', '-n', 'many'], env)).code).toBe(2);
    const unknown = await run(['rules', 'explain', 'no-such-thing'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('neither a rule nor a container');
    const unit = await run(['agent', 'install', '--print'], env);
    expect(unit.stdout).toMatch(/^ExecStart=\S+node --max-semi-space-size=1 --heap-growing-percent=50 \S+outpost\.mjs agent$/m);
    expect(unit.stdout).toContain(` ${NODE_MEMORY_FLAGS.join(' ')} `);
    expect(unit.stdout).toContain('Environment=XDG_STATE_HOME=/var/lib');
    // -H names the engine the service manages, as DOCKER_HOST does; a bad one is refused.
    const viaH = await outpost(['-H', 'unix:///srv/engine-b/docker.sock', 'agent', 'install', '--print'], { ...env, DOCKER_HOST: '' });
    expect(viaH.stdout).toMatch(/^Environment=DOCKER_HOST=unix:\/\/\/srv\/engine-b\/docker\.sock$/m);
    expect((await outpost(['-H', 'ftp://x', 'agent', 'install', '--print'], env)).code).toBe(2);
    const into = await run(['agent', 'install', '--user', '--unit-dir', dir], env);
    expect(into.code).toBe(0);
    expect(existsSync(join(dir, 'outpost-agent.service'))).toBe(true);
  });
});
