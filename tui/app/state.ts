/**
 * Why this file is ~560 lines: one reducer over one state; every view's
 * transitions (main, prompts, confirm, help, journal, nodes) are cases of the
 * same switch and share its helpers; the key table is keymap.ts.
 *
 * The TUI's state and its transitions: one pure reducer, `reduce(state,
 * event)` → the next state and the effects to run (an engine call, opening
 * logs, quitting). The hooks run the effects; nothing here touches Ink,
 * React, the engine or a timer, so every transition is tested without them
 * (test/unit/tui-state.test.ts).
 *
 * Keys are looked up in the key table (keymap.ts). A key event carries the
 * context it was pressed in (the fleet's snapshot, the screen size, …), so
 * keys that arrive in one read (`/db⏎⏎`) each act on the state the previous
 * one left: the store applies them one after the other, synchronously.
 */
import type { Key } from 'ink';
import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { SORT_KEYS, type SortKey } from '../presentation/container-list.js';
import { mainHeights } from '../presentation/main-layout.js';
import { editLine } from './line-edit.js';
import { isSelected, settle, visibleList, type Selection } from './selection.js';
import { findByRef, markedIn, markKey, pauseOrUnpause, refusal, stopOrStart } from './targets.js';
import { containerRef, type ContainerAction } from '../presentation/container-ref.js';

export { settle, visibleList, markKey, type Selection, type ContainerAction };
import { helpLines, helpRoom, lookupGlobal, lookupKey, parsePalette, type Hit, type HelpView } from './keymap.js';

export type Mode = 'main' | 'filter' | 'palette' | 'confirm' | 'placement' | 'help' | 'logs' | 'journal' | 'suspended';
export type DetailTab = 'logs' | 'stats' | 'inspect' | 'rules';
export const DETAIL_TABS: readonly DetailTab[] = ['logs', 'stats', 'inspect', 'rules'];

export interface Message {
  text: string;
  kind: 'info' | 'error';
  /** Shown whole, over several rows (preferences problems); any other message takes one row. */
  full?: boolean;
  /** When it was said (ms): an action's result is held `HOLD_MS` before a notice replaces it. */
  at?: number;
  /** A rule's notice: `base` its text, `count` how many of them it stands for (the others: "+N more: J"). */
  notice?: { base: string; count: number };
}

/** How long an action's result stays on the status line before a rule's notice may replace it. */
export const HOLD_MS = 3000;

function noticeMessage(base: string, count: number, kind: Message['kind'], at: number): Message {
  return { text: `${base}${count > 1 ? ` (+${count - 1} more: J)` : ''}`, kind, at, notice: { base, count } };
}

/**
 * A start or restart the node refused because placement failover fenced the containers there
 * (FencedError): the question names the risk, and `y` sends the same action with the override.
 */
export interface FenceQuestion {
  /** The node's refusal (which workload, why it was fenced, that a replacement may run elsewhere). */
  reason: string;
}

export interface UiState {
  mode: Mode;
  /** The text of the filter or palette prompt. */
  typed: string;
  helpFor: HelpView;
  helpTop: number;
  /** The node shown when `allNodes` is off (or there is only one). */
  nodeIndex: number;
  /** Every node's containers in one list (with a node column); `n` goes from it to each node and back. */
  allNodes: boolean;
  sel: Selection;
  filter: string;
  sort: SortKey;
  /** The marked containers, by `markKey` (node and ID): the targets of the next action. */
  marked: ReadonlySet<string>;
  tab: DetailTab;
  message: Message | null;
  /** A notice that came while an action's result was held: shown when the hold ends (a `tick`). */
  pending: Message | null;
  /** The question before an action; `marked`: its targets are the marks (each named in the question). */
  confirm: { action: ContainerAction; targets: ContainerSummary[]; marked?: boolean; fence?: FenceQuestion } | null;
  /** The placement dialog: the table of every node's verdict, and whether `y` runs it (`planning`: the table is on its way). */
  placement: { title: string; lines: string[]; canRun: boolean; planning: boolean } | null;
  /** Whether a logs view is open (under its help, too). */
  logsOpen: boolean;
  journal: { back: number; only: string | null; detail: boolean };
}

