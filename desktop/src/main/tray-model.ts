/**
 * The tray as data: the icon's state and tooltip, and the menu, as pure
 * functions of the fleet's state. The Electron shell only turns these into
 * a Tray and a Menu; everything here is tested without Electron.
 */
import type { ContainerSummary } from '../../../core/model/types.js';
import type { ContainerAction, FleetState, NodeState } from '../shared/ipc.js';

/**
 * Worst state across the fleet, best first: all running; something
 * unhealthy or restarting; something down (exited with an error, dead) or a
 * peer unreachable; the local engine unreachable.
 */
export type Severity = 'ok' | 'degraded' | 'down' | 'unreachable';
const ORDER: Severity[] = ['ok', 'degraded', 'down', 'unreachable'];

function containerSeverity(c: ContainerSummary): Severity {
  if (c.state === 'running') return c.health === 'unhealthy' ? 'degraded' : 'ok';
  if (c.state === 'restarting') return 'degraded';
  if (c.state === 'dead') return 'down';
  if (c.state === 'exited') return c.exitCode !== null && c.exitCode !== 0 ? 'down' : 'ok';
  return 'ok'; // created, paused (on purpose), removing
}

const worse = (a: Severity, b: Severity): Severity => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

export interface TrayLook {
  severity: Severity;
  /** One line per problem, most severe first (the tooltip), capped for the platforms' limits. */
  tooltip: string;
}

export function trayLook(state: FleetState): TrayLook {
  let severity: Severity = 'ok';
  const problems: { s: Severity; text: string }[] = [];
  for (const n of state.nodes) {
    if (n.status.state !== 'online') {
      // This machine's engine unreachable is the worst; a peer unreachable is a node down.
      const s: Severity = n.isThisMachine ? 'unreachable' : 'down';
      severity = worse(severity, s);
      problems.push({ s, text: n.status.state === 'offline' ? `${n.name}: unreachable (${n.status.reason})` : `${n.name}: connecting` });
      continue;
    }
    for (const c of n.containers) {
      const s = containerSeverity(c);
      if (s === 'ok') continue;
      severity = worse(severity, s);
      const what = c.state === 'running' ? 'unhealthy' : c.state === 'exited' ? `exited (${c.exitCode})` : c.state;
      problems.push({ s, text: `${n.name}/${c.name}: ${what}` });
    }
  }
  const running = state.nodes.reduce((sum, n) => sum + n.containers.filter((c) => c.state === 'running').length, 0);
  const total = state.nodes.reduce((sum, n) => sum + n.containers.length, 0);
  problems.sort((a, b) => ORDER.indexOf(b.s) - ORDER.indexOf(a.s));
  const head = severity === 'ok' ? `Outpost: all well (${running}/${total} running)` : `Outpost: ${problems.length} problem${problems.length === 1 ? '' : 's'} (${running}/${total} running)`;
  const lines = problems.slice(0, 5).map((p) => p.text);
  if (problems.length > 5) lines.push(`… and ${problems.length - 5} more`);
  // Windows cuts tooltips at 127 characters; keep whole lines under it.
  let tooltip = head;
  for (const l of lines) {
    if (tooltip.length + 1 + l.length > 127) break;
    tooltip += `\n${l}`;
  }
  return { severity, tooltip };
}

export type MenuAction =
  | { kind: 'container'; node: string; id: string; name: string; action: ContainerAction }
  | { kind: 'logs'; node: string; id: string; name: string }
  | { kind: 'dashboard'; node?: string; container?: string }
  | { kind: 'settings' }
  | { kind: 'pause-rules'; node: string; paused: boolean }
  | { kind: 'quit' };

export interface MenuItem {
  label: string;
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox';
  enabled?: boolean;
  checked?: boolean;
  submenu?: MenuItem[];
  action?: MenuAction;
}

/** Containers per submenu page: long menus become pages so a 200-container node stays usable. */
export const PAGE = 25;

/** Menu labels are plain text: `&` would be taken as a mnemonic on Windows and Linux. */
export function menuText(s: string, max = 60): string {
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const short = clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
  return short.replace(/&/g, '&&');
}

function stateWord(c: ContainerSummary): string {
  if (c.state === 'running') return c.health === 'none' ? 'running' : `running, ${c.health}`;
  if (c.state === 'exited') return `exited (${c.exitCode ?? '?'})`;
  return c.state;
}

function mark(c: ContainerSummary): string {
  const s = containerSeverity(c);
  return s === 'ok' ? (c.state === 'running' ? '●' : '○') : s === 'degraded' ? '◐' : '✕';
}

