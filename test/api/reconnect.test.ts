/**
 * A peer that goes away: requests fail as PeerUnreachableError, the node
 * turns offline and retries; when the agent is back on its address, the
 * node is online again and its model resyncs (a container made meanwhile
 * appears).
 */
import { afterAll, expect, it } from 'vitest';
import { ApiServer } from '../../core/api/server.js';
import { PeerUnreachableError } from '../../core/model/errors.js';
import type { NodeStatus } from '../../core/model/types.js';
import { RemoteNode } from '../../core/remote/remote-node.js';
import { docker, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { startTestAgent } from './harness.js';

const P = 'api-reconnect-';
afterAll(async () => {
  await removeByPrefix(docker(), P);
});

it('goes offline when the agent goes, retries, and resyncs its model when it is back', async () => {
  const agent = await startTestAgent();
  const port = agent.server.port;
  const node = new RemoteNode({ name: 'peer', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.admin, reconnectMinMs: 100, reconnectMaxMs: 300, timeoutMs: 3000 });
  let back: ApiServer | null = null;
  const seen: NodeStatus['state'][] = [];
  node.onStatus((s) => seen.push(s.state));
  try {
    await node.connect();
    expect(node.status().state).toBe('online');
    await agent.server.close();
    await eventually(() => node.status().state === 'offline', 5000, 'offline');
    await expect(node.list()).rejects.toBeInstanceOf(PeerUnreachableError);
    await makeContainer(docker(), { name: `${P}meanwhile`, cmd: 'sleep 600' });
    back = await ApiServer.start({ node: agent.node, stateDir: agent.stateDir, host: '127.0.0.1', port, identity: agent.identity });
    await eventually(() => node.status().state === 'online', 10_000, 'online again');
    await eventually(() => node.containers().some((c) => c.name === `${P}meanwhile` && c.node === 'peer'), 10_000, 'the resynced model');
    expect(seen).toContain('offline');
  } finally {
    await node.close();
    await back?.close();
    await agent.node.close();
  }
});
