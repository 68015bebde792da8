/**
 * Join codes carry a single-use enrolment secret, never a token: POST /v1/enrol exchanges it
 * once, within its time, for a new token of the code's role. Used, expired, wrong and malformed
 * secrets are refused (and counted towards the address's lockout), each audited; the peers
 * book redeems a code when a peer is added, and refuses it the second time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolment } from '../../core/api/enrol.js';
import { decodeJoinCode, encodeJoinCode } from '../../core/api/join-code.js';
import { readTokens } from '../../core/api/tokens.js';
import { BadInputError } from '../../core/model/errors.js';
import { cliLabel, planPeer, redeemJoinCode } from '../../core/peers/book.js';
import { raw, startTestAgent, type TestAgent } from './harness.js';

let agent: TestAgent;
const home = mkdtempSync(join(tmpdir(), 'op-enrol-'));

beforeAll(async () => {
  agent = await startTestAgent({ authFailures: { max: 5, windowMs: 60_000 } });
});

afterAll(async () => {
  await agent.close();
  rmSync(home, { recursive: true, force: true });
});

const enrol = (body: unknown) => raw(agent, 'POST', '/v1/enrol', { body: JSON.stringify(body) });

function audit(): { action: string; outcome: string; token: string | null; role: string | null }[] {
  return readFileSync(agent.server.auditPath, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { action: string; outcome: string; token: string | null; role: string | null });
}

describe('enrolment', () => {
  it('a secret is exchanged once for a token of its role; the second use is refused like a wrong one', async () => {
    const { secret } = createEnrolment(agent.stateDir, 'peer');
    const first = await enrol({ secret, name: 'n7' });
    expect(first.status).toBe(200);
    const got = (first.json as { result: { token: string; role: string; name: string } }).result;
    expect(got.role).toBe('peer');
    expect(got.token).toMatch(/^op_[A-Za-z0-9_-]{43}$/);
    expect(readTokens(agent.stateDir).find((t) => t.name === got.name)?.role).toBe('peer');
    // The token works for what a peer may do, and only that.
    expect((await raw(agent, 'GET', '/v1/containers', { token: got.token })).status).toBe(200);
    expect((await raw(agent, 'GET', '/v1/tokens', { token: got.token })).status).toBe(403);
    const again = await enrol({ secret, name: 'n7' });
    expect(again.status).toBe(401);
    expect(again.text).toMatch(/wrong, used already or expired/);
    expect(audit().filter((l) => l.action === 'enrol').map((l) => l.outcome)).toEqual([`ok: made token ${got.name} (peer)`, expect.stringMatching(/^refused 401: /)]);
  });

  it('an expired secret is refused; names that are taken get a suffix; an operator code makes an operator token', async () => {
    const old = createEnrolment(agent.stateDir, 'viewer', 60 * 60_000, Date.now() - 2 * 60 * 60_000);
    expect((await enrol({ secret: old.secret, name: 'late' })).status).toBe(401);
    const op = createEnrolment(agent.stateDir, 'operator');
    const r = await enrol({ secret: op.secret, name: 'n7' });
    expect(r.status).toBe(200);
    expect((r.json as { result: { role: string; name: string } }).result).toMatchObject({ role: 'operator', name: 'n7-2' });
  });

  it('no admin can be enrolled, and a ttl out of bounds is refused, naming the field', () => {
    expect(() => createEnrolment(agent.stateDir, 'admin' as never)).toThrow(/cannot be given by a join code/);
    expect(() => createEnrolment(agent.stateDir, 'peer', 1000)).toThrow(BadInputError);
  });

  it('hostile bodies: 400 naming the field, or 401; enough wrong secrets lock the address out (429)', async () => {
    const missing = await enrol({ name: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.text).toMatch(/secret/);
    const extra = await enrol({ secret: 'oe_x', name: 'x', role: 'admin' });
    expect(extra.status).toBe(400);
    expect(extra.text).toMatch(/role/);
    const notJson = await raw(agent, 'POST', '/v1/enrol', { body: '{"secret":' });
    expect(notJson.status).toBe(400);
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await enrol({ secret: `oe_${'A'.repeat(43)}`, name: 'guess' })).status);
    expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
    expect(codes.at(-1)).toBe(429);
    // A valid token still passes from that address.
    expect((await raw(agent, 'GET', '/v1/info', { token: agent.tokens.viewer })).status).toBe(200);
  });
});

describe('the peers book and a join code', () => {
  it('a join code holds the address, the fingerprint and a secret, never a token; adding redeems it once', async () => {
    // A fresh agent: the lockout of the case above must not count here.
    const b = await startTestAgent();
    try {
      const { secret } = createEnrolment(b.stateDir, 'peer');
      const code = encodeJoinCode({ url: b.url, fingerprint: b.identity.fingerprint, secret });
      const decoded = decodeJoinCode(code);
      expect(decoded.token).toBeUndefined();
      expect(decoded.secret).toBe(secret);
      const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config') };
      const plan = await planPeer(env, { target: code, name: 'gw-b' }, cliLabel);
      expect(plan).toMatchObject({ kind: 'agent', secret });
      expect(plan.token).toBeUndefined();
      await redeemJoinCode(env, plan, cliLabel);
      expect(plan.token).toMatch(/^op_/);
      expect(plan.secret).toBeUndefined();
      const twice = await planPeer(env, { target: code, name: 'gw-c' }, cliLabel);
      await expect(redeemJoinCode(env, twice, cliLabel)).rejects.toThrow(/join code: the agent at .* refused it/);
    } finally {
      await b.close();
    }
  });

  it('a code with both a token and a secret, or neither, is damaged', () => {
    const body = (o: object) => `outpost1:${Buffer.from(JSON.stringify({ url: 'https://10.0.0.1:8443', fingerprint: agent.identity.fingerprint, ...o })).toString('base64url')}`;
    expect(() => decodeJoinCode(body({}))).toThrow(/a token or an enrolment secret/);
    expect(() => decodeJoinCode(body({ token: `op_${'a'.repeat(43)}`, secret: `oe_${'a'.repeat(43)}` }))).toThrow(/a token or an enrolment secret/);
    expect(() => decodeJoinCode(body({ secret: 'oe_short' }))).toThrow(/enrolment secret/);
  });
});
