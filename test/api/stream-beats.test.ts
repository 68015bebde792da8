/**
 * One heartbeat for a peer's link instead of one per stream (the TUI pulled
 * 374 B/s from an idle peer, on links of 8,000 B/s): a client asks streams
 * it watches through another one's beat for none (`x-outpost-heartbeat: 0`);
 * RemoteNode's status stream beats for the link, and when a cut is found
 * there, the streams without a beat (logs, the journal) end with it. A node
 * that never connected (a CLI's `logs -f --node`) keeps the agent's beat on
 * its stream, so a cut still ends it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestedBeatMs } from '../../core/api/server.js';
import { streamIdleMs } from '../../core/remote/client.js';
import { RemoteNode } from '../../core/remote/remote-node.js';
import type { LogLine } from '../../core/model/types.js';
import { docker, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { Link } from '../harness/link.js';
import { startTestAgent, type TestAgent } from './harness.js';

const P = 'api-beats-';
const BEAT_MS = 300;
let agent: TestAgent;

/** The shared test link (test/harness/link.ts) to the agent: cut as a pulled cable cuts it, sockets open, nothing passing. */
function cuttableLink(port: number): Link {
  return new Link({ listenHost: '127.0.0.1', target: { host: '127.0.0.1', port } });
}

beforeAll(async () => {
  agent = await startTestAgent({ heartbeatMs: BEAT_MS });
  await makeContainer(docker(), { name: `${P}quiet`, cmd: 'sleep 3600' });
});

afterAll(async () => {
  await agent?.close();
  await removeByPrefix(docker(), P);
});

