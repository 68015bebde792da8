import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../tui/cli/program.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { BIN, outpost, type Run } from '../harness/cli.js';

const P = 'cli-';
/** Runs the CLI in this process with captured output (for the terminal-only paths). */
async function inProcess(args: string[], isTTY: boolean): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { out: (t) => (stdout += t), err: (t) => (stderr += t), isTTY, env: { DOCKER_HOST: dockerHost() } };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const d = docker();
  await makeContainer(d, { name: `${P}web`, cmd: 'echo to-out; echo to-err >&2; sleep 3600', labels: { 'com.docker.compose.project': 'shop' } });
  const done = await makeContainer(d, { name: `${P}done`, cmd: 'exit 2' });
  await done.wait();
  await makeContainer(d, { name: `${P}evil`, cmd: "printf 'a\\033[2Jb\\033]0;pwned\\007c\\n'; sleep 3600" });
});

afterAll(async () => {
  await removeByPrefix(docker(), P);
});

describe('outpost CLI', () => {
  it('prints help for every command and exits 0', async () => {
    const top = await outpost(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['ps', 'inspect', 'logs', 'start', 'stop', 'restart', 'kill', 'rm', 'stats', 'host']) expect(top.stdout).toContain(c);
    for (const c of ['ps', 'logs', 'stop', 'stats', 'rm']) {
      const r = await outpost([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: outpost/);
    }
  });

  it('ps --json prints the documented fields', async () => {
    const r = await outpost(['ps', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    const web = rows.find((c) => c.name === `${P}web`);
    expect(web).toMatchObject({ state: 'running', composeProject: 'shop', restartCount: 0, health: 'none', node: 'local' });
    expect(Object.keys(web ?? {}).sort()).toEqual(
      ['command', 'composeProject', 'composeService', 'created', 'exitCode', 'finishedAt', 'health', 'id', 'image', 'imageId', 'labels', 'name', 'node', 'oomKilled', 'ports', 'restartCount', 'restartPolicy', 'startedAt', 'state', 'status'].sort(),
    );
    expect(rows.some((c) => c.name === `${P}done`)).toBe(false);
  });

  it('ps -a shows stopped containers with their exit code; -q prints IDs only', async () => {
    const all = await outpost(['ps', '-a']);
    expect(all.stdout).toMatch(new RegExp(`${P}done\\s+\\S+\\s+exited \\(2\\)`));
    const quiet = await outpost(['ps', '-q']);
    expect(quiet.stdout.trim().split('\n').every((l) => /^[0-9a-f]{12}$/.test(l))).toBe(true);
  });

  it('inspect prints the container as JSON', async () => {
    const r = await outpost(['inspect', `${P}web`]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { name: string; cmd: string[]; tty: boolean };
    expect(doc.name).toBe(`${P}web`);
    expect(doc.cmd[0]).toBe('sh');
    expect(doc.tty).toBe(false);
  });

  it('logs sends stdout and stderr to their own streams', async () => {
    const r = await outpost(['logs', `${P}web`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toBe('to-err\n');
    const t = await outpost(['logs', '-t', '--tail', '1', `${P}web`]);
    expect(`${t.stdout}${t.stderr}`).toMatch(/^\d{4}-\d\d-\d\dT\S+ to-(out|err)\n$/);
  });

  it('logs shows escape sequences inert on a terminal and raw into a pipe', async () => {
    const tty = await inProcess(['logs', `${P}evil`], true);
    expect(tty.stdout).toBe('a\\x1b[2Jb\\x1b]0;pwned\\x07c\n');
    expect(tty.stdout.includes('\x1b')).toBe(false);
    const piped = await outpost(['logs', `${P}evil`]);
    expect(piped.stdout).toBe('a\x1b[2Jb\x1b]0;pwned\x07c\n');
  });

  it('stop, start, restart and kill by name and ID prefix', async () => {
    const id = (JSON.parse((await outpost(['inspect', `${P}web`])).stdout) as { id: string }).id;
    expect((await outpost(['stop', '-t', '1', id.slice(0, 10)])).code).toBe(0);
    expect((JSON.parse((await outpost(['inspect', `${P}web`])).stdout) as { state: string }).state).toBe('exited');
    const started = await outpost(['start', `${P}web`]);
    expect(started).toMatchObject({ code: 0, stdout: `${P}web\n` });
    expect((await outpost(['restart', '-t', '1', `${P}web`])).code).toBe(0);
    expect((await outpost(['kill', '-s', 'SIGKILL', `${P}web`])).code).toBe(0);
    const after = JSON.parse((await outpost(['inspect', `${P}web`])).stdout) as { state: string; exitCode: number };
    expect(after).toMatchObject({ state: 'exited', exitCode: 137 });
    expect((await outpost(['start', `${P}web`])).code).toBe(0);
  });

  it('acts on every name it can and exits non-zero for the ones it cannot', async () => {
    const r = await outpost(['restart', '-t', '1', `${P}web`, `${P}nope`]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(`${P}web\n`);
    expect(r.stderr).toContain(`No container named or with an ID starting with \`${P}nope\``);
  });

  it('refuses to remove a running container without -f, removes with it', async () => {
    await makeContainer(docker(), { name: `${P}rm`, cmd: 'sleep 3600' });
    const refused = await outpost(['rm', `${P}rm`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/stop the container before removing|force/i);
    expect((await outpost(['rm', '-f', `${P}rm`])).code).toBe(0);
    expect((await outpost(['inspect', `${P}rm`])).code).toBe(3);
  });

  it('lists the candidates of an ambiguous ID prefix', async () => {
    await Promise.all(Array.from({ length: 17 }, (_, i) => makeContainer(docker(), { name: `${P}amb-${i}`, cmd: 'true', start: false })));
    const ids = (await outpost(['ps', '-a', '-q'])).stdout.trim().split('\n');
    const first = ids.map((i) => i[0]);
    const shared = first.find((c, i) => first.indexOf(c) !== i) as string;
    const r = await outpost(['inspect', shared]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`\`${shared}\` matches \\d+ containers: `));
  });

  it('rejects bad flags and values with exit code 2 and says why', async () => {
    const unknown = await outpost(['ps', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    const tail = await outpost(['logs', '--tail', 'abc', `${P}web`]);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toMatch(/--tail `abc` must be a number of lines or "all"/);
    const time = await outpost(['stop', '-t', '-5', `${P}web`]);
    expect(time.code).toBe(2);
    expect((await outpost(['logs', '--since', 'yesterday', `${P}web`])).stderr).toMatch(/--since `yesterday`/);
    expect((await outpost(['frobnicate'])).code).toBe(2);
    expect((await outpost(['logs'])).stderr).toMatch(/missing required argument 'container'/);
    const junkHost = await outpost(['ps'], { DOCKER_HOST: 'ftp://x' });
    expect(junkHost.code).toBe(2);
    expect(junkHost.stderr).toMatch(/unknown scheme/);
  });

  it('says the engine is not running, with exit code 4', async () => {
    const r = await outpost(['ps'], { DOCKER_HOST: 'unix:///tmp/op-missing.sock' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Cannot reach the Docker engine at unix:///tmp/op-missing.sock');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace for an expected failure
  });

  it('explains the docker group when the socket is not the user\'s to open', async () => {
    const r = await outpost(['ps'], {}, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/Permission denied on unix:\/\/.*docker group/);
  });

  it('stats --once --json and host --json give live figures', async () => {
    const s = await outpost(['stats', '--once', '--json']);
    expect(s.code).toBe(0);
    const stats = JSON.parse(s.stdout) as { name: string; memoryBytes: number; source: string }[];
    const web = stats.find((x) => x.name === `${P}web`);
    expect(web?.memoryBytes).toBeGreaterThan(0);
    expect(web?.source).toMatch(/^cgroup-v[12]$/);
    const h = await outpost(['host', '--json']);
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout)).toMatchObject({ node: 'local', cores: expect.any(Number) });
    const table = await outpost(['stats', '--once']);
    expect(table.stdout.split('\n')[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT/);
  });
});
