/**
 * The link between the failover controller (core/placement/controller.ts, started with the API)
 * and the rule agent of the same `outpost agent` process, by state directory:
 *
 * - the controller journals into the rule agent's journal (one writer per journal: the agent
 *   holds it); entries written before the agent has opened its journal wait here and are
 *   written when it has;
 * - whether a container is fenced on this node is decided here, once (`fenceOf`), for the rule
 *   agent before it acts and for every start or restart a person asks for (LocalNode, with the
 *   state directory: the API, the CLI, the TUI, the tray). The controller answers while it runs;
 *   otherwise placement-state.json (the controller's persisted state) does, so a fenced
 *   container stays alone even when only the file is there.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JournalEntry } from './journal.js';

export const PLACEMENT_STATE_FILE = 'placement-state.json';

export type PlacementEntry = Pick<JournalEntry, 'reason'> & Partial<Pick<JournalEntry, 'container' | 'containerId' | 'ok' | 'error'>>;

type Writer = (entry: PlacementEntry) => void;

const writers = new Map<string, Writer>();
const waiting = new Map<string, PlacementEntry[]>();
/** What failover recorded when it fenced a container (core/placement/failover.ts, FailoverState.fenced). */
export interface FenceRecord {
  workload: string;
  replica?: number;
  /** When it was fenced (the controller's clock, ms). */
  atMs?: number;
  reason?: string;
}

const fenceSources = new Map<string, (containerId: string) => FenceRecord | null>();
/** Entries kept while no agent journals for a state directory (oldest dropped beyond it). */
const MAX_WAITING = 1000;

const key = (stateDir: string) => resolve(stateDir);

/** The rule agent offers its journal; what waited is written now. Returns the unlink. */
export function linkJournal(stateDir: string, write: Writer): () => void {
  const k = key(stateDir);
  writers.set(k, write);
  for (const e of waiting.get(k)?.splice(0) ?? []) write(e);
  waiting.delete(k);
  return () => {
    if (writers.get(k) === write) writers.delete(k);
  };
}

/** Journals a placement entry in the state directory's journal (kind `placement`), now or once the agent has it open. */
export function journalPlacement(stateDir: string, entry: PlacementEntry): void {
  const k = key(stateDir);
  const w = writers.get(k);
  if (w) return w(entry);
  const q = waiting.get(k) ?? [];
  q.push(entry);
  if (q.length > MAX_WAITING) q.shift();
  waiting.set(k, q);
}

/** The controller says which containers it fenced. Returns the unlink. */
export function linkFences(stateDir: string, isFenced: (containerId: string) => FenceRecord | null): () => void {
  const k = key(stateDir);
  fenceSources.set(k, isFenced);
  return () => {
    if (fenceSources.get(k) === isFenced) fenceSources.delete(k);
  };
}

let cache: { path: string; stamp: string; fences: Map<string, FenceRecord> } | null = null;

/** The containers fenced in the persisted state (read again only when the file changed). */
function fencedOnDisk(stateDir: string): Map<string, FenceRecord> {
  const path = join(stateDir, PLACEMENT_STATE_FILE);
  let stamp: string;
  try {
    const st = statSync(path);
    stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return new Map();
  }
  if (cache && cache.path === path && cache.stamp === stamp) return cache.fences;
  const fences = new Map<string, FenceRecord>();
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { failover?: { fenced?: Record<string, unknown> } };
    const fenced = doc.failover?.fenced;
    if (fenced && typeof fenced === 'object') {
      for (const [id, raw] of Object.entries(fenced)) fences.set(id, fenceRecord(id, raw));
    }
  } catch {
    // a damaged file fences nothing; the controller journals it when it starts
  }
  cache = { path, stamp, fences };
  return fences;
}

/** A fence as the file holds it, each field checked (a hand-edited file may hold anything). */
function fenceRecord(id: string, raw: unknown): FenceRecord {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const workload = typeof r.workload === 'string' && r.workload !== '' ? r.workload.slice(0, 63) : `container ${id.slice(0, 12)}`;
  return {
    workload,
    ...(typeof r.replica === 'number' && Number.isInteger(r.replica) ? { replica: r.replica } : {}),
    ...(typeof r.atMs === 'number' && Number.isFinite(r.atMs) ? { atMs: r.atMs } : {}),
    ...(typeof r.reason === 'string' ? { reason: r.reason.slice(0, 500) } : {}),
  };
}

/**
 * The one answer to "is this container fenced on this node?": what failover recorded when it fenced
 * it, or null. The running controller of this state directory answers; else its persisted state.
 */
export function fenceOf(stateDir: string, containerId: string): FenceRecord | null {
  const source = fenceSources.get(key(stateDir));
  if (source) return source(containerId);
  return fencedOnDisk(stateDir).get(containerId) ?? null;
}

/** A fence's workload as people read it: `web replica 0`. */
export function fenceLabel(fence: FenceRecord): string {
  return fence.replica === undefined ? fence.workload : `${fence.workload} replica ${fence.replica}`;
}

/** Whether failover fenced this container: the rule engine must not start or restart it. */
export function isFencedContainer(stateDir: string, containerId: string): boolean {
  return fenceOf(stateDir, containerId) !== null;
}

const movers = new Map<string, (containerId: string) => Promise<string>>();

/** The controller offers to move placed containers (the rules' `move` action). Returns the unlink. */
export function linkMover(stateDir: string, move: (containerId: string) => Promise<string>): () => void {
  const k = key(stateDir);
  movers.set(k, move);
  return () => {
    if (movers.get(k) === move) movers.delete(k);
  };
}

/** The rules' `move`: through the controller of this state directory; refused with what to do when none runs. */
export function moveContainer(stateDir: string, containerId: string): Promise<string> {
  const move = movers.get(key(stateDir));
  if (!move) return Promise.reject(new Error('move needs the placement engine: run `outpost agent --listen` with peers and placement.yaml (`outpost docs placement`)'));
  return move(containerId);
}
