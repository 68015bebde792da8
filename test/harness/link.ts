/**
 * A user-space TCP link between two agents on one machine, for tests and benchmarks that need
 * the wire between nodes to fail (this kernel has no netem). A `Link` is one ordered pair a → b:
 * it listens on an address of a's side (a's loopback IP, a free port), and every connection a
 * opens there is carried to b's real address (from a's IP, so b sees a as the caller). What a
 * opens to b goes through the link a → b; what b opens to a goes through b → a. A `Mesh` holds
 * the links of every ordered pair of a set of nodes.
 *
 * What a link does to the bytes, in both directions of every connection it carries:
 *
 * - **cut / heal**: a cut passes nothing, silently: no RST, no FIN, no refused connect, as a
 *   pulled cable or a dead radio link. Bytes written during a cut are HELD, not discarded: TCP
 *   over a dead link keeps unacknowledged data in the sender's buffer and retransmits it, so it
 *   arrives after the heal if the connection still lives (dropping bytes out of the middle of a
 *   stream would corrupt TLS, which no real link does). The relay goes on reading up to a window
 *   (256 KiB a direction) and then stops reading, so the writer meets backpressure as over TCP.
 *   A close (FIN or reset) during a cut is held in order with the data. Connections opened
 *   during a cut are accepted by the relay (its listening socket is on a's own side, like the
 *   first hop), but nothing reaches b: not even the connect, which waits for the heal.
 *   On heal, held data does not flow at once: as in TCP it waits for the next retransmission,
 *   the first one at RTO = RTT + 200 ms after it was sent, then doubling (1, 3, 7, 15, 31 s for a
 *   connect's SYN), each gap at most 120 s (Linux's TCP_RTO_MAX). So after a 5 s cut held data
 *   moves about 1 s after the heal, after a 40 s cut about 10 s after it; a connection opened
 *   after the heal is not slowed. `{retransmit: false}` releases held data at the heal instead.
 * - **shape**: `delayMs` is added one way (150 = a 300 ms round trip); a new connection's first
 *   bytes wait one round trip more (TCP's handshake). `rateBytesPerS` caps EACH direction
 *   separately (a full-duplex line, as a modem: 8000 = 64 kbit/s each way); bytes queue behind
 *   it in pieces of at most 1448 bytes (one segment). `loss` (0–1) is TCP's view of packet loss:
 *   TCP retransmits, so a lost segment is never lost to the application; it and everything
 *   behind it in that direction arrive late by one retransmission timeout (RTT + 200 ms, e.g.
 *   500 ms at 300 ms RTT; Linux's RTO is SRTT + max(4·RTTVAR, 200 ms)), doubling when the
 *   retransmission is lost too. That is the stall a sparse protocol (a heartbeat a second)
 *   meets on a lossy link; fast retransmit (one RTT) is not modelled, so this is the bad case.
 *   A lost SYN delays a connect by 1 s (then 2 s, …).
 * - **count**: the TCP payload that crossed (TLS records included, IP and TCP headers not), in
 *   each direction: `toTarget` (a → b), `fromTarget` (b → a); counted when delivered.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Shape {
  /** Added one-way delay, ms. */
  delayMs?: number;
  /** Bandwidth cap of each direction, bytes per second (0 or absent: none). */
  rateBytesPerS?: number;
  /** Probability that a segment is lost (and retransmitted after a timeout), 0–1. */
  loss?: number;
}

export interface LinkOptions {
  /** What this link is called in messages (`a→b`). */
  name?: string;
  /** Where the relay listens (a's side). */
  listenHost: string;
  /** b's real address. */
  target: { host: string; port: number };
  /** The source address of the relay's connections to b (a's address); default: the kernel's choice. */
  fromHost?: string;
  shape?: Shape;
  /** Held data waits for TCP's next retransmission after a heal (default true). */
  retransmit?: boolean;
  /** For the loss model; default Math.random. */
  random?: () => number;
}

const SEGMENT = 1448;
const WINDOW = 256 * 1024;
const RTO_MIN_MS = 200;
const RTO_MAX_MS = 120_000;
const SYN_RTO_MS = 1000;

/** The first retransmission at or after `at` of something first sent at `sent`, the first after `rto`, then doubling. */
export function nextRetransmission(sent: number, at: number, rto: number): number {
  let t = sent;
  let gap = rto;
  while (t < at) {
    t += gap;
    gap = Math.min(gap * 2, RTO_MAX_MS);
  }
  return t;
}

interface Piece {
  /** When the relay read it. */
  in: number;
  data?: Buffer;
  /** A close: `fin` ends the other side's writing, `rst` destroys it. */
  close?: 'fin' | 'rst';
  /** When it is delivered, once timed. */
  at?: number;
}

/** One direction of one connection. */
class Pipe {
  readonly queue: Piece[] = [];
  queued = 0;
  /** Pieces [0, timed) have their delivery time. */
  timed = 0;
  busyUntil = 0;
  /** Not before this (a handshake, a retransmission after a heal). */
  gate = 0;
  dest: Socket | null = null;
  blocked = false;
  done = false;
  timer: NodeJS.Timeout | null = null;
  constructor(
    readonly link: Link,
    readonly source: Socket,
    readonly toTarget: boolean,
  ) {}

