/**
 * `outpost peers` and the CLI across nodes: the shared private engine as
 * this machine, a second private engine added as an engine-only peer
 * (its unix:// socket).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../tui/cli/program.js';
import type { Run } from '../harness/cli.js';
import { startPrivateEngine, type PrivateEngine } from '../harness/engine.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { importTestImage } from '../harness/image.js';
import { startSshServer } from '../harness/ssh-server.js';
import { hostKeyFingerprint } from '../../core/docker/known-hosts.js';

const P = 'clipeer-';
const FP = 'cd'.repeat(32);
let cfg: string;
let peer: PrivateEngine;
let env: Record<string, string>;

async function inProcess(args: string[], ask?: (q: string) => Promise<string>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { out: (t) => (stdout += t), err: (t) => (stderr += t), isTTY: false, env: { ...env }, ...(ask ? { ask } : {}) };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}
const peersJson = () => join(cfg, 'outpost', 'peers.json');

beforeAll(async () => {
  cfg = mkdtempSync(join(tmpdir(), 'outpost-clipeer-'));
  env = { XDG_CONFIG_HOME: cfg, DOCKER_HOST: dockerHost(), HOME: '/nonexistent' };
  peer = await startPrivateEngine('peer');
  await importTestImage(peer.dockerHost);
  await makeContainer(docker(), { name: `${P}here`, cmd: 'sleep 3600' });
  await makeContainer(docker(peer.dockerHost), { name: `${P}there`, cmd: 'sleep 3600' });
}, 120_000);

afterAll(async () => {
  await removeByPrefix(docker(), P);
  await peer?.dispose();
  rmSync(cfg, { recursive: true, force: true });
});

describe('outpost peers', () => {
  it('adds, lists, renames and removes an engine-only peer', async () => {
    const add = await inProcess(['peers', 'add', `unix://${peer.socket}`, '--name', 'box-2']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(JSON.parse(readFileSync(peersJson(), 'utf8'))).toEqual({ peers: [{ name: 'box-2', kind: 'engine', url: `unix://${peer.socket}` }] });
    const list = await inProcess(['peers', 'list', '--json', '--check']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { name: string; state: string; latencyMs: number }[];
    expect(rows).toMatchObject([{ name: 'box-2', kind: 'engine', state: 'online' }]);
    expect(rows[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect((await inProcess(['peers', 'rename', 'box-2', 'box-3'])).code).toBe(0);
    expect((await inProcess(['peers', 'list'])).stdout).toMatch(/box-3\s+engine\s+unix:\/\//);
    expect((await inProcess(['peers', 'remove', 'box-3'])).code).toBe(0);
    expect((await inProcess(['peers', 'list', '--json'])).stdout.trim()).toBe('[]');
  });

  it('adds an agent peer with a pinned fingerprint; the token goes to peer-tokens.json (0600)', async () => {
    const add = await inProcess(['peers', 'add', 'https://gw-7.site.example:7443', '--token', 'tok-1', '--fingerprint', FP.toUpperCase().match(/../g)!.join(':')]);
    // Nothing answers at that address: added with a warning (it is checked at every connection).
    expect(add.stderr).toMatch(/^warning: the agent at https:\/\/\S+ does not answer now/);
    expect(add.stdout).toMatch(/added gw-7 \(agent/);
    expect(readFileSync(peersJson(), 'utf8')).not.toContain('tok-1');
    const tokens = join(cfg, 'outpost', 'peer-tokens.json');
    expect(JSON.parse(readFileSync(tokens, 'utf8'))).toEqual({ tokens: { 'gw-7': 'tok-1' } });
    expect(statSync(tokens).mode & 0o777).toBe(0o600);
    // Renamed: the token follows; removed: the token goes.
    expect((await inProcess(['peers', 'rename', 'gw-7', 'gw-8'])).code).toBe(0);
    expect(JSON.parse(readFileSync(tokens, 'utf8'))).toEqual({ tokens: { 'gw-8': 'tok-1' } });
    expect((await inProcess(['peers', 'remove', 'gw-8'])).code).toBe(0);
    expect(JSON.parse(readFileSync(tokens, 'utf8'))).toEqual({ tokens: {} });
  });

  it('adds an agent peer from a join code: address, pinned fingerprint and token in one paste', async () => {
    const { encodeJoinCode } = await import('../../core/api/join-code.js');
    const fp = FP.toUpperCase().match(/../g)!.join(':');
    const code = encodeJoinCode({ url: 'https://gw-9.example:7443', fingerprint: fp, token: `op_${'a'.repeat(43)}` });
    const add = await inProcess(['peers', 'add', code]);
    // Nothing answers at that address: added with a warning (it is checked at every connection).
    expect(add.stderr).toMatch(/^warning: the agent at https:\/\/\S+ does not answer now/);
    expect(add.code).toBe(0);
    const listed = JSON.parse((await inProcess(['peers', 'list', '--json'])).stdout) as unknown[];
    // The fingerprint in the form `outpost agent` and openssl print it.
    expect(listed).toContainEqual({ name: 'gw-9', kind: 'agent', url: 'https://gw-9.example:7443', fingerprint: 'CD:'.repeat(31) + 'CD' });
    // A --fingerprint that is not the code's: refused.
    const other = await inProcess(['peers', 'add', code, '--name', 'gw-10', '--fingerprint', 'ef'.repeat(32)]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--fingerprint differs from the join code's/);
    // Its node is a RemoteNode with the pin in the agent's form; nothing answers there, so --node says so.
    const ps = await inProcess(['ps', '--node', 'gw-9']);
    expect(ps.code).not.toBe(0);
    expect((await inProcess(['peers', 'remove', 'gw-9'])).code).toBe(0);
  });

  it('without --fingerprint: refuses when nobody can confirm, asks on a terminal (N keeps nothing)', async () => {
    const r = await inProcess(['peers', 'add', 'https://127.0.0.1:1', '--token', 't', '--name', 'nofp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fingerprint: not a terminal/);
    // On a terminal it connects first: nothing answers on port 1, so it says so and adds nothing.
    const asked = await inProcess(['peers', 'add', 'https://127.0.0.1:1', '--token', 't', '--name', 'nofp'], () => Promise.resolve('y'));
    expect(asked.code).toBe(2);
    expect(asked.stderr).toMatch(/URL: cannot fetch the certificate/);
    expect(existsSync(peersJson()) ? readFileSync(peersJson(), 'utf8') : '').not.toContain('nofp');
  });

  it.each([
    [['peers', 'add', 'ftp://x'], /URL .*https/],
    [['peers', 'add', 'unix://relative.sock'], /URL .*absolute socket path/],
    [['peers', 'add', 'ssh://me@h', '--name', 'Bad_Name'], /--name `Bad_Name` is not a valid name/],
    [['peers', 'add', 'ssh://me@h', '--name', 'local'], /--name `local` is this machine's node/],
    [['peers', 'add', 'ssh://me@h', '--token', 't'], /--token: an engine peer has no token/],
    [['peers', 'add', 'https://h:7443', '--fingerprint', FP], /--token: an agent peer needs its token/],
    [['peers', 'add', 'https://h:7443', '--token', 't', '--fingerprint', 'abc'], /--fingerprint must be a SHA-256/],
    [['peers', 'add', 'not a join code!'], /join code: Not an Outpost join code/],
    [['peers', 'add', 'outpost1:b3Bvc3QtYm9ndXM'], /join code: The join code is damaged/],
    [['peers', 'add', `outpost1:${Buffer.from(JSON.stringify({ url: 'https://h:1', fingerprint: 'x', token: 'y' })).toString('base64url')}`], /join code: /],
    [['peers', 'add', 'ssh://me@h', '--kind', 'pirate'], /--kind must be agent or engine/],
    [['peers', 'remove', 'ghost'], /NAME: no peer named `ghost`/],
    [['peers', 'rename', 'ghost', 'g2'], /OLD: no peer named `ghost`/],
  ])('refuses %j with exit 2, naming the field', async (args, message) => {
    const before = existsSync(peersJson()) ? readFileSync(peersJson(), 'utf8') : null;
    const r = await inProcess(args as string[]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(existsSync(peersJson()) ? readFileSync(peersJson(), 'utf8') : null).toBe(before);
  });

  it('an ssh:// engine peer: an unknown host key is shown and pinned on yes (as ssh does), a changed one refused, no terminal refused', async () => {
    const server = await startSshServer(peer.socket);
    const home = mkdtempSync(join(tmpdir(), 'op-sshpin-'));
    const savedHome = process.env.HOME;
    const savedEnvHome = env.HOME as string;
    // The CLI reads known_hosts from HOME; its engine connection does too.
    process.env.HOME = home;
    env.HOME = home;
    const url = `ssh://tech@127.0.0.1:${server.port}`;
    const kh = join(home, '.ssh', 'known_hosts');
    try {
      // Another key listed for the host: refused loudly, never pinned over.
      server.trust(home, `[127.0.0.1]:${server.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBl1gV2qRZtg8cIrtfxRgyc3vEv7EPIvLrLq1Ch2SoUC`);
      const changed = await inProcess(['peers', 'add', url, '--name', 'sshbox'], () => Promise.resolve('y'));
      expect(changed.code).toBe(2);
      expect(changed.stderr).toMatch(/is not the one known_hosts lists for it/);
      rmSync(kh);
      // Not a terminal: nobody can confirm.
      const blind = await inProcess(['peers', 'add', url, '--name', 'sshbox']);
      expect(blind.code).toBe(2);
      expect(blind.stderr).toMatch(/is not in known_hosts and this is not a terminal/);
      expect(existsSync(kh)).toBe(false);
      // No: nothing kept.
      const no = await inProcess(['peers', 'add', url, '--name', 'sshbox'], () => Promise.resolve('n'));
      expect(no.code).toBe(1);
      expect(no.stdout).toContain(`presents a ssh-ed25519 key with fingerprint\n  ${hostKeyFingerprint(Buffer.from(server.publicKey.split(' ')[1] as string, 'base64'))}`);
      expect(existsSync(kh)).toBe(false);
      expect(JSON.parse(readFileSync(peersJson(), 'utf8')).peers.some((p: { name: string }) => p.name === 'sshbox')).toBe(false);
      // Yes: pinned in known_hosts, added, and the engine answers through it.
      const yes = await inProcess(['peers', 'add', url, '--name', 'sshbox'], () => Promise.resolve('y'));
      expect(yes.stderr).toBe('');
      expect(yes.code).toBe(0);
      expect(readFileSync(kh, 'utf8')).toBe(`[127.0.0.1]:${server.port} ${server.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
      expect(statSync(kh).mode & 0o777).toBe(0o600);
      const ps = await inProcess(['ps', '--node', 'sshbox']);
      expect(ps.stderr).toBe('');
      expect(ps.stdout).toContain(`${P}there`);
      // Known now: added again without a question (no ask given, not a terminal).
      expect((await inProcess(['peers', 'remove', 'sshbox'])).code).toBe(0);
      const again = await inProcess(['peers', 'add', url, '--name', 'sshbox']);
      expect(again.code).toBe(0);
      expect((await inProcess(['peers', 'remove', 'sshbox'])).code).toBe(0);
    } finally {
      process.env.HOME = savedHome;
      env.HOME = savedEnvHome;
      await server.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses a duplicate name', async () => {
    expect((await inProcess(['peers', 'add', 'ssh://me@h', '--name', 'dup'])).code).toBe(0);
    const r = await inProcess(['peers', 'add', 'ssh://me@g', '--name', 'dup']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--name: a peer named `dup` already exists/);
    expect((await inProcess(['peers', 'remove', 'dup'])).code).toBe(0);
  });

  it('a garbage, FIFO or huge peers file: exit 2 naming the file, and the file is left as it was', async () => {
    mkdirSync(join(cfg, 'outpost'), { recursive: true });
    writeFileSync(peersJson(), '{"peers": [ oops');
    for (const args of [['peers', 'list'], ['peers', 'add', 'ssh://me@h', '--name', 'x'], ['ps', '--all-nodes'], ['ps', '--node', 'x']]) {
      const r = await inProcess(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`${peersJson()} is not valid JSON`);
    }
    expect(readFileSync(peersJson(), 'utf8')).toBe('{"peers": [ oops');
    // Without --node, this machine's commands do not read the peers file at all.
    expect((await inProcess(['ps', '-q'])).code).toBe(0);
    rmSync(peersJson());
    execFileSync('mkfifo', [peersJson()]);
    const fifo = await inProcess(['peers', 'list']);
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toMatch(/is not a regular file \(a FIFO\)/);
    rmSync(peersJson());
    writeFileSync(peersJson(), `{"peers":[],"x":"${'y'.repeat(400_000)}"}`);
    const huge = await inProcess(['peers', 'list']);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/at most 256\.0 KiB is read/);
    rmSync(peersJson());
  });
});

describe('the CLI across nodes', () => {
  beforeAll(async () => {
    expect((await inProcess(['peers', 'add', `unix://${peer.socket}`, '--name', 'box-2'])).code).toBe(0);
  });

  it('ps --all-nodes lists both nodes with a NODE column (and `node` in --json)', async () => {
    const table = await inProcess(['ps', '--all-nodes']);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NODE\s+/);
    expect(table.stdout).toMatch(new RegExp(`local\\s+\\S+\\s+${P}here`));
    expect(table.stdout).toMatch(new RegExp(`box-2\\s+\\S+\\s+${P}there`));
    const json = JSON.parse((await inProcess(['ps', '--all-nodes', '--json'])).stdout) as { node: string; name: string }[];
    expect(json.find((c) => c.name === `${P}here`)?.node).toBe('local');
    expect(json.find((c) => c.name === `${P}there`)?.node).toBe('box-2');
  });

  it('--node NAME acts on that node; an unknown name exits 2 naming the known ones', async () => {
    const ps = await inProcess(['ps', '--node', 'box-2']);
    expect(ps.stdout).toContain(`${P}there`);
    expect(ps.stdout).not.toContain(`${P}here`);
    expect((await inProcess(['restart', '--node', 'box-2', `${P}there`])).code).toBe(0);
    expect((await inProcess(['inspect', '--node', 'box-2', `${P}there`])).code).toBe(0);
    const wrongNode = await inProcess(['inspect', '--node', 'local', `${P}there`]);
    expect(wrongNode.code).not.toBe(0);
    const unknown = await inProcess(['ps', '--node', 'nowhere']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no node named `nowhere`\. Known nodes: local, box-2\./);
  });

  it('an unreachable node is reported on stderr; the others still answer, exit 0', async () => {
    const add = await inProcess(['peers', 'add', `unix://${cfg}/none.sock`, '--name', 'gone']);
    expect(add.code).toBe(0);
    const r = await inProcess(['ps', '--all-nodes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${P}here`);
    expect(r.stdout).toContain(`${P}there`);
    expect(r.stderr).toMatch(/^Error: node gone: .*none\.sock/m);
    expect((await inProcess(['peers', 'remove', 'gone'])).code).toBe(0);
  });
});

describe('outpost peers add checks what it pins against the agent', () => {
  it('refuses a wrong fingerprint and a refused token (exit 2, nothing written); takes the right ones', async () => {
    const { startTestAgent } = await import('../api/harness.js');
    const agent = await startTestAgent();
    try {
      const right = agent.identity.fingerprint;
      const wrong = 'AB:'.repeat(31) + 'AB';
      const bad = await inProcess(['peers', 'add', agent.url, '--name', 'pinchk', '--token', agent.tokens.viewer, '--fingerprint', wrong]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--fingerprint: Refused the agent at https:\/\/\S+: its certificate is not the pinned one/);
      const refused = await inProcess(['peers', 'add', agent.url, '--name', 'pinchk', '--token', 'op_not-a-token', '--fingerprint', right]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--token: the agent at \S+ refused it/);
      expect(existsSync(peersJson()) ? readFileSync(peersJson(), 'utf8') : '').not.toContain('pinchk');
      const ok = await inProcess(['peers', 'add', agent.url, '--name', 'pinchk', '--token', agent.tokens.viewer, '--fingerprint', right]);
      expect(ok.code).toBe(0);
      expect(ok.stderr).toBe('');
      const again = await inProcess(['peers', 'add', agent.url, '--name', 'pinchk2', '--token', agent.tokens.viewer, '--fingerprint', right]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/is already the peer `pinchk`/);
      expect((await inProcess(['peers', 'remove', 'pinchk'])).code).toBe(0);
    } finally {
      await agent.close();
    }
  });
});
