/**
 * The agents' link (GET /v1/placement/link) between two real agents in this process, each with
 * its own state, certificate, peers file and failover controller, on the private engine: they
 * link up and reach each other; nobody else can speak for either of them. A token alone (even
 * the admin's), a stolen token with another certificate, or a peer's own link speaking anything
 * but the protocol is refused, and every refusal is in the audit log. The `peer` role does what
 * failover and placement need, and nothing else.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { WebSocket } from 'ws';
import { ApiServer } from '../../core/api/server.js';
import { loadOrCreateIdentity, makeSelfSigned, type TlsIdentity } from '../../core/api/tls.js';
import { createToken } from '../../core/api/tokens.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { FailoverController, parsePlacementConfig } from '../../core/placement/controller.js';
import { normalizeFingerprint } from '../../core/peers/config.js';
import { docker, dockerHost, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';
import { raw } from './harness.js';

interface Side {
  name: string;
  dir: string;
  env: Record<string, string>;
  stateDir: string;
  identity: TlsIdentity;
  node: LocalNode;
  server: ApiServer;
  controller: FailoverController;
  admin: string;
  /** The token the other side holds for this one. */
  peerToken: string;
  log: string[];
}

const P = 'oplink-';
const root = mkdtempSync(join(tmpdir(), 'op-link-'));
const sides: Side[] = [];

async function side(name: string): Promise<Side> {
  const dir = join(root, name);
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state') };
  const stateDir = join(dir, 'state', 'outpost');
  mkdirSync(join(dir, 'config', 'outpost'), { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const identity = await loadOrCreateIdentity(stateDir);
  const admin = createToken(stateDir, 'admin', 'admin');
  const peerToken = createToken(stateDir, `peer-${name === 'a' ? 'b' : 'a'}`, 'peer');
  const node = new LocalNode({ name, endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
  await node.connect();
  const { config } = parsePlacementConfig(`node: ${name}\n`, 'placement.yaml');
  if (!config) throw new Error('placement config');
  const log: string[] = [];
  let served: ApiServer | null = null;
  const controller = new FailoverController({ config, stateDir, local: node, env, log: (l) => log.push(l), identity, audit: (e) => served?.auditLink(e) });
  const server = await ApiServer.start({ node, stateDir, host: '127.0.0.1', port: 0, identity, placement: () => controller, authFailures: { max: 1_000_000, windowMs: 60_000 } });
  served = server;
  return { name, dir, env, stateDir, identity, node, server, controller, admin, peerToken, log };
}

function peerEachOther(a: Side, b: Side): void {
  for (const [me, other] of [
    [a, b],
    [b, a],
  ] as const) {
    writeFileSync(join(me.env.XDG_CONFIG_HOME as string, 'outpost', 'peers.json'), JSON.stringify({ peers: [{ name: other.name, kind: 'agent', url: other.server.url, fingerprint: normalizeFingerprint(other.identity.fingerprint) }] }));
    writeFileSync(join(me.env.XDG_CONFIG_HOME as string, 'outpost', 'peer-tokens.json'), JSON.stringify({ tokens: { [other.name]: other.peerToken } }), { mode: 0o600 });
  }
}

function auditLines(s: Side): { action: string; outcome: string; target: string | null; token: string | null }[] {
  try {
    return readFileSync(s.server.auditPath, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { action: string; outcome: string; target: string | null; token: string | null });
  } catch {
    return [];
  }
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A link opened by hand: with this token, and with this certificate shown (or none). */
function dial(to: Side, token: string, shown: { cert: string; key: string } | null): Promise<{ ws: WebSocket | null; status: number | null; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const u = new URL(to.server.url);
    const ws = new WebSocket(`wss://${u.host}/v1/placement/link`, {
      rejectUnauthorized: false,
      headers: { authorization: `Bearer ${token}` },
      ...(shown ? { cert: shown.cert, key: shown.key } : {}),
    });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ ws: null, status: res.statusCode ?? 0, closed });
    });
    ws.once('open', () => resolve({ ws, status: 101, closed }));
    ws.once('error', () => resolve({ ws: null, status: null, closed }));
  });
}

beforeAll(async () => {
  sides.push(await side('a'), await side('b'));
  peerEachOther(sides[0] as Side, sides[1] as Side);
  for (const s of sides) s.controller.start();
}, 60_000);

afterAll(async () => {
  for (const s of sides) {
    await s.controller.stop();
    await s.server.close();
    await s.node.close();
  }
  await removeByPrefix(docker(), P);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

const [A, B] = [() => sides[0] as Side, () => sides[1] as Side];

afterEach((ctx: TestContext) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const s of sides) console.log(`--- ${s.name} ---\n${s.log.slice(-30).join('\n')}\n${JSON.stringify(s.controller.links())}`);
});