export const initialState: UiState = {
  mode: 'main',
  typed: '',
  helpFor: 'main',
  helpTop: 0,
  nodeIndex: 0,
  allNodes: true,
  sel: { id: null, name: null, place: 0, lost: null },
  filter: '',
  sort: 'name',
  marked: new Set(),
  tab: 'logs',
  message: null,
  pending: null,
  confirm: null,
  placement: null,
  logsOpen: false,
  journal: { back: 0, only: null, detail: false },
};

/** A node as the reducer needs it. */
export interface NodeFacts {
  name: string;
  /** Whether its rule engine can be reached (node.rules is not null). */
  rules: boolean;
  /** This machine's node (`local` names it on input, whatever its fleet name). */
  thisMachine?: boolean;
}

/** What a key is pressed in: read when it is pressed, not when the screen was last drawn. */
export interface KeyContext {
  nodes: readonly NodeFacts[];
  /** Each node's containers, by node name (the fleet's snapshot). */
  containers: (node: string) => readonly ContainerSummary[];
  stats: ReadonlyMap<string, ContainerStats>;
  readOnly: boolean;
  /** Kill asks first unless the preferences say `confirmKill: false`. */
  confirmKill: boolean;
  width: number;
  height: number;
  /** Entries the journal view holds. */
  journalCount: number;
  /** The container of each journal entry, oldest first ('' for one of no container): `c` keeps to the selected entry's. */
  journalContainers?: readonly string[];
}

export type Effect =
  | { kind: 'exit' }
  | { kind: 'redraw' }
  /** `overrideFence`: start even what failover fenced (asked first, the risk named). */
  | { kind: 'run'; action: ContainerAction; targets: ContainerSummary[]; overrideFence?: boolean }
  | { kind: 'open-logs'; targets: ContainerSummary[] }
  /** A key for the logs screen (it has its own handler). */
  | { kind: 'logs-key'; input: string; key: Key }
  | { kind: 'exec'; container: ContainerSummary }
  | { kind: 'rules-reset'; container: string; node: string }
  | { kind: 'rules-pause'; container: string; node: string }
  /** Work out the placement table (the app holds the plan; `planned` brings the table). */
  | { kind: 'place-plan'; file: string }
  | { kind: 'move-plan'; container: ContainerSummary }
  | { kind: 'place-run' };

export type UiEvent =
  | { type: 'key'; input: string; key: Key; ctx: KeyContext }
  /** The list changed (a snapshot): the selection settles on it. */
  | { type: 'sync'; ctx: KeyContext }
  | { type: 'say'; text: string; kind?: Message['kind']; full?: boolean; at?: number }
  /** A rule's notice (`count` of them in one batch, the newest's text): it waits for a held result, and identical ones add up. */
  | { type: 'notice'; text: string; count: number; kind?: Message['kind']; at: number }
  /** Time passed: a pending notice is shown once the result before it was held long enough. */
  | { type: 'tick'; at: number }
  /** The logs screen went back (q, esc). */
  | { type: 'logs-closed' }
  /** The logs screen's `?`. */
  | { type: 'logs-help' }
  /** `name`: the container as the UI names it (`node/name`). */
  | { type: 'exec-ended'; name: string; code: number | void }
  | { type: 'exec-failed'; name: string; error: string }
  /** The placement table is ready (or could not be made: `canRun` false, the lines say why). */
  | { type: 'planned'; title: string; lines: string[]; canRun: boolean }
  /** A start or restart was refused for these targets: failover fenced them on their node (`reason`: the node's words). */
  | { type: 'fenced'; action: ContainerAction; targets: ContainerSummary[]; reason: string };

export interface Step {
  state: UiState;
  effects: Effect[];
}

/** The node shown: the one at nodeIndex (the last when nodes went). */
export function currentNode(state: UiState, ctx: Pick<KeyContext, 'nodes'>): NodeFacts | null {
  return ctx.nodes[Math.min(state.nodeIndex, ctx.nodes.length - 1)] ?? null;
}

