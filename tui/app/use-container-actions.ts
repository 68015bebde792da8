import { useCallback, useRef, useState } from 'react';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { containerRef, rowKey, type ContainerAction } from '../presentation/container-ref.js';
import { mapLimit } from '../../core/shared/map-limit.js';
import { failureText } from './updated.js';
import { FencedError } from '../../core/model/errors.js';

/** The node's refusal of a fenced container (a peer's arrives rebuilt as the same class). */
function isFenced(err: unknown): boolean {
  return err instanceof FencedError || (err as { code?: unknown } | null)?.code === FencedError.code;
}

/** Targets of one action on marked containers acted on at once (as `outpost stop a b`). */
const MULTI_TARGET_CONCURRENCY = 8;

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
 * What the status line says when a run of `action` over `targets` ended:
 * one container, or, for several (the marks), each of them, and which failed.
 * Every container is named with its node (`gw-2/web`).
 */
export function outcomeText(action: ContainerAction, done: readonly ContainerSummary[], failed: readonly { c: ContainerSummary; error: string }[]): { text: string; kind: 'info' | 'error' } {
  const past = progressWords[action][1];
  const total = done.length + failed.length;
  if (failed.length === 0) return { text: total === 1 ? `${past} ${containerRef(done[0] as ContainerSummary)}` : `${past} ${total}: ${done.map(containerRef).join(', ')}`, kind: 'info' };
  const why = failed.map((f) => `${action} ${containerRef(f.c)} failed: ${f.error}`).join('; ');
  return { text: done.length === 0 ? why : `${past} ${done.length} of ${total} (${done.map(containerRef).join(', ')}); ${why}`, kind: 'error' };
}

/**
 * Runs container actions, each on the container's own node (`nodeOf`), one after the other: each is
 * marked busy ("restarting…") in the list while its request runs, and the
 * outcome is said on the status line, each container named with its node.
 */
export function useContainerActions(
  nodeOf: (c: ContainerSummary) => Node | null,
  say: Say,
  /** Called with the targets a node refused because failover fenced them (FencedError): the app asks whether to override. */
  onFenced?: (action: ContainerAction, targets: ContainerSummary[], reason: string) => void,
): { busy: ReadonlyMap<string, string>; run: (action: ContainerAction, targets: ContainerSummary[], options?: { overrideFence?: boolean }) => Promise<void> } {
  const [busy, setBusy] = useState<ReadonlyMap<string, string>>(new Map());
  const resolve = useRef(nodeOf);
  resolve.current = nodeOf;
  const fencedTo = useRef(onFenced);
  fencedTo.current = onFenced;
  const run = useCallback(
    async (action: ContainerAction, targets: ContainerSummary[], options: { overrideFence?: boolean } = {}) => {
      const done: ContainerSummary[] = [];
      const failed: { c: ContainerSummary; error: string }[] = [];
      const fenced: { c: ContainerSummary; error: string }[] = [];
      const override = options.overrideFence === true ? { overrideFence: true } : {};
      const [doing] = progressWords[action];
      if (targets.length > 1) say(`${doing} ${targets.length} containers: ${targets.map(containerRef).join(', ')}…`);
      // Side by side, as `outpost stop a b` does (two marked restarts took 20 s one after the other).
      await mapLimit(targets, MULTI_TARGET_CONCURRENCY, async (c) => {
        const node = resolve.current(c);
        if (!node) {
          failed.push({ c, error: `its node ${c.node} is no longer in the fleet` });
          return;
        }
        setBusy((b) => new Map(b).set(rowKey(c), `${doing}…`));
        if (targets.length === 1) say(`${doing} ${containerRef(c)}…`);
        try {
          switch (action) {
            case 'remove':
              await node.remove(c.id, { force: true });
              break;
            case 'restart':
              await node.restart(c.id, override);
              break;
            case 'start':
              await node.start(c.id, override);
              break;
            case 'stop':
              await node.stop(c.id);
              break;
            default:
              await node[action](c.id);
          }
          done.push(c);
        } catch (err) {
          // Fenced by failover: not a failure to report but a question to ask (the risk named, y overrides).
          (isFenced(err) && fencedTo.current ? fenced : failed).push({ c, error: failureText(err) });
        } finally {
          setBusy((b) => {
            const next = new Map(b);
            next.delete(rowKey(c));
            return next;
          });
        }
      });
      // In the order they were asked, whatever order they finished in.
      const order = new Map(targets.map((c, i) => [rowKey(c), i]));
      const byOrder = (a: ContainerSummary, b: ContainerSummary) => (order.get(rowKey(a)) ?? 0) - (order.get(rowKey(b)) ?? 0);
      done.sort(byOrder);
      failed.sort((a, b) => byOrder(a.c, b.c));
      fenced.sort((a, b) => byOrder(a.c, b.c));
      if (done.length + failed.length > 0) {
        const out = outcomeText(action, done, failed);
        say(out.text, out.kind);
      }
      if (fenced.length > 0) fencedTo.current?.(action, fenced.map((f) => f.c), (fenced[0] as { error: string }).error);
    },
    [say],
  );
  return { busy, run };
}