  push(p: Piece): void {
    this.queue.push(p);
    if (p.data) {
      this.queued += p.data.length;
      if (this.queued > WINDOW) this.source.pause();
    }
    this.pump();
  }

  /** A cut: what was on the way is lost in flight and sent again later. */
  untime(): void {
    for (const p of this.queue) delete p.at;
    this.timed = 0;
    this.busyUntil = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  pump(): void {
    const link = this.link;
    if (link.isCut || this.done || !this.dest) return;
    const now = performance.now();
    const shape = link.shaping;
    // Time what is not timed yet, in order: the line's rate, its delay, a loss's stall.
    for (; this.timed < this.queue.length; this.timed++) {
      const p = this.queue[this.timed] as Piece;
      const start = Math.max(p.in, this.busyUntil, this.gate);
      const len = p.data?.length ?? 0;
      this.busyUntil = start + (shape.rateBytesPerS ? (len / shape.rateBytesPerS) * 1000 : 0);
      let at = this.busyUntil + (shape.delayMs ?? 0);
      if (shape.loss && len > 0) {
        let rto = link.rtoMs;
        while (link.random() < shape.loss) {
          at += rto;
          rto = Math.min(rto * 2, RTO_MAX_MS);
        }
      }
      const before = this.timed > 0 ? ((this.queue[this.timed - 1] as Piece).at ?? 0) : 0;
      p.at = Math.max(at, before);
      // In order: a stalled segment holds back everything after it (TCP delivers in order).
      this.busyUntil = Math.max(this.busyUntil, p.at - (shape.delayMs ?? 0));
    }
    while (!this.blocked && this.queue.length > 0 && (this.queue[0] as Piece).at! <= now) {
      const p = this.queue.shift() as Piece;
      this.timed--;
      if (p.data) {
        this.queued -= p.data.length;
        if (this.toTarget) link.toTarget += p.data.length;
        else link.fromTarget += p.data.length;
        if (!this.dest.write(p.data)) {
          this.blocked = true;
          this.dest.once('drain', () => {
            this.blocked = false;
            this.pump();
          });
        }
        if (this.queued <= WINDOW / 2 && this.source.isPaused()) this.source.resume();
      } else if (p.close === 'fin') {
        this.done = true;
        this.dest.end();
      } else if (p.close === 'rst') {
        this.done = true;
        this.dest.destroy();
      }
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.queue[0];
    if (next && !this.blocked && !this.done) this.timer = setTimeout(() => this.pump(), Math.max(0, (next.at as number) - performance.now()));
  }

  /** After a heal: nothing held moves before TCP's next retransmission. */
  release(healedAt: number): void {
    const first = this.queue[0];
    if (first && this.link.retransmit) this.gate = Math.max(this.gate, nextRetransmission(first.in, healedAt, this.link.rtoMs));
    this.pump();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.done = true;
  }
}

class Conn {
  readonly up: Pipe;
  /** b → a: there once the connect to b is made. */
  down: Pipe | null = null;
  upstream: Socket | null = null;
  /** When the client connected: a connect held by a cut goes out at a SYN retransmission. */
  readonly opened = performance.now();
  connectTimer: NodeJS.Timeout | null = null;
  closed = false;
  constructor(
    readonly link: Link,
    readonly client: Socket,
  ) {
    this.up = new Pipe(link, client, true);
    wire(client, this.up);
    client.on('close', () => this.check());
  }

  /** Connects to b when the link lets it: at once, or (held by a cut) at the first SYN retransmission after the heal. */
  dial(held: boolean): void {
    const link = this.link;
    if (this.upstream || this.connectTimer || this.closed || link.isCut) return;
    const now = performance.now();
    let at = held && link.retransmit ? nextRetransmission(this.opened, now, SYN_RTO_MS) : now;
    if (link.shaping.loss) {
      let rto = SYN_RTO_MS;
      while (link.random() < link.shaping.loss) {
        at += rto;
        rto *= 2;
      }
    }
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.closed || link.isCut) return; // a heal dials again
      const up = connect({ host: link.target.host, port: link.target.port, allowHalfOpen: true, ...(link.fromHost ? { localAddress: link.fromHost } : {}) });
      this.upstream = up;
      link.sockets.add(up);
      const down = new Pipe(link, up, false);
      down.dest = this.client;
      this.down = down;
      wire(up, down);
      up.on('close', () => this.check());
      up.once('connect', () => {
        // The handshake's round trip before the first bytes.
        this.up.gate = Math.max(this.up.gate, performance.now() + 2 * (link.shaping.delayMs ?? 0));
        this.up.dest = up;
        this.up.pump();
      });
    }, Math.max(0, at - now));
  }

  check(): void {
    if (this.client.destroyed && (!this.upstream || this.upstream.destroyed)) this.dispose();
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.up.stop();
    this.down?.stop();
    this.client.destroy();
    this.upstream?.destroy();
    this.link.sockets.delete(this.client);
    if (this.upstream) this.link.sockets.delete(this.upstream);
    this.link.conns.delete(this);
  }
}

