/**
 * The agent's TLS offers authenticated encryption only: a client that
 * offers nothing but CBC suites (or RSA key exchange) over TLS 1.2 gets no
 * connection; TLS 1.3 and TLS 1.2 with ECDHE-GCM/ChaCha20 work.
 */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from './harness.js';

let agent: TestAgent;
beforeAll(async () => {
  agent = await startTestAgent();
});
afterAll(async () => {
  await agent?.close();
});

function handshake(o: { maxVersion: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }): Promise<string> {
  const u = new URL(agent.url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false, minVersion: 'TLSv1.2', ...o });
    s.once('secureConnect', () => {
      const c = s.getCipher();
      s.destroy();
      resolve(`${c.version} ${c.name}`);
    });
    s.once('error', (err) => resolve(`refused: ${err.message}`));
  });
}

describe('TLS suites', () => {
  it('TLS 1.3, and TLS 1.2 with ECDHE and an AEAD cipher, connect', async () => {
    expect(await handshake({ maxVersion: 'TLSv1.3' })).toMatch(/^TLSv1\.3 /);
    expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatch(/^TLSv1\.2 ECDHE-\w+-(AES\d+-GCM|CHACHA20-POLY1305)/);
  });

  it('a client offering only CBC or RSA key exchange gets no connection', async () => {
    for (const ciphers of ['AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES256-SHA384']) {
      expect(await handshake({ maxVersion: 'TLSv1.2', ciphers }), ciphers).toMatch(/^refused/);
    }
  });
});
