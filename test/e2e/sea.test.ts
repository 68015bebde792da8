/**
 * The single executables (scripts/release.mjs) as a technician uses them:
 * copied alone into a folder, run with no `node` on PATH and no node_modules
 * anywhere it can see, against the private engine. The arm64 one runs under
 * qemu-user-static. `npm test` builds them before the tests (scripts/test.sh).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, type Run } from '../harness/cli.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Tmux } from '../harness/tmux.js';

const P = 'sea-';
const ROOT = process.cwd();
const BUILT = join(ROOT, 'release');
let box: string;
let bin: string;
let tmux: Tmux | null = null;

/** A PATH with everything of /usr/bin and /bin but node, npm and npx. */
function pathWithoutNode(): string {
  mkdirSync(bin, { recursive: true });
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(name) || existsSync(join(bin, name))) continue;
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  return bin;
}

function run(command: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCommand(command, { PATH: bin, HOME: box, DOCKER_HOST: dockerHost(), ...env }, box);
}
const x64 = (...args: string[]) => run([join(box, 'outpost-linux-x64'), ...args]);

beforeAll(async () => {
  for (const t of ['linux-x64', 'linux-arm64']) {
    if (!existsSync(join(BUILT, `outpost-${t}`))) execFileSync(process.execPath, ['scripts/release.mjs', '--no-archive'], { stdio: 'inherit' });
  }
  box = mkdtempSync(join(tmpdir(), 'op-sea-'));
  bin = join(box, 'bin');
  pathWithoutNode();
  for (const t of ['linux-x64', 'linux-arm64']) copyFileSync(join(BUILT, `outpost-${t}`), join(box, `outpost-${t}`));
  const d = docker();
  await makeContainer(d, { name: `${P}web`, cmd: 'i=0; while :; do i=$((i+1)); echo "line $i"; echo "err $i" >&2; sleep 0.2; done' });
  await makeContainer(d, { name: `${P}db`, cmd: 'trap "exit 0" TERM; sleep 3600 & wait', labels: { 'com.docker.compose.project': 'seashop' } });
});

afterEach(() => {
  tmux?.kill();
  tmux = null;
});

