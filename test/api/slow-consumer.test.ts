/**
 * A client that stops reading a log stream while the container floods:
 * the agent must not buffer what the client does not take (it stops reading
 * the engine's stream at the socket's high-water mark and goes on at
 * 'drain'), and once the client reads again every line arrives, in order.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { startTestAgent, type TestAgent } from './harness.js';

const P = 'slow-';
const LINES = 100_000;
/** Each line is ~1 KiB: 100 MB of log in all, over 200 MB as JSON envelopes if the agent held them. */
const WIDTH = 1000;
let agent: TestAgent;

beforeAll(async () => {
  agent = await startTestAgent();
});
afterAll(async () => {
  await agent?.close();
  await removeByPrefix(docker(), P);
});

const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers + m.external;
};

describe('a slow stream consumer', () => {
  it('holds the agent to bounded memory while it does not read, then gets every line in order', async () => {
    const c = await makeContainer(docker(), { name: `${P}flood`, cmd: `pad=$(printf '%${WIDTH}s' '' | tr ' ' x); i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "$i $pad"; done; sleep 3600` });
    const u = new URL(agent.url);
    const before = used();
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, used())), 20);
    let got = 0;
    let last = 0;
    let ordered = true;
    let pending = '';
    let writtenBeforeResume = false;
    let pausedPeak = 0;
    const done = new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: u.hostname,
          port: Number(u.port),
          path: `/v1/containers/${P}flood/logs?follow=true&tail=all`,
          ca: agent.identity.cert,
          checkServerIdentity: () => undefined,
          agent: false,
          headers: { authorization: `Bearer ${agent.tokens.operator}` },
        },
        (res) => {
          expect(res.statusCode).toBe(200);
          // The client stops reading at once, for 7 s, while the container writes its 100 MB.
          res.pause();
          const resumeReading = async () => {
            // By now the container has written everything: the agent could have taken it all in.
            const tailLine = (await c.logs({ stdout: true, tail: 1 })).toString('latin1');
            writtenBeforeResume = tailLine.includes(`${LINES} x`);
            // What the agent holds is measured while the client does not read (reading allocates on the client's side).
            clearInterval(sample);
            pausedPeak = peak;
            res.on('data', (chunk: Buffer) => {
              pending += chunk.toString('utf8');
              let nl: number;
              while ((nl = pending.indexOf('\n')) >= 0) {
                const line = pending.slice(0, nl);
                pending = pending.slice(nl + 1);
                if (line.trim() === '') continue;
                const n = Number(((JSON.parse(line) as { result: { text: string } }).result.text).split(' ')[0]);
                if (n !== last + 1) ordered = false;
                last = n;
                got++;
                if (got === LINES) {
                  req.destroy();
                  resolve();
                }
              }
            });
            res.resume();
          };
          setTimeout(() => void resumeReading().catch(reject), 7000);
        },
      );
      req.on('error', (err) => (got === LINES ? resolve() : reject(err)));
      req.setTimeout(60_000, () => req.destroy(new Error(`only ${got} of ${LINES} lines in 60 s`)));
      req.end();
    });
    try {
      await done;
    } finally {
      clearInterval(sample);
    }
    expect(writtenBeforeResume).toBe(true);
    expect(got).toBe(LINES);
    expect(ordered).toBe(true);
    // What the agent held while the client did not read: a small part of the 100 MB the container wrote
    // (the rest is garbage of what it did read before the high-water mark, and the engine's own buffers).
    const grewMiB = (pausedPeak - before) / 2 ** 20;
    console.log(`memory grew ${grewMiB.toFixed(1)} MiB at most while ${LINES} lines of ${WIDTH} bytes waited`);
    expect(grewMiB).toBeLessThan(48);
    await c.remove({ force: true });
  });
});
