/**
 * Every key of every view, as data: the one table that both the key handler
 * (state.ts for the main view, the journal and the help; logs-screen.tsx for
 * the logs view) and the `?` help read. A key that is not here does nothing,
 * and a key that is here is listed, so the two cannot drift.
 *
 * Pure: no Ink, no React (Key is a type only).
 */
import type { Key } from 'ink';
import { wrapText } from '../presentation/format.js';

/** Ink's key flags with none set: a plain character. */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** A view with its own keys and its own `?` help. `help` is the help screen itself (not listed). */
export type View = 'main' | 'logs' | 'journal' | 'help';

/** Ink's key flags a binding can match on. */
export type KeyFlag = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'tab';

/** One key as matched: a typed character, or a flag, with or without Ctrl. */
export interface KeyMatch {
  input?: string;
  flag?: KeyFlag;
  /** Held with Ctrl (then `input` is the letter). A key without `ctrl` never matches with Ctrl held. */
  ctrl?: boolean;
  /** What this key means within its binding: a direction (1, -1), `first`, `last`, … */
  arg?: number | 'first' | 'last';
  /** Matched in every mode of the app (prompts, confirm and help too), before anything else. */
  global?: boolean;
}

/** Conditions a binding applies under. */
export type When = 'rules-tab';

export interface Binding {
  view: View;
  keys: readonly KeyMatch[];
  /** The keys as the help shows them. */
  label: string;
  /** What it does: the action the handler switches on. */
  action: string;
  help: string;
  /** Only when this holds (otherwise the key does nothing). */
  when?: When;
  /** Changes something (a container, the rules): hidden from the help, and refused, in --read-only. */
  mutating?: boolean;
}

const k = (input: string, arg?: KeyMatch['arg']): KeyMatch => (arg === undefined ? { input } : { input, arg });
const f = (flag: KeyFlag, arg?: KeyMatch['arg']): KeyMatch => (arg === undefined ? { flag } : { flag, arg });
const ctrl = (input: string, global = false): KeyMatch => (global ? { input, ctrl: true, global } : { input, ctrl: true });
const MOVE = [k('j', 1), k('k', -1), f('downArrow', 1), f('upArrow', -1)];
const ENDS = [k('g', 'first'), k('G', 'last'), f('home', 'first'), f('end', 'last')];
const PAGE = [f('pageUp', -1), f('pageDown', 1)];
const REDRAW: Omit<Binding, 'view'> = { keys: [ctrl('l', true)], label: 'Ctrl-L', action: 'redraw', help: 'redraw the screen' };

