import { useCallback, useState } from 'react';
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
 * Runs container actions on a node, one container after the other: each is
 * marked busy ("restarting…") in the list while its request runs, and the
 * outcome is said on the status line.
 */
export function useContainerActions(node: Node | null, say: Say): { busy: ReadonlyMap<string, string>; run: (action: ContainerAction, targets: ContainerSummary[]) => Promise<void> } {
  const [busy, setBusy] = useState<ReadonlyMap<string, string>>(new Map());
  const run = useCallback(
    async (action: ContainerAction, targets: ContainerSummary[]) => {
      if (!node) return;
      for (const c of targets) {
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
    [node, say],
  );
  return { busy, run };
}
