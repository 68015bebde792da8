/**
 * The agent API's authentication, roles, pinning and input checks against a
 * real agent (in-process, 127.0.0.1) on the private engine. The per-route
 * checks are generated from the route table: a new endpoint is tested the
 * day it is added.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { allows, pathFor, ROLES, ROUTES, type RouteDef } from '../../core/api/routes.js';
import { ApiServer, isLoopback } from '../../core/api/server.js';
import { makeSelfSigned, fingerprintOfPem } from '../../core/api/tls.js';
import { createToken, revokeToken } from '../../core/api/tokens.js';
import { BadInputError, ForbiddenError, PeerUnreachableError, UnauthorisedError } from '../../core/model/errors.js';
import { RemoteNode } from '../../core/remote/remote-node.js';
import { runCli, type CliIO } from '../../tui/cli/program.js';
import { parseListen } from '../../tui/cli/api-commands.js';
import { docker, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { raw, startTestAgent, type TestAgent } from './harness.js';

const P = 'api-auth-';
let agent: TestAgent;
// Open routes (POST /v1/enrol: the secret is the credential) are tested in enrol.test.ts.
const entries = (Object.entries(ROUTES) as [string, RouteDef][]).filter(([, d]) => d.open !== true);
const sample = (def: RouteDef) => pathFor(def, { ref: `${P}nosuch`, name: 'nosuch' });
const tokenOf = (role: string) => agent.tokens[role as 'viewer' | 'operator' | 'admin' | 'peer'];

beforeAll(async () => {
  agent = await startTestAgent();
});

afterAll(async () => {
  await agent.close();
  await removeByPrefix(docker(), P);
});

describe('every route of the route table', () => {
  it.each(entries)('%s: no token → 401, a wrong token → 401, a lower role → 403', async (_name, def) => {
    const path = sample(def);
    const none = await raw(agent, def.method, path);
    expect(none.status).toBe(401);
    expect((none.json as { error: { code: string } }).error.code).toBe(UnauthorisedError.code);
    const wrong = await raw(agent, def.method, path, { token: `op_${'A'.repeat(43)}` });
    expect(wrong.status).toBe(401);
    const garbage = await raw(agent, def.method, path, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(garbage.status).toBe(401);
    for (const role of ROLES.filter((r) => !allows(r, def))) {
      const low = await raw(agent, def.method, path, { token: tokenOf(role) });
      expect(low.status, `${role} on ${def.method} ${def.path}`).toBe(403);
      expect((low.json as { error: { code: string } }).error.code).toBe(ForbiddenError.code);
    }
  });

  it('an unknown endpoint says 401 without a token (nothing leaks before auth), 404 with one', async () => {
    expect((await raw(agent, 'GET', '/v1/secret-admin-thing')).status).toBe(401);
    expect((await raw(agent, 'GET', '/etc/passwd')).status).toBe(401);
    const r = await raw(agent, 'GET', '/v1/nope', { token: agent.tokens.viewer });
    expect(r.status).toBe(404);
    expect(r.text).toMatch(/No such endpoint/);
    const m = await raw(agent, 'PUT', '/v1/containers', { token: agent.tokens.viewer });
    expect(m.status).toBe(405);
  });
});

describe('roles', () => {
  it('a viewer cannot restart or exec, and sees no env values and no raw inspect', async () => {
    await makeContainer(docker(), { name: `${P}secret`, cmd: 'sleep 3600', env: ['PASSWORD=hunter2'] });
    const viewer = new RemoteNode({ name: 'peer', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.viewer });
    try {
      await expect(viewer.restart(`${P}secret`)).rejects.toBeInstanceOf(ForbiddenError);
      await expect(viewer.exec(`${P}secret`, { cmd: ['sh'] })).rejects.toBeInstanceOf(ForbiddenError);
      const d = await viewer.inspect(`${P}secret`);
      expect(JSON.stringify(d)).not.toContain('hunter2');
      expect(d.env).toContain('PASSWORD');
      expect(d.raw).toBeNull();
      expect((await viewer.list()).some((c) => c.name === `${P}secret`)).toBe(true);
    } finally {
      await viewer.close();
    }
    const op = new RemoteNode({ name: 'peer', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.operator });
    try {
      expect((await op.inspect(`${P}secret`)).env).toContain('PASSWORD=hunter2');
      await expect(op.rules.rulesFile()).rejects.toBeInstanceOf(ForbiddenError);
    } finally {
      await op.close();
    }
  });

  it('no 101 for a WebSocket without a valid token or role', async () => {
    const u = new URL(agent.url);
    const status = (token?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`wss://${u.host}/v1/containers/${P}secret/exec?cmd=%5B%22sh%22%5D`, { ca: agent.identity.cert, checkServerIdentity: () => undefined, headers: token ? { authorization: `Bearer ${token}` } : {} } as never);
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          resolve(101);
          ws.terminate();
        });
        ws.on('error', () => resolve(-1));
      });
    expect(await status()).toBe(401);
    expect(await status('op_wrong')).toBe(401);
    expect(await status(agent.tokens.viewer)).toBe(403);
  });

  it('writes every mutating call to the audit log (0600), refused ones too', async () => {
    const op = new RemoteNode({ name: 'peer', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.operator });
    try {
      await op.restart(`${P}secret`, { timeoutSeconds: 1 });
    } finally {
      await op.close();
    }
    await raw(agent, 'POST', `/v1/containers/${P}secret/stop`, { token: agent.tokens.viewer });
    const path = agent.server.auditPath;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ token: 'op', action: 'restart', target: `${P}secret`, outcome: 'ok' }));
    expect(lines).toContainEqual(expect.objectContaining({ token: 'view', action: 'stop', outcome: 'forbidden' }));
    for (const l of lines) expect(typeof l.time).toBe('string');
  });
});

describe('tokens', () => {
  it("a revoked token's open log stream ends, and it is refused at once", async () => {
    await makeContainer(docker(), { name: `${P}chatty`, cmd: 'while :; do echo tick; sleep 0.1; done' });
    const token = createToken(agent.stateDir, 'short-lived', 'operator');
    const node = new RemoteNode({ name: 'peer', url: agent.url, fingerprint: agent.identity.fingerprint, token });
    try {
      const stream = await node.logs(`${P}chatty`, { follow: true, tail: 0 });
      let n = 0;
      let ended = false;
      const reading = (async () => {
        try {
          for await (const _l of stream) n++;
        } catch {
          // ended by the agent: either way it ends
        }
        ended = true;
      })();
      await eventually(() => n >= 3, 10_000, 'a few lines');
      revokeToken(agent.stateDir, 'short-lived'); // as `outpost tokens revoke` does: the file only
      await eventually(() => ended, 5_000, 'the stream to end');
      await reading;
      await expect(node.list()).rejects.toBeInstanceOf(UnauthorisedError);
    } finally {
      await node.close();
    }
  });

  it('stores only hashes, in a 0600 file', () => {
    const text = readFileSync(join(agent.stateDir, 'tokens.json'), 'utf8');
    expect(text).not.toContain(agent.tokens.admin);
    expect(statSync(join(agent.stateDir, 'tokens.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(agent.stateDir, 'agent-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('rate-limits wrong tokens per client address (429), never a right token, whether it worked from there before or not', async () => {
    const limited = await ApiServer.start({ node: agent.node, stateDir: agent.stateDir, host: '127.0.0.1', port: 0, identity: agent.identity, authFailures: { max: 3, windowMs: 60_000 } });
    const target = { url: limited.url, identity: agent.identity };
    try {
      expect((await raw(target, 'GET', '/v1/info', { token: agent.tokens.operator })).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await raw(target, 'GET', '/v1/info', { token: 'op_bad' })).status).toBe(401);
      const blocked = await raw(target, 'GET', '/v1/info', { token: 'op_bad' });
      expect(blocked.status).toBe(429);
      expect(blocked.headers['retry-after']).toBeDefined();
      expect((await raw(target, 'GET', '/v1/info')).status).toBe(429);
      // A right token is never shut out, whether it was used from this address before or not.
      expect((await raw(target, 'GET', '/v1/info', { token: agent.tokens.operator })).status).toBe(200);
      expect((await raw(target, 'GET', '/v1/info', { token: agent.tokens.admin })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('outpost tokens create/list/revoke, with a bad role and a duplicate name', async () => {
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), isTTY: false, env: { XDG_STATE_HOME: join(agent.dir, 'cli-state'), HOME: '/nonexistent' } };
      return { code: await runCli(args, io), out, err };
    };
    const made = await run(['tokens', 'create', 'ci', '--role', 'viewer']);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^op_[A-Za-z0-9_-]{43}\n$/);
    const bad = await run(['tokens', 'create', 'x', '--role', 'root']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/viewer, operator, admin/);
    const dup = await run(['tokens', 'create', 'ci', '--role', 'admin']);
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/exists already/);
    const badName = await run(['tokens', 'create', '../x', '--role', 'admin']);
    expect(badName.code).toBe(2);
    const list = await run(['tokens', 'list', '--json']);
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ name: 'ci', role: 'viewer' })]);
    expect(list.out).not.toContain('op_');
    // Revoking the last admin token warns how to get one back; revoking another does not.
    expect((await run(['tokens', 'create', 'boss', '--role', 'admin'])).code).toBe(0);
    const first = await run(['tokens', 'revoke', 'ci']);
    expect(first.code).toBe(0);
    expect(first.err).toBe('revoked ci\n');
    expect((await run(['tokens', 'revoke', 'ci'])).code).toBe(2);
    const last = await run(['tokens', 'revoke', 'boss']);
    expect(last.code).toBe(0);
    expect(last.err).toMatch(/^revoked boss\nwarning: no admin token is left; make one on this machine with `outpost tokens create NAME --role admin`/);
  });
});

describe('pinning', () => {
  it('refuses an impostor with another certificate on the same address, also on a new connection after a good one', async () => {
    const good = await startTestAgent();
    const port = good.server.port;
    const node = new RemoteNode({ name: 'peer', url: good.url, fingerprint: good.identity.fingerprint, token: good.tokens.admin });
    let impostor: ApiServer | null = null;
    try {
      expect((await node.info()).apiVersion).toMatch(/^1\./);
      await good.server.close();
      const other = await makeSelfSigned('impostor');
      const otherFp = fingerprintOfPem(other.cert);
      // The impostor accepts the very same token: only the pin can stop it.
      impostor = await ApiServer.start({ node: good.node, stateDir: good.stateDir, host: '127.0.0.1', port, identity: { ...other, fingerprint: otherFp, created: true } });
      const err = await node.info().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerUnreachableError);
      expect((err as Error).message).toContain(good.identity.fingerprint);
      expect((err as Error).message).toContain(otherFp);
      const fresh = new RemoteNode({ name: 'peer', url: good.url, fingerprint: good.identity.fingerprint, token: good.tokens.admin });
      await expect(fresh.connect()).rejects.toBeInstanceOf(PeerUnreachableError);
      expect(fresh.status().state).toBe('offline');
      await fresh.close();
    } finally {
      await node.close();
      await impostor?.close();
      await good.node.close();
    }
  });
});

describe('hostile requests', () => {
  const cases: [string, string, string, { body?: string; headers?: Record<string, string> }, number][] = [
    ['malformed JSON', 'POST', `/v1/containers/${P}secret/stop`, { body: '{"timeoutSeconds":' }, 400],
    ['a wrong type', 'POST', `/v1/containers/${P}secret/stop`, { body: '{"timeoutSeconds":"soon"}' }, 400],
    ['an unknown field', 'POST', `/v1/containers/${P}secret/stop`, { body: '{"timeoutSeconds":1,"evil":true}' }, 400],
    ['an array body', 'POST', '/v1/rules/pause', { body: '[]' }, 400],
    ['a body where none is taken', 'POST', `/v1/containers/${P}secret/pause`, { body: '{}' }, 400],
    ['an oversized body', 'POST', `/v1/containers/${P}secret/kill`, { body: JSON.stringify({ signal: 'x'.repeat(70_000) }) }, 413],
    ['..', 'POST', '/v1/containers/../start', {}, 400],
    ['%2F in a name', 'POST', '/v1/containers/a%2F..%2Fb/start', {}, 400],
    ['NUL in a name', 'GET', '/v1/containers/a%00b', {}, 400],
    ['a bad escape', 'GET', '/v1/containers/%zz', {}, 400],
    ['an unknown query key', 'GET', '/v1/containers?evil=1', {}, 400],
    ['a repeated query key', 'GET', '/v1/containers?all=true&all=false', {}, 400],
    ['a bad boolean', 'GET', '/v1/containers?all=yes', {}, 400],
    ['a bad tail', 'GET', `/v1/containers/${P}secret/logs?tail=lots`, {}, 400],
    ['exec without an upgrade', 'GET', `/v1/containers/${P}secret/exec?cmd=%5B%5D`, {}, 400],
    ['a path without a slash', 'GET', '*', {}, 400],
  ];
  it.each(cases)('%s → 4xx with a message naming the problem', async (_what, method, path, o, status) => {
    const r = await raw(agent, method, path, { token: agent.tokens.admin, ...o });
    expect(r.status).toBe(status);
    const e = (r.json as { error: { code: string; message: string } }).error;
    expect(e.code).toBe(BadInputError.code);
    expect(e.message.length).toBeGreaterThan(5);
    expect((await raw(agent, 'GET', '/v1/info', { token: agent.tokens.viewer })).status).toBe(200);
  });

  it('plain HTTP only on loopback, and --listen parses', async () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.9.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.0.0.1')).toBe(false);
    await expect(ApiServer.start({ node: agent.node, stateDir: agent.stateDir, host: '0.0.0.0', port: 0, insecureHttp: true })).rejects.toBeInstanceOf(BadInputError);
    expect(parseListen('0.0.0.0:8443')).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(parseListen('[::1]:1')).toEqual({ host: '::1', port: 1 });
    expect(() => parseListen('8443')).toThrow(BadInputError);
    expect(() => parseListen('host:99999')).toThrow(BadInputError);
  });
});
