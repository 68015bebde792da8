/**
 * The agents' link: what failover tells its peers, on one long-lived WebSocket per peer and
 * direction (GET /v1/placement/link; docs/placement.md, "The agents' link").
 *
 * Who speaks is the TLS certificate the dialling agent shows, compared with the fingerprints
 * of the receiver's peers file, never a field of a message: a token alone (even an admin's)
 * cannot speak for a node. Each agent dials each peer and speaks only on the link it dialled
 * (its voice); it hears each peer on the link the peer dialled.
 *
 * A message is a beat: `s` its sequence number, `a` the last of the listener's beats heard
 * (so each side knows a round trip completed, and when), and only what changed since the last
 * beat on this connection: the view's silent voters and mode, the voter list, this node's
 * placed copies (whole, when they change) and the specs the listener has not had yet, the
 * fenced copies of the listener that the deciding node restarts. An idle, healthy fleet sends
 * `{"s":N,"a":M}` every BEAT_MS and nothing else.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Mode, PlacedCopy, PeerView } from './failover.js';

/** An idle link beats this often. */
export const BEAT_MS = 2000;
/**
 * A peer is reachable while its last completed round trip began at most this long ago: a beat
 * of ours it acknowledged, heard back. Beats every 2 s make that 2–4 s on a healthy link; a
 * lost or late beat (a stall of TCP's retransmission) is forgiven, three missed ones are not.
 */
export const CONTACT_WINDOW_MS = 6000;
/** A link that heard nothing this long is closed and dialled again (a dead TCP connection says nothing). */
export const LINK_IDLE_MS = 3 * CONTACT_WINDOW_MS;
/** The largest message either way; specs beyond it wait for the next beats. */
export const MAX_LINK_MESSAGE = 1024 * 1024;
const SPEC_BUDGET = 512 * 1024;

const fleetName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const containerId = z.string().regex(/^[0-9a-f]{12,64}$/);

export const linkCopySchema = z
  .object({
    workload: z.string().min(1).max(63),
    replica: z.number().int().min(0).max(1000),
    node: fleetName,
    containerId,
    movable: z.boolean(),
    singleton: z.boolean(),
    running: z.boolean(),
    createdAt: z.number().finite(),
    generation: z.number().int().min(0),
    score: z.number().finite().optional(),
    fenced: z.boolean().optional(),
  })
  .strict();

export const beatSchema = z
  .object({
    s: z.number().int().min(1),
    a: z.number().int().min(0).optional(),
    /** The voters this node heard from longer ago than the contact window, ms ago; `m`: its mode. */
    v: z
      .object({
        h: z.record(fleetName, z.number().finite().min(0)).refine((r) => Object.keys(r).length <= 256, 'at most 256 voters'),
        m: z.enum(['majority', 'minority', 'cut-off']).optional(),
      })
      .strict()
      .optional(),
    /** The voters this node counts. */
    q: z.array(fleetName).max(256).optional(),
    /** This node's placed copies, whole; `l`: the list is complete. */
    c: z.array(linkCopySchema).max(10_000).optional(),
    l: z.boolean().optional(),
    /** Spec texts by workload name. */
    p: z.record(z.string().min(1).max(63), z.string().max(32 * 1024)).optional(),
    /** Fenced containers of the listener that the deciding node restarts. */
    u: z.array(containerId).max(100).optional(),
  })
  .strict();

export type Beat = z.output<typeof beatSchema>;

/** A short hash of anything JSON (what was sent last is compared by it). */
export function digest(x: unknown): string {
  return createHash('sha256').update(JSON.stringify(x)).digest('base64url').slice(0, 16);
}

/** What one side last said on one connection: the next beat carries only what differs. */
export interface Said {
  mode: Mode | null;
  silent: boolean;
  voters: string | null;
  copies: string | null;
  specs: Map<string, string>;
}

export function nothingSaid(): Said {
  return { mode: null, silent: false, voters: null, copies: null, specs: new Map() };
}

export interface Speech {
  seq: number;
  ack: number;
  view: PeerView;
  voters: string[];
  copies: PlacedCopy[] | null;
  specs: Record<string, string>;
  unfence: string[];
}

/** The next beat on a connection, and what it then has said. Pure. */
export function nextBeat(said: Said, now: Speech): { beat: Beat; said: Said } {
  const beat: Beat = { s: now.seq, ...(now.ack > 0 ? { a: now.ack } : {}) };
  const next: Said = { ...said, specs: new Map(said.specs) };
  const silent = Object.keys(now.view.heardAgoMs).length > 0;
  const mode = now.view.mode ?? null;
  if (silent || said.silent || mode !== said.mode) {
    beat.v = { h: now.view.heardAgoMs, ...(mode ? { m: mode } : {}) };
    next.silent = silent;
    next.mode = mode;
  }
  const voters = digest(now.voters);
  if (voters !== said.voters) {
    beat.q = now.voters;
    next.voters = voters;
  }
  if (now.copies) {
    const copies = digest(now.copies);
    if (copies !== said.copies) {
      beat.c = now.copies;
      beat.l = true;
      next.copies = copies;
    }
    let budget = SPEC_BUDGET;
    for (const [name, text] of Object.entries(now.specs)) {
      const h = digest(text);
      if (said.specs.get(name) === h || text.length > budget) continue;
      (beat.p ??= {})[name] = text;
      next.specs.set(name, h);
      budget -= text.length;
    }
  }
  if (now.unfence.length > 0) beat.u = now.unfence.slice(0, 100);
  return { beat, said: next };
}

/** What a listener keeps of one peer's voice. */
export interface Heard {
  /** Monotonic ms of the last beat. */
  at: number;
  /** The last sequence number heard (the next beat of ours acknowledges it). */
  seq: number;
  view: PeerView;
  voters: string[] | null;
  copies: PlacedCopy[] | null;
}

/**
 * A beat heard: the peer's state as it now stands. A beat without `v` means nobody is silent
 * for it and its mode is unchanged; one without `c` that its copies are as last said. Pure.
 */
export function hear(prev: Heard | null, beat: Beat, nowMs: number): Heard {
  const mode = beat.v?.m ?? prev?.view.mode;
  return {
    at: nowMs,
    seq: beat.s,
    view: { heardAgoMs: beat.v?.h ?? {}, ...(mode ? { mode } : {}) },
    voters: beat.q ?? prev?.voters ?? null,
    copies: beat.c ?? prev?.copies ?? null,
  };
}