function containerItem(n: NodeState, c: ContainerSummary, online: boolean): MenuItem {
  const running = c.state === 'running' || c.state === 'restarting';
  const act = (action: ContainerAction): MenuAction => ({ kind: 'container', node: n.name, id: c.id, name: c.name, action });
  return {
    label: menuText(`${mark(c)} ${c.name} — ${stateWord(c)}`),
    type: 'submenu',
    submenu: [
      { label: 'Start', enabled: online && !running && c.state !== 'paused', action: act('start') },
      { label: 'Stop', enabled: online && running, action: act('stop') },
      { label: 'Restart', enabled: online, action: act('restart') },
      { label: 'Show logs', enabled: online, action: { kind: 'logs', node: n.name, id: c.id, name: c.name } },
    ],
  };
}

/** Problems first (so they are at the top of long lists), then by name. */
function ordered(containers: ContainerSummary[]): ContainerSummary[] {
  return [...containers].sort((a, b) => ORDER.indexOf(containerSeverity(b)) - ORDER.indexOf(containerSeverity(a)) || a.name.localeCompare(b.name));
}

function nodeItems(n: NodeState): MenuItem[] {
  const online = n.status.state === 'online';
  const list = ordered(n.containers);
  if (!online) {
    const why = n.status.state === 'offline' ? n.status.reason : 'connecting…';
    return [{ label: menuText(`Unreachable: ${why}`, 80), enabled: false }, ...list.slice(0, PAGE).map((c) => ({ label: menuText(`${c.name} (last known: ${stateWord(c)})`), enabled: false }))];
  }
  if (list.length === 0) return [{ label: 'No containers', enabled: false }];
  if (list.length <= PAGE) return list.map((c) => containerItem(n, c, online));
  // Long lists: pages of PAGE, named by their first and last container.
  const pages: MenuItem[] = [];
  for (let i = 0; i < list.length; i += PAGE) {
    const page = list.slice(i, i + PAGE);
    const first = page[0] as ContainerSummary;
    const last = page[page.length - 1] as ContainerSummary;
    pages.push({ label: menuText(`${i + 1}–${i + page.length}: ${first.name} … ${last.name}`), type: 'submenu', submenu: page.map((c) => containerItem(n, c, online)) });
  }
  return pages;
}

/** The whole tray menu, rebuilt from the state whenever it changes. */
export function buildMenu(state: FleetState): MenuItem[] {
  const items: MenuItem[] = [];
  const look = trayLook(state);
  items.push({ label: menuText(look.tooltip.split('\n')[0] as string, 80), enabled: false });
  items.push({ label: '', type: 'separator' });
  for (const n of state.nodes) {
    const running = n.containers.filter((c) => c.state === 'running').length;
    const status = n.status.state === 'online' ? `${running}/${n.containers.length} running` : n.status.state === 'offline' ? 'unreachable' : 'connecting';
    const problem = n.agentProblems?.[0];
    const rules = n.agentRunning === false ? ', no rules agent' : problem !== undefined ? `, rules agent: ${problem}` : n.rulesPaused ? ', rules paused' : '';
    items.push({ label: menuText(`${n.name} — ${status}${rules}`, 80), type: 'submenu', submenu: nodeItems(n) });
  }
  items.push({ label: '', type: 'separator' });
  items.push({ label: 'Open dashboard', action: { kind: 'dashboard' } });
  items.push({ label: 'Settings', action: { kind: 'settings' } });
  // The pause item is for this machine's rules (each node's own state says which one it is).
  const local = state.nodes.find((x) => x.isThisMachine);
  if (local) {
    items.push({
      label: 'Pause rules on this node',
      type: 'checkbox',
      checked: local.rulesPaused,
      enabled: local.agentRunning !== null,
      action: { kind: 'pause-rules', node: local.name, paused: !local.rulesPaused },
    });
  }
  items.push({ label: '', type: 'separator' });
  items.push({ label: 'Quit Outpost', action: { kind: 'quit' } });
  return items;
}

/** Every action reachable in a menu (tests, and the shell's click dispatch). */
export function actionsOf(items: MenuItem[]): MenuAction[] {
  return items.flatMap((i) => [...(i.action ? [i.action] : []), ...actionsOf(i.submenu ?? [])]);
}

/** Icon file for a state: tray-<severity>[-dark].png, macOS template images, Windows .ico. */
export function iconFile(severity: Severity, platform: NodeJS.Platform, darkTheme: boolean): string {
  if (platform === 'darwin') return `tray-${severity}Template.png`;
  if (platform === 'win32') return `tray-${severity}.ico`;
  return `tray-${severity}${darkTheme ? '-dark' : ''}.png`;
}