/** Whether the list merges every node (the all-nodes view; with one node there is nothing to merge). */
export function showsAll(state: UiState, ctx: Pick<KeyContext, 'nodes'>): boolean {
  return state.allNodes && ctx.nodes.length > 1;
}

/** The nodes whose containers the list shows. */
export function shownNodes(state: UiState, ctx: Pick<KeyContext, 'nodes'>): NodeFacts[] {
  if (showsAll(state, ctx)) return [...ctx.nodes];
  const n = currentNode(state, ctx);
  return n ? [n] : [];
}

/** The node a container runs on (its own node, whatever the view). */
export function nodeOf(c: ContainerSummary | null, state: UiState, ctx: Pick<KeyContext, 'nodes'>): NodeFacts | null {
  if (!c) return showsAll(state, ctx) ? null : currentNode(state, ctx);
  return ctx.nodes.find((n) => n.name === c.node) ?? (showsAll(state, ctx) ? null : currentNode(state, ctx));
}

function allShown(state: UiState, ctx: KeyContext): ContainerSummary[] {
  return shownNodes(state, ctx).flatMap((n) => ctx.containers(n.name));
}

function listOf(state: UiState, ctx: KeyContext): ContainerSummary[] {
  return visibleList(allShown(state, ctx), state.filter, state.sort, ctx.stats);
}

/** The selected container, on the list as it is now. */
export function selectedIn(state: UiState, list: readonly ContainerSummary[]): ContainerSummary | null {
  const sel = settle(state.sel, list);
  return list.find((c) => isSelected(c, sel)) ?? null;
}

const same = (state: UiState): Step => ({ state, effects: [] });
const say = (state: UiState, text: string, kind: Message['kind'] = 'info'): Step => ({ state: { ...state, message: { text, kind } }, effects: [] });
const noRules = (node: NodeFacts | null): string => `rules: no agent reachable for ${node ? node.name : 'this node'}`;

/**
 * The marked containers still there, on every node (the view may not show
 * them all: the question lists them), in the list's order (those it does
 * not show after).
 */
export function markedTargets(state: UiState, ctx: KeyContext): ContainerSummary[] {
  if (state.marked.size === 0) return [];
  const marks = markedIn(ctx.nodes.flatMap((n) => ctx.containers(n.name)), state.marked);
  const order = new Map(listOf(state, ctx).map((c, i) => [markKey(c), i]));
  const at = (c: ContainerSummary) => order.get(markKey(c)) ?? Number.MAX_SAFE_INTEGER;
  return marks.sort((a, b) => at(a) - at(b));
}

export function reduce(state: UiState, event: UiEvent): Step {
  switch (event.type) {
    case 'say':
      return { state: { ...state, message: { text: event.text, kind: event.kind ?? 'info', ...(event.full ? { full: true } : {}), ...(event.at !== undefined ? { at: event.at } : {}) } }, effects: [] };
    case 'notice': {
      const kind = event.kind ?? 'info';
      const m = state.message;
      // The same notice again: one line that counts them.
      if (m?.notice?.base === event.text) return same({ ...state, message: noticeMessage(event.text, m.notice.count + event.count, kind, event.at) });
      // An action's result (or anything not a notice) stays HOLD_MS first; the notice waits, coalescing too.
      if (m && !m.notice && m.at !== undefined && event.at - m.at < HOLD_MS) {
        const p = state.pending?.notice;
        return same({ ...state, pending: noticeMessage(event.text, (p?.base === event.text ? p.count : 0) + event.count, kind, event.at) });
      }
      return same({ ...state, pending: null, message: noticeMessage(event.text, event.count, kind, event.at) });
    }
    case 'tick': {
      const m = state.message;
      if (!state.pending || (m && !m.notice && m.at !== undefined && event.at - m.at < HOLD_MS)) return same(state);
      return same({ ...state, message: { ...state.pending, at: event.at }, pending: null });
    }
    case 'logs-closed':
      return { state: { ...state, logsOpen: false, mode: state.mode === 'logs' ? 'main' : state.mode }, effects: [] };
    case 'logs-help':
      return same(openHelp(state, 'logs'));
    case 'exec-ended': {
      const failed = typeof event.code === 'number' && event.code !== 0;
      return say({ ...state, mode: 'main' }, `shell in ${event.name} ended${typeof event.code === 'number' ? ` (exit ${event.code})` : ''}`, failed ? 'error' : 'info');
    }
    case 'exec-failed':
      return say({ ...state, mode: 'main' }, `shell in ${event.name} failed: ${event.error}`, 'error');
    case 'fenced':
      // Asked while nothing else is open; in another view or prompt the refusal is only said (start again to be asked).
      if (state.mode !== 'main' || event.targets.length === 0) return say(state, event.reason, 'error');
      return same({ ...state, message: null, confirm: { action: event.action, targets: event.targets, ...(event.targets.length > 1 ? { marked: true } : {}), fence: { reason: event.reason } }, mode: 'confirm' });
    case 'planned':
      // Cancelled while it was worked out: the table has nobody to show it to.
      if (state.mode !== 'placement' || !state.placement) return same(state);
      return same({ ...state, placement: { title: event.title, lines: event.lines, canRun: event.canRun, planning: false } });
    case 'sync': {
      const sel = settle(state.sel, listOf(state, event.ctx));
      return same(sel === state.sel ? state : { ...state, sel });
    }
    case 'key': {
      // In the logs view the keys are the logs screen's: the list is not walked for them.
      if (state.mode === 'logs') return onKey(state, event.input, event.key, event.ctx);
      const sel = settle(state.sel, listOf(state, event.ctx));
      return onKey(sel === state.sel ? state : { ...state, sel }, event.input, event.key, event.ctx);
    }
  }
}