afterAll(async () => {
  rmSync(box, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

describe('the x64 single executable, with no node on PATH', () => {
  it('has no node to lean on', async () => {
    const r = await run(['sh', '-c', 'command -v node || echo none']);
    expect(r.stdout.trim()).toBe('none');
  });

  it('--version names Outpost, the runtime it carries and the platform', async () => {
    const r = await x64('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^outpost \d+\.\d+\.\d+(\+[0-9a-f]{7}(-dirty)?)? \(single executable, Node 26\.\d+\.\d+, linux-x64\)$/);
  });

  it('ps --json, logs with both streams apart, and the lifecycle', async () => {
    const ps = await x64('ps', '--json');
    expect(ps.code, ps.stderr).toBe(0);
    const names = (JSON.parse(ps.stdout) as { name: string }[]).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining([`${P}web`, `${P}db`]));

    const logs = await x64('logs', '-n', '5', `${P}web`);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^line \d+$/m);
    expect(logs.stdout).not.toMatch(/err \d+/);
    expect(logs.stderr).toMatch(/^err \d+$/m);

    expect((await x64('stop', '-t', '1', `${P}db`)).code).toBe(0);
    expect((await docker().getContainer(`${P}db`).inspect()).State.Running).toBe(false);
    expect((await x64('start', `${P}db`)).code).toBe(0);
    expect((await x64('restart', '-t', '1', `${P}db`)).code).toBe(0);
    expect((await docker().getContainer(`${P}db`).inspect()).State.Running).toBe(true);
    const bad = await x64('kill', '-s', 'SIGFOO', `${P}db`);
    expect(bad.code).toBe(2);
  });

  it('needs no file outside itself: the repository, node and every node_modules hidden', async () => {
    // A private mount namespace where the checkout, the machine's node and its global modules are
    // empty: anything the executable would read from them fails the command.
    const hide = [ROOT, '/usr/lib/node_modules', '/usr/local/lib/node_modules'].filter((p) => existsSync(p));
    const script = [
      ...hide.map((p) => `mount -t tmpfs none '${p}'`),
      ...['/usr/bin/node', '/usr/local/bin/node'].filter((p) => existsSync(p)).map((p) => `mount --bind /dev/null '${p}'`),
      `test ! -e '${join(ROOT, 'package.json')}'`,
      `'${join(box, 'outpost-linux-x64')}' ps --json > '${join(box, 'ps.json')}'`,
      `'${join(box, 'outpost-linux-x64')}' host --json > '${join(box, 'host.json')}'`,
      `'${join(box, 'outpost-linux-x64')}' docs cli > '${join(box, 'cli.md')}'`,
      `'${join(box, 'outpost-linux-x64')}' rules check '${join(box, 'no-rules.yaml')}'; echo "rules-exit $?"`,
    ].join(' && ');
    const r = await run(['unshare', '-m', 'sh', '-c', script]);
    expect(r.stderr).toContain('no-rules.yaml');
    expect(r.stdout).toMatch(/rules-exit 2/);
    expect((JSON.parse(readFileSync(join(box, 'ps.json'), 'utf8')) as { name: string }[]).some((c) => c.name === `${P}web`)).toBe(true);
    expect((JSON.parse(readFileSync(join(box, 'host.json'), 'utf8')) as { cores: number }).cores).toBeGreaterThan(0);
    // The reference rides inside: the box has no docs/ folder.
    expect(readFileSync(join(box, 'cli.md'), 'utf8')).toBe(readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8'));
    // The check can fail: the npm build's start file, copied alone, needs dist/app.mjs beside it.
    copyFileSync(join(ROOT, 'dist', 'outpost.mjs'), join(box, 'alone.mjs'));
    const alone = await run(['unshare', '-m', 'sh', '-c', `mount -t tmpfs none '${ROOT}' && /usr/bin/node '${join(box, 'alone.mjs')}' --help`], { PATH: '/usr/bin:/bin' });
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/app\.mjs/);
  });

  it('reaches for an ssh:// engine as the npm build does (Node 26 refused the address the modem built)', async () => {
    const r = await run([join(box, 'outpost-linux-x64'), '-H', 'ssh://nobody@127.0.0.1:1', 'ps'], { OUTPOST_ENGINE_TIMEOUT: '5' });
    expect(r.stderr).toContain('Cannot reach the Docker engine at ssh://nobody@127.0.0.1:1 (ECONNREFUSED)');
    expect(r.code).toBe(4);
  });

  it('`agent install` writes a unit that runs the executable itself, and systemd accepts it', async () => {
    const exe = join(box, 'outpost-linux-x64');
    for (const user of [false, true]) {
      const dir = join(box, user ? 'user-units' : 'units');
      const r = await x64('agent', 'install', ...(user ? ['--user'] : []), '--unit-dir', dir);
      expect(r.code, r.stderr).toBe(0);
      const unit = readFileSync(join(dir, 'outpost-agent.service'), 'utf8');
      expect(unit).toMatch(new RegExp(`^ExecStart=${exe.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} agent$`, 'm'));
      const verify = await run(['systemd-analyze', 'verify', ...(user ? ['--user'] : []), join(dir, 'outpost-agent.service')], { PATH: '/usr/bin:/bin' });
      expect(verify.stderr.split('\n').filter((l) => /outpost-agent\.service/.test(l))).toEqual([]);
    }
  });

  it('paints the TUI, answers keys and quits cleanly in a real terminal', async () => {
    tmux = new Tmux();
    tmux.start(join(box, 'outpost-linux-x64'), { cols: 120, rows: 30, env: { DOCKER_HOST: dockerHost(), HOME: box, TERM: 'xterm-256color', PATH: bin } });
    const first = await tmux.waitFor((s) => s.startsWith('Outpost') && s.includes(`${P}web`) && s.includes(`${P}db`), 'the list');
    expect(first).toMatch(/seashop/);
    tmux.type('?');
    await tmux.waitFor((s) => /Keys — main view/.test(s), 'the help');
    tmux.keys('Escape');
    tmux.type(`/${P}web`);
    tmux.keys('Enter');
    tmux.keys('Enter');
    await tmux.waitFor((s) => s.split('\n')[0]?.startsWith('logs') === true && /line \d+/.test(s), 'the logs view');
    tmux.keys('Escape');
    tmux.type('q');
    await eventually(() => tmux?.dead() === true, 5000, 'the TUI to exit');
    expect(tmux.screen()).not.toMatch(/Error|node:internal/);
  });
});

describe('the arm64 single executable, under qemu-user-static', () => {
  const arm = (...args: string[]) => run(['/usr/bin/qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu', join(box, 'outpost-linux-arm64'), ...args]);

  it('is an arm64 program', () => {
    const head = execFileSync('od', ['-An', '-tx1', '-j18', '-N2', join(box, 'outpost-linux-arm64')], { encoding: 'utf8' }).trim();
    expect(head).toBe('b7 00'); // ELF e_machine 183: AArch64
  });

  it('--version, ps --json and host --json against the private engine', async () => {
    const v = await arm('--version');
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/single executable, Node 26\.\d+\.\d+, linux-arm64\)/);
    const ps = await arm('ps', '--json');
    expect(ps.code, ps.stderr).toBe(0);
    expect((JSON.parse(ps.stdout) as { name: string }[]).some((c) => c.name === `${P}web`)).toBe(true);
    const host = await arm('host', '--json');
    expect(host.code, host.stderr).toBe(0);
    expect((JSON.parse(host.stdout) as { memTotalBytes: number }).memTotalBytes).toBeGreaterThan(0);
  });
});
