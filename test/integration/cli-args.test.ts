/** Odd and mistyped arguments: a clear message that names what is wrong, exit 2, before any engine call. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSignal } from '../../core/model/signals.js';
import { BIN, outpost } from '../harness/cli.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'args-';
beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  await makeContainer(docker(), { name: `${P}target`, cmd: 'trap "exit 7" TERM; sleep 3600 & wait' });
});
afterAll(() => removeByPrefix(docker(), P));

describe('signals', () => {
  it('normalizes names and numbers, refuses the rest', () => {
    expect(normalizeSignal('term')).toBe('SIGTERM');
    expect(normalizeSignal('SIGHUP')).toBe('SIGHUP');
    expect(normalizeSignal('9')).toBe('9');
    expect(normalizeSignal('SIGRTMIN+3')).toBe('SIGRTMIN+3');
    for (const bad of ['SIGFOO', '', '0', '65', 'SIGRTMAX+1', 'SIG', '-9', 'KILL;rm', '1e1', 'SIGTERM\u001b[2J']) expect(normalizeSignal(bad), bad).toBeNull();
  });

  it('`kill -s SIGFOO` is a bad argument (exit 2) and sends nothing', async () => {
    const r = await outpost(['kill', '-s', 'SIGFOO', `${P}target`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('`SIGFOO` is not a signal name or number');
    const ps = await outpost(['ps', '--json']);
    expect((JSON.parse(ps.stdout) as { name: string; state: string }[]).find((c) => c.name === `${P}target`)?.state).toBe('running');
  });

  it('`kill -s term` sends SIGTERM', async () => {
    const r = await outpost(['kill', '-s', 'term', `${P}target`]);
    expect(r.code, r.stderr).toBe(0);
    const c = await docker().getContainer(`${P}target`).wait();
    expect(c.StatusCode).toBe(7);
  });
});

describe('commands and help', () => {
  it('`outpost --help` says that outpost alone opens the terminal UI', async () => {
    const r = await outpost(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/With no command, `outpost` opens the terminal UI/);
  });

  it('an unknown command is named, with the closest one suggested', async () => {
    const r = await outpost(['sp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'sp'");
    expect(r.stderr).toContain('Did you mean ps?');
    expect(r.stderr).not.toMatch(/too many arguments/);
    const sub = await outpost(['rules', 'chek']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("unknown command 'chek'");
  });

  it('subcommands still refuse extra arguments', async () => {
    const r = await outpost(['ps', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/too many arguments for 'ps'/);
  });
});

describe('-H ssh://', () => {
  it.each([
    ['ssh://', /--host `ssh:\/\/` has no host name/],
    ['ssh://@', /not a URL|has no host name/],
    ['ssh://host/some/path', /an ssh:\/\/ URL takes no path/],
    ['ssh://host:99999', /not a URL/],
  ])('%s is a bad argument that names the option', async (url, message) => {
    const r = await outpost(['-H', url, 'ps']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('an ssh:// URL without a user takes the login name, as ssh does (no "Invalid username")', async () => {
    const r = await outpost(['-H', 'ssh://127.0.0.1:1', 'ps'], { USER: 'someone', OUTPOST_ENGINE_TIMEOUT: '5' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('ssh://someone@127.0.0.1:1');
    expect(r.stderr).not.toMatch(/Invalid username|DeprecationWarning/);
  });

  it('the built outpost lists an ssh:// engine whose host key known_hosts lists (one SSH connection for the command)', async () => {
    const { startSshServer } = await import('../harness/ssh-server.js');
    const { dockerHost } = await import('../harness/fixtures.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const server = await startSshServer(dockerHost().replace(/^unix:\/\//, ''));
    const home = mkdtempSync(join(tmpdir(), 'op-ssh-cli-'));
    try {
      server.trust(home);
      const r = await outpost(['-H', `ssh://tech@127.0.0.1:${server.port}`, 'ps', '-a'], { HOME: home });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${P}target`);
      expect(server.connections).toBe(1);
    } finally {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
