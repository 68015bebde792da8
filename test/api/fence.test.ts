/**
 * A container failover fenced on this node (placement-state.json in the agent's state directory)
 * is not started by a person's start or restart through the API unless they override the fence:
 * 409 FENCED, audited; with `overrideFence: true` it runs, and the audit line names the override.
 * A peer's TUI or CLI (RemoteNode) gets the same refusal and the same override.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PLACEMENT_STATE_FILE } from '../../core/agent/placement-link.js';
import { FencedError } from '../../core/model/errors.js';
import { RemoteNode } from '../../core/remote/remote-node.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { raw, startTestAgent, type TestAgent } from './harness.js';

const P = 'api-fence-';
const NAME = `${P}web-0`;
let agent: TestAgent;
let id = '';

interface Audit {
  token: string;
  action: string;
  target: string;
  outcome: string;
}
const auditLines = (): Audit[] =>
  readFileSync(agent.server.auditPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Audit);
const running = async () => (await docker().getContainer(id).inspect()).State.Running;
const fence = () => writeFileSync(join(agent.stateDir, PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'local', failover: { fenced: { [id]: { workload: `${P}web`, replica: 0, atMs: Date.now(), stopMs: Date.now(), reason: 'cut off' } } }, specs: {} }));

beforeAll(async () => {
  agent = await startTestAgent();
  await removeByPrefix(docker(), P);
  id = (await makeContainer(docker(), { name: NAME, cmd: 'sleep 600', start: false, labels: { 'outpost.workload': `${P}web`, 'outpost.workload.replica': '0' } })).id;
  fence();
});

afterAll(async () => {
  await agent.close();
  await removeByPrefix(docker(), P);
});

beforeEach(async () => {
  await docker().getContainer(id).stop({ t: 0 }).catch(() => undefined);
});

describe('a fenced container through the API', () => {
  it.each(['start', 'restart'])('%s without the override: 409 FENCED naming the workload and the risk, not started, audited', async (action) => {
    const r = await raw(agent, 'POST', `/v1/containers/${NAME}/${action}`, { token: agent.tokens.operator });
    expect(r.status).toBe(409);
    const e = (r.json as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
    expect(e.code).toBe('FENCED');
    expect(e.message).toContain(`${P}web replica 0`);
    expect(e.message).toMatch(/cut off from a majority/);
    expect(e.message).toMatch(/replacement may run on another node/);
    expect(e.message).toMatch(/overrideFence/);
    expect(e.details).toMatchObject({ containerId: id, workload: `${P}web replica 0` });
    expect(await running()).toBe(false);
    expect(auditLines().at(-1)).toMatchObject({ token: 'op', action, target: NAME, outcome: 'error: FENCED' });
  });

  it.each(['start', 'restart'])('%s with overrideFence: 200, it runs, and the audit line names the override', async (action) => {
    const r = await raw(agent, 'POST', `/v1/containers/${NAME}/${action}`, { token: agent.tokens.operator, body: JSON.stringify({ overrideFence: true }) });
    expect(r.status, r.text).toBe(200);
    expect(await running()).toBe(true);
    const line = auditLines().at(-1) as Audit;
    expect(line).toMatchObject({ token: 'op', action, target: NAME });
    expect(line.outcome).toMatch(/^ok \(overrideFence: api-fence-web replica 0 was fenced by failover; started anyway, it may run twice\)$/);
  });

  it('overrideFence: false is no override', async () => {
    const r = await raw(agent, 'POST', `/v1/containers/${NAME}/start`, { token: agent.tokens.admin, body: JSON.stringify({ overrideFence: false }) });
    expect(r.status).toBe(409);
    expect(await running()).toBe(false);
  });

  it.each([['"yes"'], ['1'], ['null'], ['{}']])('a malformed override (%s) is 400 naming body.overrideFence, audited, nothing started', async (value) => {
    const r = await raw(agent, 'POST', `/v1/containers/${NAME}/start`, { token: agent.tokens.operator, body: `{"overrideFence":${value}}` });
    expect(r.status).toBe(400);
    const e = (r.json as { error: { code: string; message: string; details: { field?: string } } }).error;
    expect(e.code).toBe('BAD_INPUT');
    expect(e.details.field).toBe('body.overrideFence');
    expect(e.message).toMatch(/overrideFence/);
    expect(await running()).toBe(false);
    expect(auditLines().at(-1)?.outcome).toMatch(/^refused 400: .*overrideFence/);
  });

  it('roles: a viewer is refused (403, audited) with or without the override; an operator and an admin may override', async () => {
    for (const body of [undefined, JSON.stringify({ overrideFence: true })]) {
      const r = await raw(agent, 'POST', `/v1/containers/${NAME}/start`, { token: agent.tokens.viewer, ...(body ? { body } : {}) });
      expect(r.status).toBe(403);
      expect(auditLines().at(-1)).toMatchObject({ token: 'view', action: 'start', outcome: 'forbidden' });
      expect(await running()).toBe(false);
    }
    for (const token of [agent.tokens.operator, agent.tokens.admin]) {
      await docker().getContainer(id).stop({ t: 0 }).catch(() => undefined);
      expect((await raw(agent, 'POST', `/v1/containers/${NAME}/start`, { token })).status).toBe(409);
      expect((await raw(agent, 'POST', `/v1/containers/${NAME}/start`, { token, body: JSON.stringify({ overrideFence: true }) })).status).toBe(200);
      expect(await running()).toBe(true);
    }
  });

  it('an override of a container that is not fenced starts it and says so in the audit line', async () => {
    writeFileSync(join(agent.stateDir, PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'local', failover: { fenced: {} }, specs: {} }));
    try {
      const r = await raw(agent, 'POST', `/v1/containers/${NAME}/start`, { token: agent.tokens.operator, body: JSON.stringify({ overrideFence: true }) });
      expect(r.status).toBe(200);
      expect(auditLines().at(-1)?.outcome).toBe('ok (overrideFence: given, but it was not fenced)');
    } finally {
      fence();
    }
  });

  it('a peer (RemoteNode) gets the same refusal as FencedError, and its override goes through', async () => {
    const peer = new RemoteNode({ name: 'gw-1', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.operator });
    try {
      await expect(peer.start(NAME)).rejects.toBeInstanceOf(FencedError);
      await expect(peer.restart(NAME, { timeoutSeconds: 1 })).rejects.toThrow(/is fenced on/);
      expect(await running()).toBe(false);
      await peer.restart(NAME, { timeoutSeconds: 1, overrideFence: true });
      expect(await running()).toBe(true);
      await docker().getContainer(id).stop({ t: 0 });
      await peer.start(NAME, { overrideFence: true });
      expect(await running()).toBe(true);
      expect(auditLines().at(-1)?.outcome).toMatch(/^ok \(overrideFence: /);
    } finally {
      await peer.close();
    }
  });
});
