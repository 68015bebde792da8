/** The Node contract against RemoteNode → a real agent API (in-process, 127.0.0.1, random port) → the private engine. */
import { RemoteNode } from '../../core/remote/remote-node.js';
import { startTestAgent } from '../api/harness.js';
import { docker, dockerHost } from '../harness/fixtures.js';
import { nodeContract } from './node-contract.js';

nodeContract('RemoteNode', 'ct-remote-', async () => {
  const agent = await startTestAgent();
  // Named as the agent names its own node, so the suite's expectations hold unchanged.
  const node = new RemoteNode({ name: 'local', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.admin });
  return { node, engine: docker(), endpoint: dockerHost(), dispose: () => agent.close() };
});