function openHelp(state: UiState, view: HelpView): UiState {
  return { ...state, helpFor: view, helpTop: 0, mode: 'help' };
}

function onKey(state: UiState, input: string, key: Key, ctx: KeyContext): Step {
  if (state.mode === 'suspended') return same(state);
  // Ctrl-L redraws and Ctrl-C quits in every view and prompt (the terminal conventions).
  const global = lookupGlobal(input, key);
  if (global) return { state, effects: [{ kind: global.binding.action === 'quit' ? 'exit' : 'redraw' }] };
  // Other Ctrl keys are not their letter (Ctrl-R is not restart); prompts and the logs view take them.
  if (key.ctrl && state.mode !== 'filter' && state.mode !== 'palette' && state.mode !== 'logs') return same(state);
  switch (state.mode) {
    case 'logs':
      return { state, effects: [{ kind: 'logs-key', input, key }] };
    case 'filter':
    case 'palette':
      return onPromptKey(state, input, key, ctx);
    case 'help':
      return onHelpKey(state, input, key, ctx);
    case 'journal':
      return onJournalKey(state, input, key, ctx);
    case 'confirm': {
      const c = state.confirm;
      const next: UiState = { ...state, confirm: null, mode: 'main' };
      if ((input === 'y' || input === 'Y') && c) return { state: next, effects: [{ kind: 'run', action: c.action, targets: c.targets, ...(c.fence ? { overrideFence: true } : {}) }] };
      return say(next, 'cancelled');
    }
    case 'placement': {
      const p = state.placement;
      const next: UiState = { ...state, placement: null, mode: 'main' };
      if (p?.planning) return key.escape || input === 'q' || input === 'n' ? say(next, 'cancelled') : same(state);
      if ((input === 'y' || input === 'Y') && p?.canRun) return { state: say(next, `${p.title}: running…`).state, effects: [{ kind: 'place-run' }] };
      // A dialog that only explained (nothing fits, a bad file) had nothing to cancel.
      if (p && !p.canRun) return say(next, `${p.title}: closed; nothing was run`);
      return say(next, 'cancelled');
    }
    case 'main': {
      const hit = lookupKey('main', input, key, { tab: state.tab });
      return hit ? onMainKey({ ...state, message: null }, hit, ctx) : same({ ...state, message: null });
    }
  }
}

function onPromptKey(state: UiState, input: string, key: Key, ctx: KeyContext): Step {
  const e = editLine(state.typed, input, key);
  let next: UiState = { ...state, typed: e.value };
  if (state.mode === 'filter') next.filter = e.done === 'cancel' ? '' : e.value;
  if (e.done === 'submit' && state.mode === 'palette') return runPalette({ ...next, mode: 'main' }, e.value, ctx);
  if (e.done) next = { ...next, mode: 'main' };
  return same(next);
}

