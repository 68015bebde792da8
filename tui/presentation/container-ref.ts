/**
 * How the UI names a container when it says something of it: `node/name`.
 * Several nodes may each run a `web`; a status line, a question or a title
 * that said only `web` would not say which one was touched. Pure; the
 * caller makes the text inert where it is drawn.
 */
import type { ContainerState, ContainerSummary } from '../../core/model/types.js';

/** `gw-2/web`. */
export function containerRef(c: Pick<ContainerSummary, 'node' | 'name'>): string {
  return `${c.node}/${c.name}`;
}

/** A row's key (marks, busy marks): container IDs are unique on a node, not across nodes (two peers on one engine). */
export function rowKey(c: Pick<ContainerSummary, 'node' | 'id'>): string {
  return `${c.node}/${c.id}`;
}

/** The actions the UI runs on containers. */
export type ContainerAction = 'restart' | 'stop' | 'start' | 'kill' | 'pause' | 'unpause' | 'remove';

const VERB: Record<ContainerAction, string> = { restart: 'Restart', stop: 'Stop', start: 'Start', kill: 'Kill', pause: 'Pause', unpause: 'Unpause', remove: 'Remove' };

const runs = (s: ContainerState) => s === 'running' || s === 'paused' || s === 'restarting';

/**
 * The question asked before an action: one container (`Kill gw-2/web
 * (SIGKILL)? y/N`), or the marked ones, each named (`Restart 3 marked
 * containers: local/a, local/b, gw-2/c? y/N`).
 */
/**
 * The question after a node refused to start containers failover fenced there: its reason, then
 * the risk in plain words and the key that overrides (any other cancels).
 */
export function fenceQuestion(action: ContainerAction, targets: readonly Pick<ContainerSummary, 'node' | 'name'>[], reason: string): string {
  const what = targets.length === 1 ? containerRef(targets[0] as Pick<ContainerSummary, 'node' | 'name'>) : `${targets.length} fenced containers (${targets.map(containerRef).join(', ')})`;
  return `${reason}\n${VERB[action]} ${what} anyway? It may run twice if a replacement runs on another node. Press y to ${action} anyway, any other key to cancel.`;
}

export function confirmQuestion(action: ContainerAction, targets: readonly Pick<ContainerSummary, 'node' | 'name' | 'state'>[], marked: boolean): string {
  const running = targets.filter((c) => runs(c.state)).length;
  const note = action === 'kill' ? ' (SIGKILL)' : action === 'remove' && running > 0 ? (targets.length === 1 ? ' (running: it will be killed)' : ` (${running} running: killed first)`) : '';
  if (targets.length === 1 && !marked) return `${VERB[action]} ${containerRef(targets[0] as Pick<ContainerSummary, 'node' | 'name'>)}${note}? y/N`;
  const what = `${targets.length} marked container${targets.length === 1 ? '' : 's'}`;
  return `${VERB[action]} ${what}${note}: ${targets.map(containerRef).join(', ')}? y/N`;
}
