/**
 * An admin's (or a peer's) POST /v1/containers on an agent is bounded by the
 * node's run policy: a read-write bind of `/`, the engine's socket, an
 * `rwm` device, a target carrying bind options: nothing is created, the
 * answer names the field and the rule (403 NOT_ALLOWED), the refusal is
 * audited and, for a placed workload, journaled on this node.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../core/api/server.js';
import { loadOrCreateIdentity, type TlsIdentity } from '../../core/api/tls.js';
import { createToken } from '../../core/api/tokens.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { DEFAULT_RUN_POLICY } from '../../core/placement/run-policy.js';
import { docker, dockerHost, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';
import { raw } from './harness.js';

const P = 'api-policy-';
const dir = mkdtempSync(join(tmpdir(), 'op-run-policy-'));
let node: LocalNode;
let server: ApiServer;
let identity: TlsIdentity;
let admin = '';

beforeAll(async () => {
  node = new LocalNode({ name: 'a', endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), runPolicy: DEFAULT_RUN_POLICY });
  await node.connect();
  identity = await loadOrCreateIdentity(dir);
  admin = createToken(dir, 'peer-b', 'admin');
  server = await ApiServer.start({ node, stateDir: dir, host: '127.0.0.1', port: 0, identity });
});

afterAll(async () => {
  await server?.close();
  await node?.close();
  await removeByPrefix(docker(), P);
  rmSync(dir, { recursive: true, force: true });
});

const spec = (name: string, extra: Record<string, unknown>) => JSON.stringify({ name, image: TEST_IMAGE, cmd: ['sleep', '60'], env: [], labels: { 'outpost.workload': name, 'outpost.workload.replica': '0', 'outpost.workload.generation': '1' }, ports: [], volumes: [], devices: [], restart: { name: 'no', maxRetries: null }, cpus: 0, memoryBytes: 0, ...extra });

describe('the run policy through the API', () => {
  it.each([
    ['root', { volumes: [{ source: '/', target: '/host', readOnly: false }] }, /volumes\[0\]\.source `\/`/],
    // The private engine's own socket: the one this node drives.
    ['socket', { volumes: [{ source: dockerHost().replace(/^unix:\/\//, ''), target: '/engine.sock', readOnly: false }] }, /engine's socket/],
    ['mknod', { devices: [{ host: '/dev/null', container: '/dev/x', permissions: 'rwm' }] }, /devices\[0\]\.permissions `rwm`/],
    ['options', { volumes: [{ source: '/tmp', target: '/h:rshared', readOnly: false }] }, /bind options/],
  ])('refuses %s: 403 with the rule, nothing created, audited', async (what, extra, words) => {
    const name = `${P}${what}`;
    const r = await raw({ url: server.url, identity }, 'POST', '/v1/containers', { token: admin, body: spec(name, extra) });
    expect(r.status).toBe(403);
    expect(r.text).toMatch(words);
    expect(r.text).toContain('NOT_ALLOWED');
    expect((await docker().listContainers({ all: true, filters: { name: [name] } })).length).toBe(0);
    expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).toMatch(new RegExp(`"action":"run".*"outcome":"error: NOT_ALLOWED"`));
  });

  it('runs what the policy allows', async () => {
    const r = await raw({ url: server.url, identity }, 'POST', '/v1/containers', { token: admin, body: spec(`${P}fine`, { volumes: [{ source: dir, target: '/scratch', readOnly: true }] }) });
    expect(r.status).toBe(200);
    expect((await docker().listContainers({ filters: { name: [`${P}fine`] } })).length).toBe(1);
  });
});