/** Reads a stream's raw bytes for `ms`: its headers and how many heartbeat lines came. */
async function beatsOver(path: string, header: string | undefined, ms: number): Promise<{ announced: string | undefined; beats: number }> {
  const { request } = await import('node:https');
  const u = new URL(agent.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: Number(u.port), path, ca: agent.identity.cert, checkServerIdentity: () => undefined, agent: false, headers: { authorization: `Bearer ${agent.tokens.viewer}`, ...(header !== undefined ? { 'x-outpost-heartbeat': header } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        setTimeout(() => {
          req.destroy();
          resolve({ announced: res.headers['x-outpost-heartbeat-ms'] as string | undefined, beats: text.split('\n').filter((l) => l === '').length - 1 });
        }, ms);
      },
    );
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

describe('stream heartbeats', () => {
  it('an agent beats on a stream unless the client asks for none, and says which', async () => {
    const plain = await beatsOver('/v1/status/watch', undefined, BEAT_MS * 5);
    expect(plain.announced).toBe(String(BEAT_MS));
    expect(plain.beats).toBeGreaterThanOrEqual(3);
    const none = await beatsOver('/v1/status/watch', '0', BEAT_MS * 5);
    expect(none.announced).toBe('0');
    expect(none.beats).toBe(0);
    const seldom = await beatsOver('/v1/status/watch', '60000', BEAT_MS * 5);
    expect(seldom.announced).toBe('60000');
    expect(seldom.beats).toBe(0);
  });

  it('a malformed or hostile heartbeat header gets the agent\'s own interval', async () => {
    for (const h of ['abc', '-1', '1e3', '99999999', ' 0', '0x10', '']) expect(requestedBeatMs(h)).toBeNull();
    expect(requestedBeatMs(['0', '0'])).toBeNull();
    expect(requestedBeatMs('0')).toBe(0);
    const bad = await beatsOver('/v1/status/watch', '-5', BEAT_MS * 4);
    expect(bad.announced).toBe(String(BEAT_MS));
    expect(bad.beats).toBeGreaterThanOrEqual(2);
  });

  it('a client watches a stream without beats only through its owner (no silence limit of its own)', () => {
    expect(streamIdleMs('0')).toBe(Infinity);
    expect(streamIdleMs(String(BEAT_MS))).toBe(3000);
    expect(streamIdleMs(undefined)).toBe(45_000);
  });

  it('a connected node: a cut found by the status stream ends a quiet log stream and the node goes offline', async () => {
    const link = cuttableLink(agent.server.port);
    const url = await link.start();
    const node = new RemoteNode({ name: 'peer', url, fingerprint: agent.identity.fingerprint, token: agent.tokens.admin, reconnectMinMs: 100, reconnectMaxMs: 300, timeoutMs: 2000 });
    try {
      await node.connect();
      const logs = await node.logs(`${P}quiet`, { follow: true, tail: 0 });
      const ended = (async () => {
        const got: LogLine[] = [];
        try {
          for await (const l of logs) got.push(l);
          return 'ended';
        } catch (err) {
          return (err as Error).message;
        }
      })();
      const journal: unknown[] = [];
      const stopJournal = node.rules.followJournal((e) => journal.push(e));
      await new Promise((r) => setTimeout(r, BEAT_MS * 4));
      // Quiet, with no beat of its own: still open while the link is fine.
      expect(await Promise.race([ended, new Promise((r) => setTimeout(() => r('open'), 10))])).toBe('open');
      link.cut();
      await eventually(() => node.status().state === 'offline', 8000, 'offline after the cut');
      const outcome = await Promise.race([ended, new Promise((r) => setTimeout(() => r('still open'), 2000))]);
      expect(outcome).not.toBe('still open');
      stopJournal();
      logs.close();
    } finally {
      await node.close();
      await link.close();
    }
  });

  it('a node that never connected keeps the agent\'s beat on its log stream: a cut still ends it', async () => {
    const link = cuttableLink(agent.server.port);
    const url = await link.start();
    const node = new RemoteNode({ name: 'peer', url, fingerprint: agent.identity.fingerprint, token: agent.tokens.admin, timeoutMs: 2000 });
    try {
      const logs = await node.logs(`${P}quiet`, { follow: true, tail: 0 });
      link.cut();
      const outcome = await Promise.race([
        (async () => {
          try {
            for await (const _ of logs) void _;
            return 'ended';
          } catch (err) {
            return (err as Error).message;
          }
        })(),
        new Promise((r) => setTimeout(() => r('still open'), 8000)),
      ]);
      expect(outcome).not.toBe('still open');
      logs.close();
    } finally {
      await node.close();
      await link.close();
    }
  });
});

describe('kept-alive connections', () => {
  it('stay open between requests seconds apart (Node closed them after 5 s: each ask paid the handshakes again)', async () => {
    const { Agent, request } = await import('node:https');
    const u = new URL(agent.url);
    const keep = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = () =>
      new Promise<boolean>((resolve, reject) => {
        const req = request({ host: u.hostname, port: Number(u.port), path: '/v1/info', ca: agent.identity.cert, checkServerIdentity: () => undefined, agent: keep, headers: { authorization: `Bearer ${agent.tokens.viewer}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(req.reusedSocket));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await ask()).toBe(false);
      await new Promise((r) => setTimeout(r, 6500));
      expect(await ask()).toBe(true);
    } finally {
      keep.destroy();
    }
  });
});

describe('compressed logs', () => {
  it('a log read gzip-compressed arrives whole and in order, in a fraction of the bytes; plain when not asked', async () => {
    const c = await makeContainer(docker(), { name: `${P}history`, cmd: 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "$i GET /api/v1/items?page=$i 200 12ms user-agent=probe/1.0"; done; sleep 3600' });
    await eventually(async () => (await c.logs({ stdout: true, tail: 1 })).toString().includes('3000 GET'), 15_000, 'the history written');
    const read = async (compressLogs: boolean) => {
      const link = cuttableLink(agent.server.port);
      const url = await link.start();
      const node = new RemoteNode({ name: 'peer', url, fingerprint: agent.identity.fingerprint, token: agent.tokens.admin, timeoutMs: 5000, compressLogs });
      try {
        const logs = await node.logs(`${P}history`, { tail: 'all', follow: false, timestamps: true });
        const numbers: number[] = [];
        for await (const l of logs) numbers.push(Number(l.text.split(' ')[0]));
        return { numbers, bytes: link.fromTarget };
      } finally {
        await node.close();
        await link.close();
      }
    };
    const plain = await read(false);
    const packed = await read(true);
    const all = Array.from({ length: 3000 }, (_, i) => i + 1);
    expect(plain.numbers).toEqual(all);
    expect(packed.numbers).toEqual(all);
    expect(packed.bytes).toBeLessThan(plain.bytes / 3);
  });
});