/** Reads a socket into a pipe: data, then its FIN or reset, in order. */
function wire(s: Socket, pipe: Pipe): void {
  let ended = false;
  s.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i += SEGMENT) pipe.push({ in: performance.now(), data: d.subarray(i, i + SEGMENT) });
  });
  s.on('end', () => {
    ended = true;
    pipe.push({ in: performance.now(), close: 'fin' });
  });
  s.on('error', () => undefined);
  s.on('close', (hadError) => {
    if (!ended || hadError) pipe.push({ in: performance.now(), close: 'rst' });
  });
}

export class Link {
  readonly name: string;
  readonly listenHost: string;
  readonly target: { host: string; port: number };
  readonly fromHost: string | undefined;
  readonly retransmit: boolean;
  readonly random: () => number;
  port = 0;
  /** Bytes delivered a → b (from the side that opens connections to the target). */
  toTarget = 0;
  /** Bytes delivered b → a. */
  fromTarget = 0;
  shaping: Shape;
  readonly sockets = new Set<Socket>();
  readonly conns = new Set<Conn>();
  #cut = false;
  readonly #server: Server;

  constructor(o: LinkOptions) {
    this.name = o.name ?? `${o.listenHost}→${o.target.host}:${o.target.port}`;
    this.listenHost = o.listenHost;
    this.target = o.target;
    this.fromHost = o.fromHost;
    this.retransmit = o.retransmit ?? true;
    this.random = o.random ?? Math.random;
    this.shaping = { ...(o.shape ?? {}) };
    this.#server = createServer({ allowHalfOpen: true }, (client) => {
      this.sockets.add(client);
      const c = new Conn(this, client);
      this.conns.add(c);
      c.dial(false);
    });
  }

  /** Listens on `listenHost` (a free port unless given); resolves with the https URL a uses for b. */
  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, this.listenHost, () => resolve());
    });
    this.port = (this.#server.address() as { port: number }).port;
    return this.url;
  }

  get url(): string {
    return `https://${this.listenHost}:${this.port}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  /** One retransmission timeout on this link (RTT + 200 ms). */
  get rtoMs(): number {
    return 2 * (this.shaping.delayMs ?? 0) + RTO_MIN_MS;
  }

  /** Passes nothing either way, silently, until `heal`. */
  cut(): void {
    if (this.#cut) return;
    this.#cut = true;
    for (const c of this.conns) {
      c.up.untime();
      c.down?.untime();
    }
  }

  heal(): void {
    if (!this.#cut) return;
    this.#cut = false;
    const now = performance.now();
    for (const c of this.conns) {
      c.up.release(now);
      c.down?.release(now);
      c.dial(true);
    }
  }

  /** Changes the link's delay, rate and loss (for what is sent from now on). */
  shape(s: Shape): void {
    this.shaping = { ...s };
  }

  resetCounters(): void {
    this.toTarget = 0;
    this.fromTarget = 0;
  }

  /** Open connections (through it, either state). */
  get connections(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) c.dispose();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** A node as a mesh needs it: its name, its loopback IP, its agent's real port. */
export interface MeshNode {
  name: string;
  ip: string;
  port: number;
}

/** A link for every ordered pair of nodes: `link(a, b)` carries what a opens to b. */
export class Mesh {
  readonly links = new Map<string, Link>();
  constructor(readonly nodes: readonly MeshNode[], o: { shape?: Shape; retransmit?: boolean } = {}) {
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b) continue;
        this.links.set(`${a.name}>${b.name}`, new Link({ name: `${a.name}→${b.name}`, listenHost: a.ip, target: { host: b.ip, port: b.port }, fromHost: a.ip, ...o }));
      }
    }
  }

  async start(): Promise<void> {
    for (const l of this.links.values()) await l.start();
  }

  link(from: string, to: string): Link {
    const l = this.links.get(`${from}>${to}`);
    if (!l) throw new Error(`no link ${from}→${to}`);
    return l;
  }

  /** The links between a node and every other: both directions. */
  linksOf(name: string): Link[] {
    return [...this.links.values()].filter((l) => l.name.startsWith(`${name}→`) || l.name.endsWith(`→${name}`));
  }

  /** Cuts every link between the groups, both ways (a partition); the links inside a group stay. */
  partition(...groups: string[][]): void {
    for (const g of groups) for (const h of groups) if (g !== h) for (const a of g) for (const b of h) this.link(a, b).cut();
  }

  /** Cuts one node off from every other, both ways. */
  isolate(name: string): void {
    for (const l of this.linksOf(name)) l.cut();
  }

  heal(): void {
    for (const l of this.links.values()) l.heal();
  }

  /** Bytes a → b on the wire, both links counted (a's requests to b, a's answers to b's requests). */
  bytes(from: string, to: string): number {
    return this.link(from, to).toTarget + this.link(to, from).fromTarget;
  }

  resetCounters(): void {
    for (const l of this.links.values()) l.resetCounters();
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
