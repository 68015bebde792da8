/**
 * A peer that takes the TCP connection and never speaks TLS (a hung box, a
 * port that something else holds): every call still ends within its
 * deadline, with PeerTimeoutError naming the handshake or the request.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../core/remote/client.js';
import { PeerTimeoutError } from '../../core/model/errors.js';

let server: Server;
const held: Socket[] = [];
let port = 0;

beforeAll(async () => {
  server = createServer((s) => held.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  for (const s of held) s.destroy();
  server.close();
});

describe('a silent peer', () => {
  it('a call ends with PeerTimeoutError within its deadline, and a second one too', async () => {
    const client = new ApiClient({ name: 'silent', url: `https://127.0.0.1:${port}`, fingerprint: 'AA:'.repeat(31) + 'AA', token: 't'.repeat(43), timeoutMs: 800 });
    try {
      for (let i = 0; i < 2; i++) {
        const t0 = Date.now();
        const err = await client.call('list').then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(PeerTimeoutError);
        expect(Date.now() - t0).toBeLessThan(5000);
      }
      expect(held.length).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});
