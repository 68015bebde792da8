import { useCallback, useRef, useState } from 'react';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import type { ContainerAction } from './state.js';

const progressWords: Record<ContainerAction, [string, string]> = {
  restart: ['restarting', 'restarted'],
  stop: ['stopping', 'stopped'],
  start: ['starting', 'started'],
  kill: ['killing', 'killed'],
  pause: ['pausing', 'paused'],
  unpause: ['unpausing', 'unpaused'],
  remove: ['removing', 'removed'],
};

export type Say = (text: string, kind?: 'info' | 'error') => void;

/**
 * Runs container actions, each on the container's own node (`nodeOf`), one after the other: each is
 * marked busy ("restarting…") in the list while its request runs, and the
 * outcome is said on the status line.
 */
export function useContainerActions(nodeOf: (c: ContainerSummary) => Node | null, say: Say): { busy: ReadonlyMap<string, string>; run: (action: ContainerAction, targets: ContainerSummary[]) => Promise<void> } {
  const [busy, setBusy] = useState<ReadonlyMap<string, string>>(new Map());
  const resolve = useRef(nodeOf);
  resolve.current = nodeOf;
  const run = useCallback(
    async (action: ContainerAction, targets: ContainerSummary[]) => {
      for (const c of targets) {
        const node = resolve.current(c);
        if (!node) {
          say(`${action} ${c.name} failed: its node ${c.node} is no longer in the fleet`, 'error');
          continue;
        }
        const [doing, done] = progressWords[action];
        setBusy((b) => new Map(b).set(c.id, `${doing}…`));
        say(`${doing} ${c.name}…`);
        try {
          switch (action) {
            case 'remove':
              await node.remove(c.id, { force: true });
              break;
            case 'restart':
              await node.restart(c.id);
              break;
            case 'stop':
              await node.stop(c.id);
              break;
            default:
              await node[action](c.id);
          }
          say(`${done} ${c.name}`);
        } catch (err) {
          say(`${action} ${c.name} failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
        } finally {
          setBusy((b) => {
            const next = new Map(b);
            next.delete(c.id);
            return next;
          });
        }
      }
    },
    [say],
  );
  return { busy, run };
}
