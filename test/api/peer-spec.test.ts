/**
 * A peer's spec is bound by this node's run policy. Node a runs its real failover controller,
 * API server and run policy on the private engine; its one peer, b, is played by this test (the
 * other end of the link is outside the thing under test): b's certificate, b's own link server
 * that acknowledges a's beats, and b's beats to a. b reports a movable singleton that it fenced
 * and stopped, its spec binding the host's root, while b stands cut off. a, the deciding node of
 * the majority, re-places it (the complement of fencing), and its run policy refuses: nothing
 * runs, and the journal names the refusing rule.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ApiServer } from '../../core/api/server.js';
import { loadOrCreateIdentity, makeSelfSigned } from '../../core/api/tls.js';
import { createToken } from '../../core/api/tokens.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { FailoverController, parsePlacementConfig } from '../../core/placement/controller.js';
import { DEFAULT_RUN_POLICY } from '../../core/placement/run-policy.js';
import { fingerprintOfPem } from '../../core/api/tls.js';
import { normalizeFingerprint } from '../../core/peers/config.js';
import { docker, dockerHost, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';

const root = mkdtempSync(join(tmpdir(), 'op-peer-spec-'));
const env = { HOME: root, XDG_CONFIG_HOME: join(root, 'config'), XDG_STATE_HOME: join(root, 'state') };
const stateDir = join(root, 'state', 'outpost');
const W = 'oppeerspec';
let node: LocalNode;
let server: ApiServer;
let controller: FailoverController;
let bServer: Server;
let bDial: WebSocket | null = null;
let timer: NodeJS.Timeout | null = null;
const log: string[] = [];

const spec = [`name: ${W}`, `image: ${TEST_IMAGE}`, 'command: ["sleep", "600"]', 'replicas: 1', 'movable: true', 'volumes: ["/:/host:ro"]', 'restart: "no"', ''].join('\n');

beforeAll(async () => {
  mkdirSync(join(root, 'config', 'outpost'), { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const identity = await loadOrCreateIdentity(stateDir);
  const tokenForB = createToken(stateDir, 'peer-b', 'peer');
  node = new LocalNode({ name: 'a', endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), runPolicy: DEFAULT_RUN_POLICY });
  await node.connect();
  const { config } = parsePlacementConfig('node: a\n', 'placement.yaml');
  if (!config) throw new Error('placement config');
  controller = new FailoverController({ config, stateDir, local: node, env, log: (l) => log.push(l), identity });
  server = await ApiServer.start({ node, stateDir, host: '127.0.0.1', port: 0, identity, placement: () => controller });

  // b: its certificate, its link server (it acknowledges a's beats), its beats to a.
  const b = await makeSelfSigned('outpost-agent b');
  let lastFromA = 0;
  bServer = createServer({ cert: b.cert, key: b.key });
  const wss = new WebSocketServer({ server: bServer });
  wss.on('connection', (ws) => ws.on('message', (d) => (lastFromA = (JSON.parse(d.toString()) as { s: number }).s)));
  await new Promise<void>((r) => bServer.listen(0, '127.0.0.1', r));
  const bPort = (bServer.address() as { port: number }).port;
  writeFileSync(join(root, 'config', 'outpost', 'peers.json'), JSON.stringify({ peers: [{ name: 'b', kind: 'agent', url: `https://127.0.0.1:${bPort}`, fingerprint: normalizeFingerprint(fingerprintOfPem(b.cert)) }] }));
  writeFileSync(join(root, 'config', 'outpost', 'peer-tokens.json'), JSON.stringify({ tokens: { b: `op_${'b'.repeat(43)}` } }), { mode: 0o600 });
  controller.start();
  await new Promise((r) => setTimeout(r, 1500)); // a has read its peers file
  bDial = new WebSocket(`wss://127.0.0.1:${server.port}/v1/placement/link`, { rejectUnauthorized: false, cert: b.cert, key: b.key, headers: { authorization: `Bearer ${tokenForB}` } });
  await new Promise<void>((resolve, reject) => {
    bDial?.once('open', () => resolve());
    bDial?.once('error', reject);
  });
  let s = 1;
  const copy = { workload: W, replica: 0, node: 'b', containerId: 'b0b0b0b0b0b0b0b0', movable: true, singleton: true, running: false, createdAt: Date.now() - 60_000, generation: 0, fenced: true };
  const beat = () => {
    const first = s === 1;
    bDial?.send(JSON.stringify({ s: s++, ...(lastFromA > 0 ? { a: lastFromA } : {}), v: { h: { a: 30_000 }, m: 'cut-off' }, ...(first ? { q: ['a', 'b'], c: [copy], l: true, p: { [W]: spec } } : {}) }));
  };
  beat();
  timer = setInterval(beat, 500);
}, 60_000);

afterAll(async () => {
  if (timer) clearInterval(timer);
  bDial?.terminate();
  await controller.stop();
  await server.close();
  bServer.close();
  await node.close();
  await removeByPrefix(docker(), W);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe("a peer's spec", () => {
  it('a fenced copy of a peer standing cut off is re-placed here, but a spec that binds the host root does not run: the journal names the rule', async () => {
    const end = Date.now() + 40_000;
    const decided = () => log.some((l) => /oppeerspec was fenced on b, which stands in cut-off, and no copy runs anywhere: re-placing it/.test(l));
    const refused = () => log.find((l) => /re-placing oppeerspec \(generation 1\) failed: running it on a: a does not run .* for another: .*/.test(l));
    while (!(decided() && refused()) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    expect(decided(), log.join('\n')).toBe(true);
    const line = refused() ?? '';
    expect(line, log.join('\n')).toMatch(/volumes\[0\]\.source `\/`: the host's root is not bound for a workload run on another's behalf \(allow it in this node's placement\.yaml: run_policy\.allow_binds\)/);
    const ours = (await docker().listContainers({ all: true })).filter((c) => c.Names.some((n) => n.includes(W)));
    expect(ours).toEqual([]);
  }, 60_000);
});
