/**
 * The link between the failover controller (core/placement/controller.ts, started with the API)
 * and the rule agent of the same `outpost agent` process, by state directory:
 *
 * - the controller journals into the rule agent's journal (one writer per journal: the agent
 *   holds it); entries written before the agent has opened its journal wait here and are
 *   written when it has;
 * - the rule agent asks whether a container is fenced before it acts on it. The controller
 *   answers while it runs; otherwise placement-state.json (the controller's persisted state)
 *   does, so a fenced container stays alone even when only the file is there.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JournalEntry } from './journal.js';

export const PLACEMENT_STATE_FILE = 'placement-state.json';

export type PlacementEntry = Pick<JournalEntry, 'reason'> & Partial<Pick<JournalEntry, 'container' | 'containerId' | 'ok' | 'error'>>;

type Writer = (entry: PlacementEntry) => void;

const writers = new Map<string, Writer>();
const waiting = new Map<string, PlacementEntry[]>();
const fenceSources = new Map<string, (containerId: string) => boolean>();
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
export function linkFences(stateDir: string, isFenced: (containerId: string) => boolean): () => void {
  const k = key(stateDir);
  fenceSources.set(k, isFenced);
  return () => {
    if (fenceSources.get(k) === isFenced) fenceSources.delete(k);
  };
}

let cache: { path: string; stamp: string; ids: Set<string> } | null = null;

/** The containers fenced in the persisted state (read again only when the file changed). */
function fencedOnDisk(stateDir: string): Set<string> {
  const path = join(stateDir, PLACEMENT_STATE_FILE);
  let stamp: string;
  try {
    const st = statSync(path);
    stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return new Set();
  }
  if (cache && cache.path === path && cache.stamp === stamp) return cache.ids;
  let ids = new Set<string>();
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { failover?: { fenced?: Record<string, unknown> } };
    ids = new Set(Object.keys(doc.failover?.fenced ?? {}));
  } catch {
    // a damaged file fences nothing; the controller journals it when it starts
  }
  cache = { path, stamp, ids };
  return ids;
}

/** Whether failover fenced this container: the rule engine must not start or restart it. */
export function isFencedContainer(stateDir: string, containerId: string): boolean {
  const source = fenceSources.get(key(stateDir));
  if (source) return source(containerId);
  return fencedOnDisk(stateDir).has(containerId);
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
