/**
 * The Node contract against an engine-only peer over ssh://: LocalNode on
 * an ssh:// endpoint → a real SSH server on loopback (its host key in
 * known_hosts) → `docker system dial-stdio` → the private engine. Every
 * request, stream and exec of the suite goes through the one SSH
 * connection the node keeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalNode } from '../../core/docker/local-node.js';
import { docker, dockerHost } from '../harness/fixtures.js';
import { startSshServer } from '../harness/ssh-server.js';
import { nodeContract } from './node-contract.js';

nodeContract('engine-only peer over ssh://', 'ct-ssh-', async () => {
  const server = await startSshServer(dockerHost().replace(/^unix:\/\//, ''));
  const home = mkdtempSync(join(tmpdir(), 'op-ssh-contract-'));
  const savedHome = process.env.HOME;
  process.env.HOME = home;
  server.trust(home);
  const node = new LocalNode({ name: 'local', endpoint: { kind: 'ssh', host: '127.0.0.1', port: server.port, username: 'tech', source: '--host' }, isThisMachine: false });
  return {
    node,
    engine: docker(),
    endpoint: `ssh://tech@127.0.0.1:${server.port}`,
    seesHostDevices: false,
    reportsHost: false,
    dispose: async () => {
      await server.close();
      process.env.HOME = savedHome;
      rmSync(home, { recursive: true, force: true });
    },
  };
});
