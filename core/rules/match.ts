import picomatch from 'picomatch';
import type { ContainerSummary } from '../model/types.js';
import type { Match, Rule } from './types.js';

const cache = new Map<string, (s: string) => boolean>();

function glob(pattern: string): (s: string) => boolean {
  let fn = cache.get(pattern);
  if (!fn) {
    // Container names and image references are not paths: `*` crosses `/` (`*/nginx*` and `nginx*` both work).
    fn = picomatch(pattern, { dot: true, bash: true, nocase: false });
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, fn);
  }
  return fn;
}

export type Matchable = Pick<ContainerSummary, 'id' | 'name' | 'image' | 'labels' | 'composeProject'>;

/** Whether a rule's `match` selects a container (every given criterion must hold; an empty match selects all). */
export function matches(match: Match, c: Matchable): boolean {
  if (match.containerId !== undefined && match.containerId !== c.id) return false;
  if (match.names.length > 0 && !match.names.some((p) => glob(p)(c.name))) return false;
  if (match.images.length > 0 && !match.images.some((p) => glob(p)(c.image))) return false;
  if (match.projects.length > 0 && (c.composeProject === null || !match.projects.includes(c.composeProject))) return false;
  for (const l of match.labels) {
    const v = c.labels[l.key];
    if (v === undefined || (l.value !== undefined && v !== l.value)) return false;
  }
  return true;
}

/**
 * Precedence when several rules fire on one container for one input:
 * higher `priority` first; on a tie a container's own label rule before the
 * rules file; then the file's order.
 */
export function byPrecedence(a: Rule, b: Rule): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const la = a.source.kind === 'labels' ? 0 : 1;
  const lb = b.source.kind === 'labels' ? 0 : 1;
  if (la !== lb) return la - lb;
  const ia = a.source.kind === 'file' ? a.source.index : 0;
  const ib = b.source.kind === 'file' ? b.source.index : 0;
  return ia - ib;
}
