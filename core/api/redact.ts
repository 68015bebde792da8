/**
 * What a viewer must not read: secrets ride in places a read-only token can
 * see. A placed container carries its whole workload spec in a label
 * (`outpost.workload.spec`), env values included, and that label reached
 * viewers through the list, the model and the events. A viewer gets the
 * label's place, not its text; operators and admins (who may exec into the
 * container and read its environment anyway) get it whole.
 */
import type { ContainerEvent, ContainerSummary, ModelChange } from '../model/types.js';
import { LABEL_SPEC } from '../placement/copies.js';

export const HIDDEN_FROM_VIEWERS = '(hidden from viewers: the workload spec holds its environment values)';

function labels(l: Record<string, string>): Record<string, string> {
  return LABEL_SPEC in l ? { ...l, [LABEL_SPEC]: HIDDEN_FROM_VIEWERS } : l;
}

export function summaryForViewer<T extends ContainerSummary>(c: T): T {
  return LABEL_SPEC in c.labels ? { ...c, labels: labels(c.labels) } : c;
}

export function changeForViewer(change: ModelChange): ModelChange {
  switch (change.kind) {
    case 'reset':
      return { ...change, containers: change.containers.map(summaryForViewer) };
    case 'upsert':
      return { ...change, container: summaryForViewer(change.container) };
    case 'remove':
      return change;
  }
}

/** The engine's event attributes carry the container's labels. */
export function eventForViewer(e: ContainerEvent): ContainerEvent {
  return e.attributes && LABEL_SPEC in e.attributes ? { ...e, attributes: labels(e.attributes) } : e;
}