export const BINDINGS: readonly Binding[] = [
  // The main view: the container list and its detail pane.
  { view: 'main', keys: MOVE, label: 'j/k ↑/↓', action: 'move', help: 'move' },
  { view: 'main', keys: ENDS, label: 'g/G', action: 'ends', help: 'first / last' },
  { view: 'main', keys: PAGE, label: 'PgUp/PgDn', action: 'page', help: 'page' },
  { view: 'main', keys: [f('return'), k('l')], label: 'enter / l', action: 'open-logs', help: 'logs of the selection (or of the marked containers, merged)' },
  { view: 'main', keys: [k(' ')], label: 'space', action: 'mark', help: 'mark (or unmark) and move down: r s p K d, enter and palette actions without a name then act on the marked containers (one question lists them, node/name each), not the cursor; esc clears the marks' },
  { view: 'main', keys: [f('tab')], label: 'tab', action: 'next-tab', help: 'next detail tab (logs, stats, inspect, rules)' },
  { view: 'main', keys: [k('J')], label: 'J', action: 'journal', help: 'journal: what the rule engine did and why' },
  { view: 'main', keys: [k('R')], label: 'R', action: 'rules-reset', help: 'rules tab: re-arm the container (forget back-off, budget, give-up)', when: 'rules-tab', mutating: true },
  { view: 'main', keys: [k('P')], label: 'P', action: 'rules-pause', help: 'rules tab: pause / resume the rules for the container', when: 'rules-tab', mutating: true },
  { view: 'main', keys: [k('/')], label: '/', action: 'filter', help: 'filter (text, or /regex/); esc clears' },
  { view: 'main', keys: [f('escape')], label: 'esc', action: 'clear', help: 'clear the filter and the marks' },
  { view: 'main', keys: [k('o')], label: 'o', action: 'sort', help: 'cycle sort: name, state, cpu, memory, uptime' },
  { view: 'main', keys: [k('n')], label: 'n', action: 'next-node', help: 'next node: all nodes → each node → all (also :node NAME, :node all)' },
  { view: 'main', keys: [k(':')], label: ':', action: 'palette', help: 'command palette (:restart NAME, or NODE/NAME when several nodes run a NAME; :containers shows every container: it clears the filter, and says so)' },
  { view: 'main', keys: [k('r')], label: 'r', action: 'restart', help: 'restart', mutating: true },
  { view: 'main', keys: [k('s')], label: 's', action: 'stop-start', help: 'stop / start', mutating: true },
  { view: 'main', keys: [k('p')], label: 'p', action: 'pause-unpause', help: 'pause / unpause', mutating: true },
  { view: 'main', keys: [k('K')], label: 'K', action: 'kill', help: 'kill (asks first, unless confirmKill is false)', mutating: true },
  { view: 'main', keys: [k('d')], label: 'd', action: 'remove', help: 'remove (asks first)', mutating: true },
  { view: 'main', keys: [k('e')], label: 'e', action: 'shell', help: 'shell in the container', mutating: true },
  { view: 'main', ...REDRAW },
  { view: 'main', keys: [k('?')], label: '?', action: 'help', help: 'this help' },
  { view: 'main', keys: [k('q'), ctrl('c', true)], label: 'q / Ctrl-C', action: 'quit', help: 'quit' },

  // The logs view (logs-screen.tsx handles these).
  { view: 'logs', keys: MOVE, label: 'j/k ↑/↓', action: 'scroll', help: 'scroll a line' },
  { view: 'logs', keys: PAGE, label: 'PgUp/PgDn', action: 'page', help: 'scroll a page' },
  { view: 'logs', keys: ENDS, label: 'g/G', action: 'ends', help: 'top / bottom (G follows again)' },
  { view: 'logs', keys: [k('f'), k(' ')], label: 'f / space', action: 'follow', help: 'follow / pause' },
  { view: 'logs', keys: [k('/')], label: '/', action: 'search', help: 'search (text, or /regex/)' },
  { view: 'logs', keys: [k('n', 1), k('N', -1)], label: 'n/N', action: 'next-match', help: 'next / previous match' },
  { view: 'logs', keys: [k('F')], label: 'F', action: 'filter', help: 'filter: keep only matching lines' },
  { view: 'logs', keys: [k('+', 1), k('-', -1)], label: '+/-', action: 'context', help: 'context lines around matches when filtering' },
  { view: 'logs', keys: [k('t')], label: 't', action: 'timestamps', help: 'timestamps' },
  { view: 'logs', keys: [k('w')], label: 'w', action: 'wrap', help: 'wrap long lines' },
  { view: 'logs', keys: [k('S')], label: 'S', action: 'save', help: 'save the lines as shown to a file (filtered, timestamps as shown)' },
  { view: 'logs', keys: [f('escape')], label: 'esc', action: 'escape', help: 'clear the search (in its prompt: cancel); then back' },
  { view: 'logs', keys: [k('q')], label: 'q', action: 'back', help: 'back' },
  // A legend, not a key: what the gutter's mark means.
  { view: 'logs', keys: [], label: '! (gutter)', action: 'legend', help: 'a stderr line (red; with NO_COLOR the `!` marks it)' },
  { view: 'logs', ...REDRAW },
  { view: 'logs', keys: [ctrl('c', true)], label: 'Ctrl-C', action: 'quit', help: 'quit Outpost' },
  { view: 'logs', keys: [k('?')], label: '?', action: 'help', help: 'this help' },

  // The journal view.
  { view: 'journal', keys: [k('k', 1), k('j', -1), f('upArrow', 1), f('downArrow', -1)], label: 'j/k ↑/↓', action: 'scroll', help: 'scroll a line' },
  { view: 'journal', keys: [f('pageUp', 1), f('pageDown', -1)], label: 'PgUp/PgDn', action: 'page', help: 'scroll a page' },
  { view: 'journal', keys: ENDS, label: 'g/G', action: 'ends', help: 'oldest / newest (G follows again)' },
  { view: 'journal', keys: [f('return')], label: 'enter', action: 'detail', help: 'every field of the selected (bold) entry; enter/esc back' },
  { view: 'journal', keys: [k('c')], label: 'c', action: 'only', help: 'only the selected container / all' },
  { view: 'journal', keys: [f('escape'), k('q')], label: 'esc / q', action: 'back', help: 'back' },
  { view: 'journal', ...REDRAW },
  { view: 'journal', keys: [ctrl('c', true)], label: 'Ctrl-C', action: 'quit', help: 'quit Outpost' },
  { view: 'journal', keys: [k('?')], label: '?', action: 'help', help: 'this help' },

  // The help screen: a help longer than the screen scrolls; any other key closes it (its footer says so).
  { view: 'help', keys: MOVE, label: 'j/k ↑/↓', action: 'scroll', help: 'scroll a line' },
  { view: 'help', keys: PAGE, label: 'PgUp/PgDn', action: 'page', help: 'scroll a page' },
];

