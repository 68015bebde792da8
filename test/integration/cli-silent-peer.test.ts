/**
 * A peer whose packets are dropped silently (it takes the TCP connection and never answers, as a
 * hung box or a black-holed route does; not a closed port, which fails at once): `outpost ps
 * --all-nodes` and `outpost place --dry-run` give up on it within the documented deadline
 * (PEER_REQUEST_DEADLINE_MS, docs/cli.md: 5 s) and name it as unreachable. They waited 10.2 s
 * and 20.3 s: the agent peers got the client's 10 s default, and place asked the silent peer
 * twice (the engine check, then the plan).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEER_REQUEST_DEADLINE_MS } from '../../core/peers/fleet-from-config.js';
import { outpost } from '../harness/cli.js';
import { TEST_IMAGE } from '../harness/image.js';

const home = mkdtempSync(join(tmpdir(), 'op-silent-peer-'));
const env = { XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state') };
let server: Server;
const held: Socket[] = [];
/** What the process costs besides the wait (Node's start, the local engine): generous on a loaded 2-core box. */
const SLACK_MS = 2500;

beforeAll(async () => {
  server = createServer((s) => held.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = join(env.XDG_CONFIG_HOME, 'outpost');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'peers.json'), JSON.stringify({ peers: [{ name: 'silent-gw', kind: 'agent', url: `https://127.0.0.1:${port}`, fingerprint: 'AB'.repeat(32) }] }));
  writeFileSync(join(dir, 'peer-tokens.json'), JSON.stringify({ tokens: { 'silent-gw': 't'.repeat(43) } }), { mode: 0o600 });
  writeFileSync(join(home, 'w.yaml'), `name: silent-probe\nimage: ${TEST_IMAGE}\nreplicas: 1\n`);
});

afterAll(() => {
  for (const s of held) s.destroy();
  server?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('a peer that drops packets silently', () => {
  it('the deadline is stated once and docs/cli.md says the same', () => {
    expect(PEER_REQUEST_DEADLINE_MS).toBe(5000);
    expect(readFileSync('docs/cli.md', 'utf8')).toContain(`${PEER_REQUEST_DEADLINE_MS / 1000} s deadline`);
  });

  it('ps --all-nodes: this machine is listed, the peer is named unreachable after the deadline, not later', async () => {
    const t0 = Date.now();
    const r = await outpost(['ps', '--all-nodes'], env);
    const ms = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NODE\s+CONTAINER ID/);
    expect(r.stderr).toMatch(/Error: node silent-gw: The Outpost agent at https:\/\/127\.0\.0\.1:\d+ did not answer the TLS handshake within 5 s/);
    expect(ms).toBeGreaterThanOrEqual(PEER_REQUEST_DEADLINE_MS - 100);
    expect(ms).toBeLessThan(PEER_REQUEST_DEADLINE_MS + SLACK_MS);
  });

  it('place --dry-run: the peer is asked once, rejected as unreachable in the table with a warning naming it; the plan is made on this machine', async () => {
    const t0 = Date.now();
    const r = await outpost(['place', '--dry-run', join(home, 'w.yaml')], env);
    const ms = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: silent-gw: .*did not answer the TLS handshake within 5 s/);
    expect(r.stdout).toMatch(/silent-gw\s+rejected\s+0\s+unreachable/);
    expect(ms).toBeLessThan(PEER_REQUEST_DEADLINE_MS + SLACK_MS);
  });
});