describe('the agents link', () => {
  it('two agents link up with peer credentials and their certificates, and reach each other', async () => {
    await until('a and b reach each other', () => A().controller.links().every((l) => l.reachable) && B().controller.links().every((l) => l.reachable) && A().controller.links().length === 1);
    const link = A().controller.links()[0];
    expect(link).toMatchObject({ peer: 'b', out: true, inbound: true, reachable: true });
    expect(auditLines(A()).some((l) => l.action === 'placementLink' && l.outcome === 'ok' && l.target === 'b')).toBe(true);
    expect(A().log.some((l) => /voters: a, b \(2; a majority is 2\)/.test(l))).toBe(true);
  }, 30_000);

  it('a token alone cannot speak for a node: the admin token without a certificate is refused (403), audited', async () => {
    const r = await dial(A(), A().admin, null);
    expect(r.status).toBe(403);
    const line = auditLines(A()).filter((l) => l.action === 'placementLink').at(-1);
    expect(line?.outcome).toMatch(/^refused 403: it shows no certificate/);
    expect(line?.token).toBe('admin');
  });

  it('a fourth party with a stolen admin token and a certificate of its own is refused (403), audited', async () => {
    const own = await makeSelfSigned('outpost-agent b');
    const r = await dial(A(), A().admin, own);
    expect(r.status).toBe(403);
    expect(auditLines(A()).filter((l) => l.action === 'placementLink').at(-1)?.outcome).toMatch(/^refused 403: the certificate it shows \([0-9A-F:]+\) is not pinned for any agent/);
    // With b's own token too: still not b.
    const r2 = await dial(A(), A().peerToken, own);
    expect(r2.status).toBe(403);
  });

  it("b's certificate with b's token opens b's link; a message that is not the protocol (a claimed sender, a binary frame, not JSON) closes it, audited", async () => {
    const bIdentity = { cert: B().identity.cert, key: B().identity.key };
    for (const [what, send] of [
      ['a claimed sender', (ws: WebSocket) => ws.send(JSON.stringify({ s: 1, from: 'c', v: { h: { b: 3_600_000 } } }))],
      ['a binary frame', (ws: WebSocket) => ws.send(Buffer.from([1, 2, 3]))],
      ['not JSON', (ws: WebSocket) => ws.send('{"s":')],
      ['a negative sequence', (ws: WebSocket) => ws.send(JSON.stringify({ s: -4 }))],
    ] as const) {
      const r = await dial(A(), A().peerToken, bIdentity);
      expect(r.status, what).toBe(101);
      send(r.ws as WebSocket);
      expect(await r.closed, what).toBe(1008);
    }
    const refused = auditLines(A()).filter((l) => l.action === 'placementLink' && l.outcome.startsWith('refused:'));
    expect(refused.map((l) => l.outcome).join('\n')).toMatch(/from/);
    expect(refused.some((l) => /binary/.test(l.outcome))).toBe(true);
    expect(refused.some((l) => /not JSON/.test(l.outcome))).toBe(true);
    // The real b links again and a reaches it.
    await until('a reaches b again', () => A().controller.links()[0]?.reachable === true);
  }, 60_000);

  it('the peer role: what failover and placement need, nothing else', async () => {
    const t = A().peerToken;
    expect((await raw({ url: A().server.url, identity: A().identity }, 'GET', '/v1/containers?all=true', { token: t })).status).toBe(200);
    expect((await raw({ url: A().server.url, identity: A().identity }, 'GET', '/v1/info', { token: t })).status).toBe(200);
    // What a viewer reads, a peer reads (a technician on the peer's machine sees this node through the same peers file).
    expect((await raw({ url: A().server.url, identity: A().identity }, 'GET', '/v1/stats', { token: t })).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/v1/tokens'],
      ['GET', '/v1/rules/file'],
      ['POST', `/v1/containers/${P}x/start`],
      ['POST', `/v1/containers/${P}x/restart`],
      ['POST', `/v1/containers/${P}x/kill`],
      ['GET', `/v1/containers/${P}x/logs`],
      ['POST', '/v1/rules/pause'],
    ] as const) {
      const r = await raw({ url: A().server.url, identity: A().identity }, method, path, { token: t, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    // A container that is not a placed workload: a peer may neither run nor stop nor remove it.
    const spec = (name: string, labels: Record<string, string>) => ({ name, image: TEST_IMAGE, cmd: ['sleep', '600'], env: [], labels, ports: [], volumes: [], devices: [], restart: { name: 'no' as const, maxRetries: null }, cpus: 0, memoryBytes: 0 });
    const run = await raw({ url: A().server.url, identity: A().identity }, 'POST', '/v1/containers', { token: t, body: JSON.stringify(spec(`${P}free`, {})) });
    expect(run.status).toBe(403);
    expect(run.text).toMatch(/not a placed workload/);
    // Labelled as a workload but without its spec: not a placed copy a peer may start.
    const half = await raw({ url: A().server.url, identity: A().identity }, 'POST', '/v1/containers', { token: t, body: JSON.stringify(spec(`${P}half`, { 'outpost.workload': 'half', 'outpost.workload.replica': '0' })) });
    expect(half.status).toBe(403);
    const id = await A().node.run(spec(`${P}own`, {}));
    expect((await raw({ url: A().server.url, identity: A().identity }, 'POST', `/v1/containers/${P}own/stop`, { token: t, body: '{}' })).status).toBe(403);
    expect((await raw({ url: A().server.url, identity: A().identity }, 'DELETE', `/v1/containers/${P}own?force=true`, { token: t })).status).toBe(403);
    expect((await A().node.inspect(id)).state).toBe('running');
    const forbidden = auditLines(A()).filter((l) => l.token === 'peer-b' && l.outcome.startsWith('forbidden'));
    expect(forbidden.length).toBeGreaterThanOrEqual(7);
  }, 60_000);
});