/** The views whose help `?` shows. */
export const HELP_VIEWS = ['main', 'logs', 'journal'] as const;
export type HelpView = (typeof HELP_VIEWS)[number];

/** The facts a binding's condition reads. */
export interface KeyConditions {
  tab?: string;
}

export function keyMatches(m: KeyMatch, input: string, key: Key): boolean {
  if (!!m.ctrl !== !!key.ctrl) return false;
  if (m.flag !== undefined) return key[m.flag] === true;
  return m.input !== undefined && input === m.input && !key.escape && !key.return && !key.tab;
}

function holds(b: Binding, c: KeyConditions): boolean {
  return b.when !== 'rules-tab' || c.tab === 'rules';
}

export interface Hit {
  binding: Binding;
  match: KeyMatch;
}

/** The binding of `view` a key presses, if any (its condition holding). */
export function lookupKey(view: View, input: string, key: Key, conditions: KeyConditions = {}): Hit | null {
  for (const binding of BINDINGS) {
    if (binding.view !== view || !holds(binding, conditions)) continue;
    const match = binding.keys.find((m) => keyMatches(m, input, key));
    if (match) return { binding, match };
  }
  return null;
}

/** A key bound in every mode (Ctrl-L, Ctrl-C), whatever view is up. */
export function lookupGlobal(input: string, key: Key): Hit | null {
  for (const binding of BINDINGS) {
    const match = binding.keys.find((m) => m.global && keyMatches(m, input, key));
    if (match) return { binding, match };
  }
  return null;
}

export interface KeyHelp {
  keys: string;
  action: string;
  /** Hidden in --read-only mode. */
  mutating?: boolean;
}

/** The help of a view: its bindings, in the table's order; in --read-only without the mutating ones. */
export function keysFor(view: HelpView, readOnly: boolean): KeyHelp[] {
  return BINDINGS.filter((b) => b.view === view && !(readOnly && b.mutating)).map((b) => ({ keys: b.label, action: b.help, ...(b.mutating ? { mutating: true } : {}) }));
}

/** Every view's help, as keysFor gives it (not read-only). */
export const KEYS: Record<HelpView, KeyHelp[]> = { main: keysFor('main', false), logs: keysFor('logs', false), journal: keysFor('journal', false) };

export interface HelpLine {
  key: string;
  keys: string;
  text: string;
}

/**
 * The help's lines at a width: every key is listed, its text wrapping under
 * it on a narrow screen (the help scrolls when longer than the screen).
 */
