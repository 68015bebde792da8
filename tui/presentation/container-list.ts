import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { compileSearch, matches } from '../logs/search.js';

export type SortKey = 'name' | 'state' | 'cpu' | 'memory' | 'uptime';
export const SORT_KEYS: readonly SortKey[] = ['name', 'state', 'cpu', 'memory', 'uptime'];

/** A line of the list: a compose project heading or a container. */
export type ListRow =
  | { kind: 'group'; project: string; count: number; running: number; loose?: boolean }
  | { kind: 'container'; container: ContainerSummary; grouped: boolean };

const stateOrder: Record<ContainerSummary['state'], number> = {
  restarting: 0,
  dead: 1,
  exited: 2,
  created: 3,
  paused: 4,
  removing: 5,
  running: 6,
};

/** Keeps containers whose name, image, project or state match the filter (substring, or /regex/). */
export function filterContainers(list: readonly ContainerSummary[], filter: string): ContainerSummary[] {
  let re: RegExp | null;
  try {
    // `/we` while typing `/web/`: treat the unclosed regex as if it were closed.
    const text = filter.trim();
    re = compileSearch(text.length > 1 && text.startsWith('/') && !/\/[imsu]*$/.test(text.slice(1)) ? `${text}/` : text);
  } catch {
    // A half-typed regex filters nothing out rather than hiding everything.
    return [...list];
  }
  if (!re) return [...list];
  const r = re;
  return list.filter((c) => [c.name, c.image, c.composeProject ?? '', c.state, c.health].some((f) => matches(f, r)));
}

export function sortContainers(list: ContainerSummary[], key: SortKey, stats: ReadonlyMap<string, ContainerStats>): ContainerSummary[] {
  const by = (c: ContainerSummary): number | string => {
    switch (key) {
      case 'name':
        return c.name;
      case 'state':
        return stateOrder[c.state] * 10 + (c.health === 'unhealthy' ? 0 : 1);
      case 'cpu':
        return -(stats.get(c.id)?.cpuPercent ?? -1);
      case 'memory':
        return -(stats.get(c.id)?.memoryBytes ?? -1);
      case 'uptime':
        return -(c.startedAt ?? 0);
    }
  };
  return [...list].sort((a, b) => {
    const x = by(a);
    const y = by(b);
    if (x < y) return -1;
    if (x > y) return 1;
    return a.name.localeCompare(b.name);
  });
}

/**
 * Rows of the list: containers of a compose project under its heading
 * (projects by name), then the containers of no project (under a heading of
 * their own when there are projects).
 */
export function listRows(list: readonly ContainerSummary[]): ListRow[] {
  const groups = new Map<string, ContainerSummary[]>();
  const loose: ContainerSummary[] = [];
  for (const c of list) {
    if (c.composeProject) {
      const g = groups.get(c.composeProject) ?? [];
      g.push(c);
      groups.set(c.composeProject, g);
    } else loose.push(c);
  }
  const rows: ListRow[] = [];
  for (const project of [...groups.keys()].sort()) {
    const members = groups.get(project) as ContainerSummary[];
    rows.push({ kind: 'group', project, count: members.length, running: members.filter((c) => c.state === 'running').length });
    for (const c of members) rows.push({ kind: 'container', container: c, grouped: true });
  }
  // Containers of no project get a heading of their own once there are projects: indented under
  // the last project, they would read as its members.
  if (groups.size > 0 && loose.length > 0) {
    rows.push({ kind: 'group', project: '', count: loose.length, running: loose.filter((c) => c.state === 'running').length, loose: true });
  }
  for (const c of loose) rows.push({ kind: 'container', container: c, grouped: groups.size > 0 });
  return rows;
}

/** The text of a heading row. */
export function groupLine(row: Extract<ListRow, { kind: 'group' }>, projectName: (p: string) => string): string {
  return `▾ ${row.loose ? 'no compose project' : projectName(row.project)}  ${row.running}/${row.count} running`;
}

/**
 * The first row to draw so that `selected` stays visible in `height` rows,
 * moving the window as little as possible from `previousTop`.
 */
export function windowTop(selected: number, height: number, total: number, previousTop: number): number {
  if (height <= 0 || total <= height) return 0;
  let top = Math.min(Math.max(0, previousTop), total - height);
  if (selected < top) top = selected;
  else if (selected >= top + height) top = selected - height + 1;
  return Math.max(0, Math.min(top, total - height));
}
