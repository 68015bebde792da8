/** The Node contract against LocalNode on the private engine. */
import { LocalNode } from '../../core/docker/local-node.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { docker, dockerHost } from '../harness/fixtures.js';
import { nodeContract } from './node-contract.js';

nodeContract('LocalNode', 'ct-local-', async () => ({
  node: new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') }),
  engine: docker(),
  endpoint: dockerHost(),
  dispose: async () => undefined,
}));