export function helpLines(view: HelpView, readOnly: boolean, width: number): HelpLine[] {
  return keysFor(view, readOnly).flatMap((h) => {
    const keyWidth = width >= 40 ? 13 : 0;
    const text = wrapText(h.action, Math.max(10, width - 2 - keyWidth));
    if (keyWidth === 0) return [{ key: `${h.keys}`, keys: h.keys, text: '' }, ...text.map((t, i) => ({ key: `${h.keys}:${i}`, keys: '', text: `  ${t}` }))];
    return text.map((t, i) => ({ key: `${h.keys}:${i}`, keys: i === 0 ? h.keys.padEnd(12) : ' '.repeat(12), text: ` ${t}` }));
  });
}

/** Rows the help's list has on a screen `height` rows high (a title and a footer around it). */
export const helpRoom = (height: number): number => Math.max(1, height - 2);

/** Palette commands: `:restart web`, `:logs web`, `:node gw-2`, `:sort cpu`, `:quit`. */
export type PaletteCommand =
  | { kind: 'action'; action: 'restart' | 'stop' | 'start' | 'kill' | 'pause' | 'unpause' | 'remove'; target: string | null }
  | { kind: 'logs'; target: string | null }
  | { kind: 'node'; name: string }
  | { kind: 'sort'; key: string }
  | { kind: 'filter'; text: string }
  | { kind: 'containers' }
  | { kind: 'quit' }
  | { kind: 'journal' }
  | { kind: 'help' }
  /** The placement dialog: a workload file to place, or a placed container to move. */
  | { kind: 'place'; file: string }
  | { kind: 'move'; target: string | null };
export const PALETTE_WORDS = ['containers', 'logs', 'restart', 'stop', 'start', 'kill', 'pause', 'unpause', 'rm', 'node', 'sort', 'filter', 'place', 'move', 'journal', 'help', 'quit'];
/** The palette's commands that change a container: not offered in --read-only (they are refused there). */
const MUTATING_WORDS = new Set(['restart', 'stop', 'start', 'kill', 'pause', 'unpause', 'rm', 'place', 'move']);

/** The palette's commands as offered: in --read-only without those that would be refused. */
export function paletteWords(readOnly: boolean): string[] {
  return readOnly ? PALETTE_WORDS.filter((w) => !MUTATING_WORDS.has(w)) : PALETTE_WORDS;
}

export function parsePalette(input: string, readOnly = false): PaletteCommand | { kind: 'error'; message: string } {
  const [word = '', ...rest] = input.trim().split(/\s+/);
  const arg = rest.join(' ') || null;
  switch (word) {
    case 'q':
    case 'quit':
      return { kind: 'quit' };
    case 'help':
      return { kind: 'help' };
    case 'journal':
    case 'rules':
      return { kind: 'journal' };
    case 'containers':
    case 'c':
      return { kind: 'containers' };
    case 'logs':
      return { kind: 'logs', target: arg };
    case 'restart':
    case 'stop':
    case 'start':
    case 'kill':
    case 'pause':
    case 'unpause':
      return { kind: 'action', action: word, target: arg };
    case 'rm':
    case 'remove':
      return { kind: 'action', action: 'remove', target: arg };
    case 'node':
      return arg ? { kind: 'node', name: arg } : { kind: 'error', message: 'node needs a name: `:node gw-2`, or `:node all` for every node' };
    case 'place':
      return arg ? { kind: 'place', file: arg } : { kind: 'error', message: 'place needs a workload file: `:place web.yaml` (outpost workloads check FILE validates it)' };
    case 'move':
      return { kind: 'move', target: arg };
    case 'sort':
      return arg ? { kind: 'sort', key: arg } : { kind: 'error', message: 'sort needs a key: name, state, cpu, memory or uptime' };
    case 'filter':
      return { kind: 'filter', text: arg ?? '' };
    case '':
      return { kind: 'error', message: 'type a command: ' + paletteWords(readOnly).join(', ') };
    default:
      return { kind: 'error', message: `unknown command \`${word}\`; commands: ${paletteWords(readOnly).join(', ')}` };
  }
}