function onHelpKey(state: UiState, input: string, key: Key, ctx: KeyContext): Step {
  const hit = lookupKey('help', input, key);
  const max = Math.max(0, helpLines(state.helpFor, ctx.readOnly, ctx.width).length - helpRoom(ctx.height));
  const dir = typeof hit?.match.arg === 'number' ? hit.match.arg : 0;
  const d = hit?.binding.action === 'page' ? dir * (ctx.height - 3) : dir;
  if (d !== 0 && max > 0) return same({ ...state, helpTop: Math.max(0, Math.min(max, state.helpTop + d)) });
  // Any other key closes the help, back to the view it was opened from.
  const mode: Mode = state.helpFor === 'logs' && state.logsOpen ? 'logs' : state.helpFor === 'journal' ? 'journal' : 'main';
  return same({ ...state, helpTop: 0, mode });
}

function onJournalKey(state: UiState, input: string, key: Key, ctx: KeyContext): Step {
  const hit = lookupKey('journal', input, key);
  if (!hit) return same(state);
  const j = state.journal;
  const scrollTo = (back: number) => same({ ...state, journal: { ...j, back: Math.max(0, Math.min(Math.max(0, ctx.journalCount - 1), back)) } });
  const arg = hit.match.arg;
  switch (hit.binding.action) {
    case 'detail':
      return same({ ...state, journal: { ...j, detail: !j.detail } });
    case 'back':
      return same(j.detail ? { ...state, journal: { ...j, detail: false } } : { ...state, mode: 'main' });
    case 'help':
      return same(openHelp(state, 'journal'));
    case 'scroll':
      return scrollTo(j.back + (arg as number));
    case 'page':
      return scrollTo(j.back + (arg as number) * Math.max(1, ctx.height - 4));
    case 'ends':
      return arg === 'first' ? scrollTo(ctx.journalCount) : scrollTo(0);
    case 'only': {
      if (j.only) return same({ ...state, journal: { ...j, back: 0, only: null } });
      // The container of the journal's selected (bold) entry, not the main list's selection.
      const all = ctx.journalContainers ?? [];
      const picked = all[all.length - 1 - j.back];
      if (!picked) return say(state, all.length ? 'journal: the selected entry is of no container' : 'journal: no entry selected');
      return same({ ...state, journal: { ...j, back: 0, only: picked } });
    }
    default:
      return same(state);
  }
}

function openJournal(state: UiState, ctx: KeyContext): Step {
  // The journal of the selected container's node (in the all-nodes view, the node of the row).
  const node = nodeOf(selectedIn(state, listOf(state, ctx)), state, ctx);
  if (!node?.rules) return say(state, `journal: ${noRules(node).slice('rules: '.length)}`, 'error');
  return same({ ...state, mode: 'journal', journal: { ...state.journal, back: 0 } });
}

function openLogs(state: UiState, targets: ContainerSummary[], ctx: KeyContext): Step {
  if (shownNodes(state, ctx).length === 0 || targets.length === 0) return same(state);
  return { state: { ...state, mode: 'logs', logsOpen: true }, effects: [{ kind: 'open-logs', targets }] };
}

/**
 * An action on its targets: the marks (always asked first, each named), or
 * one container (remove asks, kill asks unless the preferences say not to).
 * What cannot apply to a target's state is said before the engine is asked.
 */
function mutate(state: UiState, action: ContainerAction, targets: readonly ContainerSummary[], ctx: KeyContext, marked = false): Step {
  if (ctx.readOnly) return say(state, `read-only: ${action} is off`, 'error');
  if (targets.length === 0) return say(state, 'no container selected', 'error');
  const fit = targets.filter((c) => refusal(action, c) === null);
  if (fit.length === 0) return say(state, refusal(action, targets[0] as ContainerSummary) as string, 'error');
  if (marked || action === 'remove' || (action === 'kill' && ctx.confirmKill)) return same({ ...state, confirm: { action, targets: fit, ...(marked ? { marked: true } : {}) }, mode: 'confirm' });
  return { state, effects: [{ kind: 'run', action, targets: fit }] };
}

