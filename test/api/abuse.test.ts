/**
 * The agent's API tried as an attacker would (the trust issue): a valid
 * token is never locked out, a wrong one's body is not read, a body that
 * never ends and sockets that never speak are closed within the deadlines,
 * streams per token are capped with a clear 429, an exec upgrade that is no
 * WebSocket handshake starts nothing, and every refused call is audited.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer, MAX_STREAMS_PER_TOKEN } from '../../core/api/server.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { raw, startTestAgent, type TestAgent } from './harness.js';

const P = 'api-abuse-';
let agent: TestAgent;
let strict: ApiServer;
let target: { url: string; identity: TestAgent['identity'] };

beforeAll(async () => {
  agent = await startTestAgent();
  strict = await ApiServer.start({ node: agent.node, stateDir: agent.stateDir, host: '127.0.0.1', port: 0, identity: agent.identity, authFailures: { max: 3, windowMs: 60_000 }, deadlines: { headersMs: 1000, requestMs: 1500 } });
  target = { url: strict.url, identity: agent.identity };
  await makeContainer(docker(), { name: `${P}box`, cmd: 'sleep 3600' });
});

afterAll(async () => {
  await strict?.close();
  await agent?.close();
  await removeByPrefix(docker(), P);
});

const audit = () => readFileSync(join(agent.stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { token: string | null; action: string; outcome: string; target: string | null });

/** A raw TLS socket to the strict server. */
function socket(): Promise<TLSSocket> {
  const u = new URL(strict.url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the server has ended the socket (read to its end: an unread socket never sees it). */
const closed = (s: TLSSocket) =>
  new Promise<void>((r) => {
    if (s.destroyed) return r();
    s.once('close', () => r());
    s.resume();
  });

describe('the API under abuse', () => {
  it('a valid token is never locked out: after wrong tokens from an address, a token never used there passes; wrong ones get 429, audited once', async () => {
    for (let i = 0; i < 3; i++) expect((await raw(target, 'GET', '/v1/info', { token: 'op_wrong' })).status).toBe(401);
    expect((await raw(target, 'GET', '/v1/info', { token: 'op_wrong' })).status).toBe(429);
    expect((await raw(target, 'GET', '/v1/info', { token: 'op_wrong' })).status).toBe(429);
    expect((await raw(target, 'GET', '/v1/info', { token: agent.tokens.viewer })).status).toBe(200);
    expect((await raw(target, 'GET', '/v1/info', { token: agent.tokens.admin })).status).toBe(200);
    const lines = audit().filter((l) => l.token === null);
    expect(lines.filter((l) => /refused 401/.test(l.outcome)).length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => /locked out/.test(l.outcome))).toHaveLength(1);
  });

  it('a wrong token gets its 401 without its 10 MiB body being read, and the connection is closed', async () => {
    const s = await socket();
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.write(`POST /v1/containers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer op_nope\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    while (sent < 10 * 1024 * 1024 && !s.destroyed && answer === '') {
      const ok = s.write(chunk);
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => s.once('drain', r)), closed(s)]);
    }
    await Promise.race([closed(s), new Promise((r) => setTimeout(r, 5000))]);
    expect(answer).toMatch(/^HTTP\/1\.1 (401|429)/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(sent).toBeLessThan(10 * 1024 * 1024);
    expect(s.destroyed).toBe(true);
  });

  it('a body that never ends, and sockets that never speak, are closed within the deadlines', async () => {
    const slow = await socket();
    slow.write(`POST /v1/rules/resume HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent.tokens.operator}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
    const idle = await Promise.all(Array.from({ length: 500 }, () => socket()));
    const t0 = Date.now();
    await Promise.all([closed(slow), ...idle.map(closed)].map((p) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 8 s')), 8000))])));
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it(`caps open streams per token at ${MAX_STREAMS_PER_TOKEN} with a clear 429, audited`, async () => {
    const open: TLSSocket[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS_PER_TOKEN; i++) {
        const s = await socket();
        open.push(s);
        await new Promise<void>((resolve) => {
          s.once('data', () => resolve());
          s.write(`GET /v1/status/watch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent.tokens.viewer}\r\n\r\n`);
        });
      }
      const over = await raw(target, 'GET', '/v1/status/watch', { token: agent.tokens.viewer });
      expect(over.status).toBe(429);
      expect(over.text).toContain(`holds ${MAX_STREAMS_PER_TOKEN} open streams`);
      expect(audit().some((l) => l.action === 'statusWatch' && /refused 429/.test(l.outcome))).toBe(true);
      // Another token is not held back by this one's streams.
      expect((await raw(target, 'GET', '/v1/info', { token: agent.tokens.operator })).status).toBe(200);
    } finally {
      for (const s of open) s.destroy();
    }
  });

  it('an exec upgrade that is no WebSocket handshake starts nothing and is refused with the JSON envelope, audited with its command', async () => {
    const before = (await docker().getContainer(`${P}box`).inspect()).ExecIDs?.length ?? 0;
    const s = await socket();
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    const q = new URLSearchParams({ cmd: JSON.stringify(['sh', '-c', 'sleep 600']) });
    s.write(`GET /v1/containers/${P}box/exec?${q} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent.tokens.operator}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await Promise.race([closed(s), new Promise((r) => setTimeout(r, 3000))]);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"error"');
    expect(answer).toContain('Sec-WebSocket-Key');
    const after = (await docker().getContainer(`${P}box`).inspect()).ExecIDs?.length ?? 0;
    expect(after).toBe(before);
    const line = audit().find((l) => l.action === 'exec' && /not a WebSocket/.test(l.outcome));
    expect(line?.target).toContain('sleep 600');
  });

  it('a forbidden read and a malformed request are audited too', async () => {
    expect((await raw(target, 'GET', '/v1/tokens', { token: agent.tokens.viewer })).status).toBe(403);
    expect((await raw(target, 'GET', '/v1/containers?all=maybe', { token: agent.tokens.viewer })).status).toBe(400);
    const lines = audit();
    expect(lines.some((l) => l.action === 'tokensList' && l.outcome === 'forbidden')).toBe(true);
    expect(lines.some((l) => l.action === 'list' && /refused 400/.test(l.outcome))).toBe(true);
  });
});
