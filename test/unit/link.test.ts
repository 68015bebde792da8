/**
 * The test link (test/harness/link.ts) on real sockets: an echo server behind it on loopback.
 * Timings are asserted with generous bounds: they say the model is there, not how exact.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Link, Mesh, nextRetransmission, type Shape } from '../harness/link.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Echo {
  server: Server;
  port: number;
  /** Every connection the server accepted, and what it read on each. */
  accepted: { socket: Socket; got: Buffer[]; ended: boolean }[];
}

async function echoServer(echo = true): Promise<Echo> {
  const accepted: Echo['accepted'] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const c = { socket, got: [] as Buffer[], ended: false };
    accepted.push(c);
    socket.on('data', (d: Buffer) => {
      c.got.push(d);
      if (echo) socket.write(d);
    });
    socket.on('end', () => {
      c.ended = true;
      socket.end();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = server.close.bind(server);
  // Closing the server ends its connections too (server.close alone waits for them).
  server.close = ((cb?: (err?: Error) => void) => {
    for (const a of accepted) a.socket.destroy();
    return close(cb);
  }) as typeof server.close;
  return { server, port: (server.address() as { port: number }).port, accepted };
}

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(shape: Shape = {}, o: { retransmit?: boolean; random?: () => number; echo?: boolean } = {}) {
  const echo = await echoServer(o.echo ?? true);
  open.push({ close: () => new Promise((r) => echo.server.close(r)) });
  const link = new Link({ listenHost: '127.0.0.1', target: { host: '127.0.0.1', port: echo.port }, shape, ...(o.retransmit !== undefined ? { retransmit: o.retransmit } : {}), ...(o.random ? { random: o.random } : {}) });
  await link.start();
  open.push(link);
  return { echo, link };
}

/** A client through the link, collecting what comes back. */
async function client(link: Link) {
  const s = connect(link.port, '127.0.0.1');
  const got: Buffer[] = [];
  const events: string[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.on('end', () => events.push('end'));
  s.on('close', () => events.push('close'));
  s.on('error', (e) => events.push(`error ${e.message}`));
  await new Promise<void>((r) => s.once('connect', () => r()));
  open.push({ close: () => s.destroy() });
  const text = () => Buffer.concat(got).toString();
  return { s, got, events, text, bytes: () => Buffer.concat(got).length };
}

async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(5);
  }
  return performance.now() - t0;
}

describe('test link (user-space TCP relay)', () => {
  it('passes bytes both ways and counts each direction', async () => {
    const { echo, link } = await setup();
    const c = await client(link);
    c.s.write('x'.repeat(10_000));
    await until(() => c.bytes() === 10_000, 2000, 'the echo');
    expect(link.toTarget).toBe(10_000);
    expect(link.fromTarget).toBe(10_000);
    expect(echo.accepted).toHaveLength(1);
    link.resetCounters();
    c.s.write('abc');
    await until(() => c.bytes() === 10_003, 2000, 'the echo');
    expect([link.toTarget, link.fromTarget]).toEqual([3, 3]);
  });

  it('a cut holds data both ways without a reset or an end; a heal delivers it, in order', async () => {
    const { echo, link } = await setup({}, { retransmit: false });
    const c = await client(link);
    c.s.write('before;');
    await until(() => c.text() === 'before;', 2000, 'the echo');
    link.cut();
    c.s.write('during;');
    // The server's side writes during the cut too: held on the way back.
    (echo.accepted[0] as Echo['accepted'][number]).socket.write('server-during;');
    await sleep(600);
    expect(Buffer.concat((echo.accepted[0] as Echo['accepted'][number]).got).toString()).toBe('before;');
    expect(c.text()).toBe('before;');
    expect(c.events).toEqual([]);
    link.heal();
    await until(() => c.text() === 'before;server-during;during;', 2000, 'the held bytes after the heal');
    expect(c.events).toEqual([]);
  });

  it('a connection opened during a cut reaches nothing, not even the connect, until the heal; a close is held too', async () => {
    const { echo, link } = await setup({}, { retransmit: false });
    link.cut();
    const c = await client(link); // the relay is on this side: it accepts
    c.s.write('hello');
    await sleep(500);
    expect(echo.accepted).toHaveLength(0);
    link.heal();
    await until(() => c.text() === 'hello', 2000, 'the held connection to go through');
    expect(echo.accepted).toHaveLength(1);
    link.cut();
    c.s.end();
    await sleep(400);
    expect(echo.accepted[0]?.ended).toBe(false);
    link.heal();
    await until(() => echo.accepted[0]?.ended === true, 2000, 'the held FIN');
    await until(() => c.events.includes('close'), 2000, 'the client closed');
    await until(() => link.connections === 0, 2000, 'the link to forget the connection');
  });

  it("after a heal, held data waits for TCP's next retransmission (RTO 200 ms, doubling); without that model it moves at once", async () => {
    expect(nextRetransmission(0, 1500, 200)).toBe(3000); // 200, 600, 1400, 3000
    expect(nextRetransmission(0, 5000, 1000)).toBe(7000); // a SYN: 1, 3, 7 s
    expect(nextRetransmission(0, 10_000_000, 200)).toBeLessThan(10_000_000 + 120_001);
    for (const retransmit of [true, false]) {
      const { link } = await setup({}, { retransmit });
      const c = await client(link);
      link.cut();
      c.s.write('held');
      await sleep(1500);
      link.heal();
      const after = await until(() => c.text() === 'held', 4000, 'the held bytes');
      if (retransmit) {
        // Sent at ~0, retransmitted at 0.2, 0.6, 1.4, 3.0 s: out ~1.5 s after the heal at 1.5 s.
        expect(after).toBeGreaterThan(900);
        expect(after).toBeLessThan(2500);
      } else {
        expect(after).toBeLessThan(300);
      }
    }
  });

  it('adds the one-way delay each way, and a round trip before a new connection\'s first bytes', async () => {
    const { link } = await setup({ delayMs: 100 });
    const t0 = performance.now();
    const c = await client(link);
    c.s.write('a');
    await until(() => c.text() === 'a', 3000, 'the first echo');
    const first = performance.now() - t0;
    const t1 = performance.now();
    c.s.write('b');
    await until(() => c.text() === 'ab', 3000, 'the second echo');
    const rtt = performance.now() - t1;
    expect(rtt).toBeGreaterThanOrEqual(195);
    expect(rtt).toBeLessThan(600);
    expect(first).toBeGreaterThanOrEqual(395); // the handshake's round trip + one round trip
    expect(first).toBeLessThan(1000);
  });

  it('caps each direction at its rate (bytes per second), one direction not slowing the other', async () => {
    const { link, echo } = await setup({ rateBytesPerS: 50_000 }, { echo: false });
    const c = await client(link);
    const t0 = performance.now();
    c.s.write(Buffer.alloc(100_000, 1));
    // The way back carries its own 100 kB at the same time.
    await until(() => echo.accepted.length === 1, 2000, 'the connection');
    (echo.accepted[0] as Echo['accepted'][number]).socket.write(Buffer.alloc(100_000, 2));
    const server = echo.accepted[0] as Echo['accepted'][number];
    await until(() => Buffer.concat(server.got).length === 100_000, 8000, 'the bytes at the server');
    const up = performance.now() - t0;
    await until(() => c.bytes() === 100_000, 8000, 'the bytes at the client');
    const both = performance.now() - t0;
    expect(up).toBeGreaterThan(1700);
    expect(up).toBeLessThan(4000);
    // Per direction: both 100 kB done in about the time of one.
    expect(both).toBeLessThan(4000);
    expect([link.toTarget, link.fromTarget]).toEqual([100_000, 100_000]);
  });

  it('models loss as a stall of one retransmission timeout for the lost segment and all behind it', async () => {
    // The connect's SYN goes through, the first segment is lost, its retransmission is not; nothing else is lost.
    const draws = [0.9, 0.01, 0.9];
    const { link } = await setup({ loss: 0.05 }, { random: () => draws.shift() ?? 0.9 });
    const c = await client(link);
    const t0 = performance.now();
    c.s.write('lost');
    await until(() => c.text() === 'lost', 3000, 'the echo');
    const stalled = performance.now() - t0;
    expect(stalled).toBeGreaterThanOrEqual(190); // RTO = RTT (0 here) + 200 ms
    expect(stalled).toBeLessThan(800);
    const t1 = performance.now();
    c.s.write('kept');
    await until(() => c.text() === 'lostkept', 3000, 'the echo');
    expect(performance.now() - t1).toBeLessThan(150);
  });

  it('a mesh links every ordered pair; a partition cuts between groups both ways and leaves the rest', async () => {
    const a = await echoServer();
    const b = await echoServer();
    const cc = await echoServer();
    open.push(...[a, b, cc].map((e) => ({ close: () => new Promise((r) => e.server.close(r)) })));
    const mesh = new Mesh([
      { name: 'a', ip: '127.0.0.1', port: a.port },
      { name: 'b', ip: '127.0.0.1', port: b.port },
      { name: 'c', ip: '127.0.0.1', port: cc.port },
    ]);
    await mesh.start();
    open.push(mesh);
    expect(mesh.links.size).toBe(6);
    mesh.partition(['a'], ['b', 'c']);
    expect([...mesh.links.values()].filter((l) => l.isCut).map((l) => l.name).sort()).toEqual(['a→b', 'a→c', 'b→a', 'c→a']);
    const bc = await client(mesh.link('b', 'c'));
    bc.s.write('ping');
    await until(() => bc.text() === 'ping', 2000, 'b→c inside a group');
    expect(mesh.bytes('b', 'c')).toBe(4);
    expect(mesh.bytes('c', 'b')).toBe(4);
    mesh.heal();
    expect([...mesh.links.values()].some((l) => l.isCut)).toBe(false);
  });
});
