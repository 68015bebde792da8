/**
 * An agent of another build: when it refuses a route or answers what this
 * build cannot read, the error names both builds and what that means,
 * instead of a bare "No such endpoint". The agent here is a stand-in HTTPS
 * server (what is outside the client under test): an older agent's answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateIdentity } from '../../core/api/tls.js';
import { peerBuildId } from '../../core/build-info.js';
import { BadInputError, ProtocolError } from '../../core/model/errors.js';
import { ApiClient } from '../../core/remote/client.js';

const dir = mkdtempSync(join(tmpdir(), 'op-build-'));
let server: Server;
let url = '';
let fingerprint = '';
let answer: { status: number; body: string; build: string | null; headers?: Record<string, string> } = { status: 404, body: '', build: null };

beforeAll(async () => {
  const id = await loadOrCreateIdentity(dir);
  fingerprint = id.fingerprint;
  server = createServer({ cert: id.cert, key: id.key }, (_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.build !== null ? { 'x-outpost-build': answer.build } : {}), ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => new ApiClient({ name: 'old', url, fingerprint, token: 't'.repeat(43), timeoutMs: 3000, build: '0.2.0+abc1234' });
const notFound = JSON.stringify({ error: { code: 'BAD_INPUT', message: 'No such endpoint: GET /v1/images (docs/api.md lists them).' } });

describe('an agent of another build', () => {
  it('a refused route names both builds and says to update the older one', async () => {
    answer = { status: 404, body: notFound, build: '0.1.0+6c1cacb' };
    const c = client();
    try {
      const err = await c.call('images').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as Error).message).toContain('No such endpoint');
      expect((err as Error).message).toContain('runs outpost 0.1.0+6c1cacb, this is outpost 0.2.0+abc1234');
      expect((err as Error).message).toContain('update the older one');
    } finally {
      c.destroy();
    }
  });

  it('an answer this build cannot read: a ProtocolError that names both; an agent that says no build is "an older outpost"', async () => {
    answer = { status: 200, body: '{"result": [1, 2', build: null };
    const c = client();
    try {
      const err = await c.call('images').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as Error).message).toContain('an older outpost that does not say its build');
    } finally {
      c.destroy();
    }
  });

  it('the same build, or an error that is no mismatch, is left as it is', async () => {
    answer = { status: 404, body: notFound, build: '0.2.0+abc1234' };
    const c = client();
    try {
      const same = await c.call('images').then(() => null, (e: unknown) => e);
      expect((same as Error).message).not.toContain('runs outpost');
      answer = { status: 400, body: JSON.stringify({ error: { code: 'BAD_INPUT', message: 'a container name is required' } }), build: '0.1.0' };
      const other = await c.call('images').then(() => null, (e: unknown) => e);
      expect((other as Error).message).toBe('a container name is required');
    } finally {
      c.destroy();
    }
  });

  it('a hostile build header is not repeated', async () => {
    for (const h of ['0.1\x1b]0;x\x07', 'a'.repeat(65), '', '0.1.0 rm -rf']) expect(peerBuildId(h)).toBeNull();
    expect(peerBuildId('0.1.0+6c1cacb-dirty')).toBe('0.1.0+6c1cacb-dirty');
  });
});

describe('a hostile agent', () => {
  it('a stream that says it is gzip but is not ends with a ProtocolError, never hangs', async () => {
    answer = { status: 200, body: 'this is not gzip at all\n', build: null, headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'x-outpost-heartbeat-ms': '1500' } };
    const c = client();
    try {
      const s = await c.stream('logs', { params: { ref: 'web' }, query: { follow: true } }, { gzip: true });
      const outcome = await Promise.race([
        (async () => {
          try {
            for await (const _ of s.items) void _;
            return 'ended';
          } catch (err) {
            return err;
          }
        })(),
        new Promise((r) => setTimeout(() => r('hung'), 8000)),
      ]);
      expect(outcome).not.toBe('hung');
      expect(outcome).toBeInstanceOf(Error);
    } finally {
      c.destroy();
    }
  });
});
