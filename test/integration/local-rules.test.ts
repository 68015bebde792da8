/**
 * LocalRules (the rules port on the agent's files) against the private
 * engine and a real agent: explain, pause and resume (with a duration),
 * reset of a known and an unknown container, journal query and follow; and
 * hostile files: a damaged maintenance file, garbage in the journal.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { LocalRules } from '../../core/agent/local-rules.js';
import { Journal, type JournalEntry } from '../../core/agent/journal.js';
import { readMaintenance } from '../../core/agent/store.js';
import { BadInputError } from '../../core/model/errors.js';
import { agentTests } from '../harness/agent.js';
import { BIN } from '../harness/cli.js';
import { docker, dockerHost, eventually, makeContainer } from '../harness/fixtures.js';

const P = 'lrules-';
// The harness builds the CLI and removes the containers; the agent runs as `outpost agent` (its status is told by its process).
const { cleanups } = agentTests(P);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-lrules-'));
  dirs.push(d);
  return d;
}

const RULES = `
rules:
  - name: crash
    match: {name: "${P}*"}
    when: {exit: nonzero}
    then: restart
    backoff: {min: 30s, max: 5m}
    budget: 3/1h
`;

describe('LocalRules on the private engine', () => {
  it('explains, pauses and resumes with a duration, resets known and unknown containers, queries and follows the journal', async () => {
    const dir = tempDir();
    const running = { rulesFile: join(dir, 'rules.yaml'), stateDir: join(dir, 'state') };
    writeFileSync(running.rulesFile, RULES);
    const child = spawn(process.execPath, [BIN, 'agent', '--rules', running.rulesFile, '--state-dir', running.stateDir], {
      env: { PATH: process.env.PATH ?? '', DOCKER_HOST: dockerHost(), HOME: dir },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    const stopAgent = () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM'))));
    const name = `${P}web`;
    await makeContainer(docker(), { name, cmd: 'sleep 3600' });
    const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), rules: (n) => new LocalRules(n, { rulesFile: running.rulesFile, stateDir: running.stateDir }) });
    try {
      await node.connect();
      const rules = node.rules!;
      expect(rules).toBeInstanceOf(LocalRules);
      await eventually(async () => (await rules.agent()).running, 15_000, 'agent running');

      // explain: the rule applies to the container, armed; every rule is named.
      await eventually(() => node.containers().some((c) => c.name === name), 5000, 'container in the model');
      const x = await rules.explain(name);
      expect(x.statuses).toEqual([expect.objectContaining({ rule: 'crash', container: name, state: 'armed' })]);
      expect(x.rules).toEqual(['crash']);
      expect(x.problems).toEqual([]);
      await expect(rules.explain(`${P}nosuch`)).rejects.toThrow(BadInputError);
      expect(await rules.problems()).toEqual([]);

      // pause with a duration, then resume; the engine sees the pause.
      const until = Date.now() + 60_000;
      expect(await rules.pause({ container: name }, { until })).toEqual({ gone: false });
      expect(await rules.paused({ container: name })).toBe(true);
      expect(await rules.paused({})).toBe(false);
      expect((await rules.explain(name)).statuses[0]?.state).toBe('maintenance');
      expect(readMaintenance(running.stateDir).maintenance.containers?.[name]).toEqual({ until });
      await rules.resume({ container: name });
      expect(await rules.paused({ container: name })).toBe(false);
      await expect(rules.pause({ container: `${P}typo` })).rejects.toThrow(/no container is named `lrules-typo`/);
      await expect(rules.pause({}, { until: Date.now() - 1000 })).rejects.toThrow(/over already/);
      await rules.pause({}, { until: Date.now() + 5000 });
      expect(await rules.paused({})).toBe(true);
      await rules.resume({});

      // follow: new entries only; the disposer stops it.
      const followed: JournalEntry[] = [];
      const stop = rules.followJournal((e) => followed.push(e));
      // reset of a known container: the running agent applies it and journals it.
      const reset = await rules.reset(name);
      expect(reset).toMatchObject({ known: true, applied: true, gone: false, state: 'applied' });
      expect(reset.entries?.[0]).toMatchObject({ kind: 'reset', container: name });
      await eventually(() => followed.some((e) => e.kind === 'reset' && e.container === name), 5000, 'the reset followed');
      stop();
      const seen = followed.length;
      // An unknown container and an unknown rule are refused, nothing queued.
      await expect(rules.reset(`${P}nosuch`)).rejects.toThrow(/no container is named/);
      await expect(rules.reset(name, 'NO-SUCH-RULE')).rejects.toThrow(/no rule is named `NO-SUCH-RULE`/);
      await stopAgent();
      await eventually(async () => !(await rules.agent()).running, 8000, 'agent stopped');
      const queued = await rules.reset(name, 'crash');
      expect(queued).toMatchObject({ known: true, applied: false, state: 'queued' });
      // The agent's stop entry came after the disposer: not seen.
      expect(followed.length).toBe(seen);

      // journal query: by container, by rule, after a sequence number, the newest few.
      const all = await rules.journal();
      expect(all.length).toBeGreaterThan(1);
      expect((await rules.journal({ container: name })).every((e) => e.container === name)).toBe(true);
      expect((await rules.journal({ limit: 1 })).map((e) => e.seq)).toEqual([all.at(-1)?.seq]);
      const last = all.at(-1)?.seq ?? 0;
      expect(await rules.journal({ afterSeq: last })).toHaveLength(0);
      await expect(rules.journal({ container: `${P}nosuch` })).rejects.toThrow(/no container is named/);

      const file = await rules.rulesFile();
      expect(file).toMatchObject({ path: running.rulesFile, missing: false, rules: ['crash'], problems: [] });
      expect(file.text).toContain('name: crash');
    } finally {
      await node.close();
    }
  });

  it('hostile files: a damaged maintenance file is not overwritten, garbage in the journal is skipped and counted', async () => {
    const dir = tempDir();
    const stateDir = join(dir, 'state');
    const name = `${P}hostile`;
    await makeContainer(docker(), { name, cmd: 'sleep 3600' });
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), rules: (n) => new LocalRules(n, { rulesFile: join(dir, 'rules.yaml'), stateDir }) });
    try {
      const rules = node.rules!;
      const { journal } = Journal.open(stateDir);
      journal.append({ ts: Date.now(), node: 'local', kind: 'act', container: name, rule: 'crash', reason: `restarted ${name}` });
      journal.close();
      appendFileSync(join(stateDir, 'journal.jsonl'), 'this is not json\n{"seq": 2, "ts": 1e300, "kind": "act"}\n\u0000\u0001garbage\n');
      const page = await rules.journal();
      expect(page.map((e) => e.reason)).toEqual([`restarted ${name}`]);
      expect(page.unreadable).toBe(3);
      expect((await rules.explain(name)).problems).toEqual([expect.stringMatching(/3 unreadable journal line/)]);
      // The rest of the journal is intact: the entry before the garbage still counts for the engine.
      expect((await rules.explain(name)).statuses[0]).toMatchObject({ rule: 'crash', container: name });

      // A maintenance file that is not JSON: the error says so and names the file; nothing in it is lost.
      const damaged = '{"node": {"until": null}, "containers": {"db": {"until": nu';
      writeFileSync(join(stateDir, 'maintenance.json'), damaged);
      await expect(rules.pause({ container: name })).rejects.toThrow(/maintenance\.json is not valid maintenance JSON.*fix or remove/);
      await expect(rules.resume({})).rejects.toThrow(BadInputError);
      expect(readFileSync(join(stateDir, 'maintenance.json'), 'utf8')).toBe(damaged);
      expect(await rules.paused({})).toBe(false);
      expect((await rules.explain(name)).problems.some((p) => /not valid maintenance JSON/.test(p))).toBe(true);
      // Names that are no container name are refused by name, with the field.
      const bad = await rules.paused({ container: '../etc' }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(BadInputError);
      expect((bad as BadInputError).details.field).toBe('container');
    } finally {
      await node.close();
    }
  });
});
