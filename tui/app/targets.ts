/**
 * Which containers an action is for, and whether it applies to them. Pure.
 *
 * - The marked containers (space) are the targets of every container action
 *   (r, s, p, K, d, enter, and palette actions given no name), after one
 *   question that lists them; with nothing marked, the selected one is.
 * - A palette name is looked up on the nodes shown: a name that runs on
 *   several of them is refused with the list (`node/name` chooses).
 * - An action that cannot apply to a container's state (start or shell on a
 *   paused one) is said as such, with what to do, before the engine is asked.
 */
import type { ContainerSummary } from '../../core/model/types.js';
import { containerRef, rowKey, type ContainerAction } from '../presentation/container-ref.js';

/** A mark's key: the row's (node and ID). */
export const markKey = rowKey;

/** The marked containers that are still there, in the order given. */
export function markedIn(all: readonly ContainerSummary[], marked: ReadonlySet<string>): ContainerSummary[] {
  return marked.size === 0 ? [] : all.filter((c) => marked.has(markKey(c)));
}

export type Found = { kind: 'one'; container: ContainerSummary } | { kind: 'refused'; message: string };

/**
 * The container a palette argument names among `all`: `name`, `node/name`,
 * an ID prefix or `node/ID-prefix`. Several matches are refused, each named,
 * with how to choose (`example` is the command to show, e.g. `:restart`).
 */
export function findByRef(ref: string, all: readonly ContainerSummary[], example: string): Found {
  const slash = ref.lastIndexOf('/');
  const node = slash > 0 ? ref.slice(0, slash) : null;
  const key = slash > 0 ? ref.slice(slash + 1) : ref;
  const pool = node === null ? all : all.filter((c) => c.node === node);
  const byName = pool.filter((c) => c.name === key);
  const matches = byName.length > 0 ? byName : key ? pool.filter((c) => c.id.startsWith(key)) : [];
  const [first] = matches;
  if (!first) return { kind: 'refused', message: `no container \`${ref}\`` };
  if (matches.length === 1) return { kind: 'one', container: first };
  const nodes = new Set(matches.map((c) => c.node)).size;
  const what = byName.length > 0 ? `\`${key}\` runs on ${nodes} nodes` : `\`${key}\` starts ${matches.length} container IDs`;
  return { kind: 'refused', message: `${what}: ${matches.map(containerRef).join(', ')}; say which, e.g. \`${example} ${containerRef(first)}\`` };
}

/** Why `action` does not apply to `c` as it is now (null: it applies), with what to do instead. */
export function refusal(action: ContainerAction | 'shell', c: ContainerSummary): string | null {
  const ref = containerRef(c);
  switch (action) {
    case 'shell':
      if (c.state === 'paused') return `${ref} is paused: p unpauses it, then e opens a shell`;
      // A restarting container is between two runs of a crash loop: `s` would stop it, not start it.
      if (c.state === 'restarting') return `${ref} is restarting (its restart policy brings it back; a crash loop never stays up): press e again once it runs, or read its logs with l`;
      return c.state === 'running' ? null : `${ref} is not running (${c.state}): s starts it`;
    case 'start':
      if (c.state === 'running') return `${ref} is running already: r (or :restart ${ref}) restarts it`;
      return c.state === 'paused' ? `${ref} is paused, not stopped: p (or :unpause ${ref}) unpauses it` : null;
    case 'pause':
      if (c.state === 'paused') return `${ref} is paused already: p (or :unpause ${ref}) unpauses it`;
      return c.state === 'running' ? null : `${ref} is not running (${c.state}): nothing to pause`;
    case 'unpause':
      return c.state === 'paused' ? null : `${ref} is not paused`;
    default:
      return null;
  }
}

const runs = (c: ContainerSummary) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused';

/**
 * What `s` does: stop what runs (a paused container runs: it is stopped, as
 * start would fail on it), start what does not. With several (the marks):
 * stop those that run, or, when none runs, start them all.
 */
export function stopOrStart(targets: readonly ContainerSummary[]): { action: 'stop' | 'start'; targets: ContainerSummary[] } {
  const running = targets.filter(runs);
  return running.length > 0 ? { action: 'stop', targets: running } : { action: 'start', targets: [...targets] };
}

/** What `p` does: pause those that run unpaused, or, when none does, unpause the paused ones. */
export function pauseOrUnpause(targets: readonly ContainerSummary[]): { action: 'pause' | 'unpause'; targets: ContainerSummary[] } {
  const running = targets.filter((c) => c.state === 'running');
  const paused = targets.filter((c) => c.state === 'paused');
  if (running.length > 0) return { action: 'pause', targets: running };
  if (paused.length > 0) return { action: 'unpause', targets: paused };
  // Neither: `refusal` says why there is nothing to pause.
  return { action: 'pause', targets: [...targets] };
}
