/**
 * Which container is selected, as the list changes under it. Pure.
 */
import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { filterContainers, listRows, sortContainers, type SortKey } from '../presentation/container-list.js';

/**
 * The selection: the selected container's ID and name, its place in the list
 * (when it goes, the neighbour in its place is selected, not the first row),
 * and the name of one that vanished while selected (when a container of that
 * name appears again, re-created with a new ID, before the person moves, the
 * selection follows it).
 */
export interface Selection {
  id: string | null;
  /** The node of the selected row (null: any): two peers on one engine list the same IDs. */
  node?: string | null;
  name: string | null;
  place: number;
  lost: string | null;
}

/** The containers as the list shows them: filtered, sorted, grouped by compose project. */
export function visibleList(all: readonly ContainerSummary[], filter: string, sort: SortKey, stats: ReadonlyMap<string, ContainerStats>): ContainerSummary[] {
  return listRows(sortContainers(filterContainers(all, filter), sort, stats)).flatMap((r) => (r.kind === 'container' ? [r.container] : []));
}

/** Whether `c` is the selected row: its ID, and its node when the selection knows it. */
export function isSelected(c: ContainerSummary, sel: Pick<Selection, 'id' | 'node'>): boolean {
  return c.id === sel.id && (sel.node == null || c.node === sel.node);
}

/** The selection on a list as it is now (see Selection). Idempotent. */
export function settle(sel: Selection, list: readonly ContainerSummary[]): Selection {
  let idx = list.findIndex((c) => isSelected(c, sel));
  let lost = sel.lost;
  if (idx < 0 && sel.id !== null && sel.name !== null) lost ??= sel.name;
  if (lost !== null) {
    const again = list.findIndex((c) => c.name === lost);
    if (again >= 0) {
      idx = again;
      lost = null;
    }
  }
  if (idx < 0 && list.length > 0) idx = Math.min(sel.place, list.length - 1);
  const c = list[idx];
  const next = c ? { id: c.id, node: c.node, name: c.name, place: idx, lost } : { ...sel, lost };
  return next.id === sel.id && (next.node ?? null) === (sel.node ?? null) && next.name === sel.name && next.place === sel.place && next.lost === sel.lost ? sel : next;
}
