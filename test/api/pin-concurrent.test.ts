/**
 * A fresh client's first requests go out together (the TUI and the tray
 * ask for the list, the host, the rules and the journal at once): each
 * opens its own socket before any has learnt the certificate. Every one
 * must pass the pin, and an impostor must fail on every one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../core/remote/client.js';
import { PeerUnreachableError } from '../../core/model/errors.js';
import { startTestAgent, type TestAgent } from './harness.js';

let agent: TestAgent;
let other: TestAgent;
beforeAll(async () => {
  agent = await startTestAgent();
  other = await startTestAgent();
});
afterAll(async () => {
  await agent?.close();
  await other?.close();
});

describe('pinning with many sockets opened at once', () => {
  it('twelve concurrent first calls on a fresh client all succeed, and so do the next twelve', async () => {
    const client = new ApiClient({ name: 'peer', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.viewer, timeoutMs: 10_000 });
    try {
      for (let round = 0; round < 2; round++) {
        const results = await Promise.allSettled(Array.from({ length: 12 }, () => client.call('status')));
        expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      }
    } finally {
      client.destroy();
    }
  });

  it('an impostor (another agent\'s certificate at the pinned address) is refused on every concurrent socket', async () => {
    const client = new ApiClient({ name: 'peer', url: other.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.viewer, timeoutMs: 10_000 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.call('status')));
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as Error;
        expect(err).toBeInstanceOf(PeerUnreachableError);
        expect(err.message).toContain(`pinned ${agent.identity.fingerprint}, presented ${other.identity.fingerprint}`);
      }
    } finally {
      client.destroy();
    }
  });
});
