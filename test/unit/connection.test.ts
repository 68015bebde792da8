/** The connection state machine LocalNode uses now and RemoteNode will: back-off, status, close. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from '../../core/shared/connection.js';
import type { NodeStatus } from '../../core/model/types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function machine(failures: number) {
  const attempts: string[] = [];
  let abandoned = 0;
  let left = failures;
  const conn = new Connection(
    {
      open: async (attempt) => {
        attempts.push(attempt);
        if (left-- > 0) throw new Error(`refused ${attempts.length}`);
      },
      abandon: () => abandoned++,
      describe: (err) => (err as Error).message,
    },
    { minDelayMs: 100, maxDelayMs: 400, now: () => Date.now() },
  );
  const seen: NodeStatus[] = [];
  conn.onStatus((s) => seen.push(s));
  return { conn, attempts, seen, abandoned: () => abandoned };
}

describe('Connection', () => {
  it('goes online on a first attempt that works', async () => {
    const m = machine(0);
    await m.conn.connect();
    expect(m.conn.status().state).toBe('online');
    expect(m.attempts).toEqual(['first']);
  });

  it('retries with a doubling back-off up to its bound, then goes online', async () => {
    const m = machine(4);
    await expect(m.conn.connect()).rejects.toThrow('refused 1');
    expect(m.conn.status()).toMatchObject({ state: 'offline', reason: 'refused 1', retryInMs: 100 });
    for (const wait of [100, 200, 400, 400]) await vi.advanceTimersByTimeAsync(wait);
    expect(m.attempts).toEqual(['first', 'retry', 'retry', 'retry', 'retry']);
    expect(m.seen.map((s) => (s.state === 'offline' ? s.retryInMs : s.state))).toEqual([100, 200, 400, 400, 'online']);
    expect(m.abandoned()).toBe(3);
    // While it was away, every offline status kept the time it was lost.
    const offline = m.seen.filter((s) => s.state === 'offline');
    expect(new Set(offline.map((s) => (s.state === 'offline' ? s.since : 0))).size).toBe(1);
    // A later loss starts again from the lower bound.
    m.conn.lost('stream ended');
    expect(m.conn.status()).toMatchObject({ state: 'offline', reason: 'stream ended', retryInMs: 100 });
  });

  it('close() stops the retries: nothing is attempted after it', async () => {
    const m = machine(10);
    await expect(m.conn.connect()).rejects.toThrow();
    m.conn.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(m.attempts).toEqual(['first']);
    m.conn.lost('late');
    expect(m.conn.status().state).toBe('offline');
    expect(m.seen).toHaveLength(1);
  });

  it('waits as long as the steps ask after a failure that retrying soon cannot fix', async () => {
    const attempts: number[] = [];
    const conn = new Connection(
      {
        open: async () => {
          attempts.push(Date.now());
          throw new Error('token refused');
        },
        abandon: () => undefined,
        describe: (err) => (err as Error).message,
        retryAfterMs: () => 60_000,
      },
      { minDelayMs: 100, maxDelayMs: 400 },
    );
    await expect(conn.connect()).rejects.toThrow('token refused');
    expect(conn.status()).toMatchObject({ state: 'offline', retryInMs: 60_000 });
    await vi.advanceTimersByTimeAsync(59_000);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(2);
    conn.close();
  });

  it('an outage before the first answer is "never reached"; after one, it is not', async () => {
    const m = machine(1);
    await m.conn.connect().catch(() => undefined);
    expect(m.conn.status()).toMatchObject({ state: 'offline', neverReached: true });
    await vi.advanceTimersByTimeAsync(150);
    expect(m.conn.status().state).toBe('online');
    m.conn.lost('cut');
    expect(m.conn.status().state).toBe('offline');
    expect(m.conn.status()).not.toHaveProperty('neverReached');
    m.conn.close();
  });

  it('a node never reached has been tried for since the first attempt began, not since it failed', async () => {
    const conn = new Connection(
      {
        // A hung engine: the first attempt fails only at its 10 s deadline.
        open: () => new Promise<void>((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000)),
        abandon: () => undefined,
        describe: (err) => (err as Error).message,
      },
      { minDelayMs: 100, maxDelayMs: 400, now: () => Date.now() },
    );
    const started = Date.now();
    const first = conn.connect().catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10_000);
    await first;
    expect(conn.status()).toMatchObject({ state: 'offline', neverReached: true, since: started });
    conn.close();
  });
});

describe('a session that answered is online before what it brought is shown (issue: "offline … last seen 4s ago" for a node coming back)', () => {
  it('answered() during open() goes online at once; outside an attempt it does nothing', async () => {
    let seenAtAnswer: string | null = null;
    let fail = true;
    const conn: Connection = new Connection(
      {
        open: async () => {
          if (fail) throw new Error('refused');
          conn.answered();
          seenAtAnswer = conn.status().state;
          await Promise.resolve();
        },
        abandon: () => undefined,
        describe: (err) => (err as Error).message,
      },
      { minDelayMs: 100, maxDelayMs: 100, now: () => Date.now() },
    );
    const seen: NodeStatus[] = [];
    conn.onStatus((s) => seen.push(s));
    await expect(conn.connect()).rejects.toThrow('refused');
    conn.answered();
    expect(conn.status()).toMatchObject({ state: 'offline', neverReached: true });
    fail = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(seenAtAnswer).toBe('online');
    // One online status, not a second one when the attempt ends.
    expect(seen.map((s) => s.state)).toEqual(['offline', 'online']);
  });
});