function onMainKey(state: UiState, hit: Hit, ctx: KeyContext): Step {
  const list = listOf(state, ctx);
  const selected = selectedIn(state, list);
  const cur = Math.max(0, selected ? list.indexOf(selected) : 0);
  const moveTo = (to: number, from: UiState = state): Step => {
    const idx = Math.max(0, Math.min(list.length - 1, to));
    const c = list[idx];
    if (!c) return same(from);
    return same({ ...from, sel: { id: c.id, node: c.node, name: c.name, place: idx, lost: null } });
  };
  const arg = hit.match.arg;
  const action = hit.binding.action;
  if (hit.binding.mutating && ctx.readOnly) {
    if (action === 'shell') return say(state, 'read-only: shell is off', 'error');
    if (action === 'rules-reset' || action === 'rules-pause') return say(state, 'read-only: rules cannot be changed', 'error');
  }
  switch (action) {
    case 'quit':
      return { state, effects: [{ kind: 'exit' }] };
    case 'redraw':
      return { state, effects: [{ kind: 'redraw' }] };
    case 'move':
      return moveTo(cur + (arg as number));
    case 'ends':
      return moveTo(arg === 'first' ? 0 : list.length - 1);
    case 'page':
      return moveTo(cur + (arg as number) * Math.max(1, mainHeights(ctx.height).tableHeight - 2));
    case 'next-tab':
      return same({ ...state, tab: DETAIL_TABS[(DETAIL_TABS.indexOf(state.tab) + 1) % DETAIL_TABS.length] as DetailTab });
    case 'help':
      return same(openHelp(state, 'main'));
    case 'filter':
      return same({ ...state, typed: state.filter, mode: 'filter' });
    case 'palette':
      return same({ ...state, typed: '', mode: 'palette' });
    case 'clear':
      return same({ ...state, filter: '', marked: state.marked.size ? new Set() : state.marked });
    case 'journal':
      return openJournal(state, ctx);
    case 'rules-reset':
    case 'rules-pause':
      if (!nodeOf(selected, state, ctx)?.rules) return say(state, noRules(nodeOf(selected, state, ctx)), 'error');
      if (!selected) return same(state);
      return { state, effects: [{ kind: action, container: selected.name, node: selected.node }] };
    case 'sort':
      return same({ ...state, sort: SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length] as SortKey });
    case 'next-node': {
      // all → the first node → … → the last → all.
      if (ctx.nodes.length <= 1) return say(state, 'only one node: add peers with `outpost peers add`');
      if (state.allNodes) return same({ ...state, allNodes: false, nodeIndex: 0 });
      const i = Math.min(state.nodeIndex, ctx.nodes.length - 1) + 1;
      return same(i >= ctx.nodes.length ? { ...state, allNodes: true, nodeIndex: 0 } : { ...state, nodeIndex: i });
    }
    case 'mark': {
      if (!selected) return same(state);
      const marked = new Set(state.marked);
      const key = markKey(selected);
      if (marked.has(key)) marked.delete(key);
      else marked.add(key);
      return moveTo(cur + 1, { ...state, marked });
    }
    case 'open-logs': {
      // The marked containers: one merged stream, each line prefixed by its container.
      const marks = markedTargets(state, ctx);
      return openLogs(state, marks.length > 0 ? marks : selected ? [selected] : [], ctx);
    }
    case 'restart':
    case 'kill':
    case 'remove':
    case 'stop-start':
    case 'pause-unpause': {
      const marks = markedTargets(state, ctx);
      const targets = marks.length > 0 ? marks : selected ? [selected] : [];
      const pick = action === 'stop-start' ? stopOrStart(targets) : action === 'pause-unpause' ? pauseOrUnpause(targets) : { action, targets };
      return mutate(state, pick.action, pick.targets, ctx, marks.length > 0);
    }
    case 'shell': {
      // One shell, in the selected container (marks or not).
      if (!nodeOf(selected, state, ctx) || !selected) return same(state);
      const why = refusal('shell', selected);
      if (why) return say(state, why, 'error');
      return { state: { ...state, mode: 'suspended' }, effects: [{ kind: 'exec', container: selected }] };
    }
    default:
      return same(state);
  }
}

