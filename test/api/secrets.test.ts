/**
 * Secrets a viewer must not find (the trust issue): a placed workload's env
 * values ride in its `outpost.workload.spec` label, which reached viewers
 * through the list, the model, the events and inspect; a webhook's secret
 * (its path, a `?token=`) reached the journal when the hook failed, and a
 * bad webhook value was echoed in the rules' problems. Three planted
 * secrets, looked for everywhere a viewer can read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook, shownUrl } from '../../core/agent/webhook.js';
import { parseRules } from '../../core/rules/parse.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { raw, startTestAgent, type TestAgent } from './harness.js';

const P = 'api-secrets-';
const ENV_SECRET = 's3cret-env-value-1';
const HOOK_SECRET = 's3cret-hook-token-2';
const BAD_HOOK_SECRET = 's3cret-bad-hook-3';
let agent: TestAgent;

beforeAll(async () => {
  agent = await startTestAgent();
  const spec = `name: ${P}placed\nimage: outpost-test/busybox:latest\nenv:\n  API_KEY: ${ENV_SECRET}\n`;
  await makeContainer(docker(), { name: `${P}placed`, cmd: 'sleep 3600', labels: { 'outpost.workload': `${P}placed`, 'outpost.workload.replica': '0', 'outpost.workload.spec': spec } });
});

afterAll(async () => {
  await agent?.close();
  await removeByPrefix(docker(), P);
});

/** Reads a stream for `ms` while `during` runs. */
async function streamText(path: string, token: string, ms: number, during: () => Promise<void> = async () => undefined): Promise<string> {
  const { request } = await import('node:https');
  const u = new URL(agent.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: Number(u.port), path, ca: agent.identity.cert, checkServerIdentity: () => undefined, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      void during();
      setTimeout(() => {
        req.destroy();
        resolve(text);
      }, ms);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

describe('secrets a viewer cannot find', () => {
  it("a workload's env values: not in the list, inspect, the model or the events for a viewer; an operator still sees the spec", async () => {
    const asOperator = await raw(agent, 'GET', '/v1/containers', { token: agent.tokens.operator });
    expect(asOperator.text).toContain(ENV_SECRET); // the planted secret is there to be found
    const places = [
      (await raw(agent, 'GET', '/v1/containers?all=true', { token: agent.tokens.viewer })).text,
      (await raw(agent, 'GET', `/v1/containers/${P}placed`, { token: agent.tokens.viewer })).text,
      await streamText('/v1/model', agent.tokens.viewer, 1500),
      await streamText('/v1/events', agent.tokens.viewer, 2500, async () => {
        await new Promise((r) => setTimeout(r, 300));
        await docker().getContainer(`${P}placed`).kill({ signal: 'SIGUSR1' });
      }),
    ];
    for (const text of places) {
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(ENV_SECRET);
    }
    expect(places[0]).toContain('hidden from viewers');
    expect(places[3]).toContain(`${P}placed`);
  });

  it("a webhook's path and token: not in what a failed or refused hook journals", async () => {
    const url = `http://127.0.0.1:9/hooks/${HOOK_SECRET}?token=${HOOK_SECRET}`;
    const refused = await postWebhook(fetch, url, { node: 'n', container: 'c', rule: 'r', kind: 'notify', message: 'm', ts: 0 });
    expect(refused).toMatch(/^webhook http:\/\/127\.0\.0\.1:9\/… failed/);
    expect(refused).not.toContain(HOOK_SECRET);
    const answered = await postWebhook(async () => new Response('no', { status: 500, statusText: `bad ${HOOK_SECRET}` }), url, { node: 'n', container: 'c', rule: 'r', kind: 'notify', message: 'm', ts: 0 });
    expect(answered).not.toContain(`/hooks/${HOOK_SECRET}`);
    expect(shownUrl(`https://user:${HOOK_SECRET}@hooks.example`)).toBe('https://hooks.example/…');
    expect(shownUrl('https://hooks.example')).toBe('https://hooks.example');
  });

  it('a bad webhook value is not echoed in the rules\' problems', () => {
    const r = parseRules(`webhook: "ftp://hooks.example/${BAD_HOOK_SECRET}"\nrules: []\n`, 'rules.yaml');
    const text = JSON.stringify(r);
    expect(text).toContain('webhook');
    expect(text).not.toContain(BAD_HOOK_SECRET);
  });
});