function runPalette(state: UiState, text: string, ctx: KeyContext): Step {
  const cmd = parsePalette(text, ctx.readOnly);
  const all = allShown(state, ctx);
  /** The named container on the nodes shown (one only: a name on several nodes is refused), or the selected one. */
  const find = (ref: string | null, example: string): ContainerSummary | string => {
    if (!ref) return selectedIn(state, listOf(state, ctx)) ?? 'no container selected';
    const f = findByRef(ref, all, example);
    return f.kind === 'one' ? f.container : f.message;
  };
  switch (cmd.kind) {
    case 'error':
      return say(state, cmd.message, 'error');
    case 'quit':
      return { state, effects: [{ kind: 'exit' }] };
    case 'help':
      return same(openHelp(state, 'main'));
    case 'journal':
      return openJournal(state, ctx);
    case 'containers':
      // Every container: the filter goes, and the status line says so (it was dropped silently).
      return state.filter ? say({ ...state, filter: '' }, `filter \`${state.filter}\` cleared: every container shown`) : same(state);
    case 'filter':
      return same({ ...state, filter: cmd.text });
    case 'logs': {
      const marks = cmd.target ? [] : markedTargets(state, ctx);
      if (marks.length > 0) return openLogs(state, marks, ctx);
      const c = find(cmd.target, ':logs');
      return typeof c === 'string' ? say(state, c, 'error') : openLogs(state, [c], ctx);
    }
    case 'node': {
      if (cmd.name === 'all') return same({ ...state, allNodes: true });
      const i = ctx.nodes.findIndex((n) => n.name === cmd.name || (cmd.name === 'local' && n.thisMachine === true));
      return i >= 0 ? same({ ...state, nodeIndex: i, allNodes: false }) : say(state, `no node \`${cmd.name}\` (nodes: all, ${ctx.nodes.map((n) => n.name).join(', ')})`, 'error');
    }
    case 'sort':
      return SORT_KEYS.includes(cmd.key as SortKey) ? same({ ...state, sort: cmd.key as SortKey }) : say(state, `sort by one of: ${SORT_KEYS.join(', ')}`, 'error');
    case 'action': {
      // No name: the marks, if any (asked first, as their keys do).
      const marks = cmd.target ? [] : markedTargets(state, ctx);
      if (marks.length > 0) return mutate(state, cmd.action, marks, ctx, true);
      const c = find(cmd.target, `:${cmd.action === 'remove' ? 'rm' : cmd.action}`);
      return typeof c === 'string' ? say(state, c, 'error') : mutate(state, cmd.action, [c], ctx);
    }
    case 'place':
      if (ctx.readOnly) return say(state, 'read-only: place is off', 'error');
      return { state: { ...state, mode: 'placement', placement: { title: `place ${cmd.file}`, lines: ['working out where it fits…'], canRun: false, planning: true } }, effects: [{ kind: 'place-plan', file: cmd.file }] };
    case 'move': {
      if (ctx.readOnly) return say(state, 'read-only: move is off', 'error');
      const c = find(cmd.target, ':move');
      if (typeof c === 'string') return say(state, cmd.target ? c : 'select a placed container to move, or `:move NAME`', 'error');
      return { state: { ...state, mode: 'placement', placement: { title: `move ${containerRef(c)}`, lines: ['working out where it could go…'], canRun: false, planning: true } }, effects: [{ kind: 'move-plan', container: c }] };
    }
  }
}

/**
 * Holds the state and applies events to it one after the other, at once:
 * keys of one read see each other's effects before React draws again.
 */
export class UiStore {
  #state: UiState;
  #listeners = new Set<() => void>();

  constructor(state: UiState = initialState) {
    this.#state = state;
  }

  get = (): UiState => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Applies an event; returns the effects for the caller to run. */
  dispatch(event: UiEvent): Effect[] {
    const { state, effects } = reduce(this.#state, event);
    if (state !== this.#state) {
      this.#state = state;
      for (const l of this.#listeners) l();
    }
    return effects;
  }
}
