/** Every key of every view, for the `?` help and the status line. One list, so help cannot drift. */
export type View = 'main' | 'logs' | 'journal';

export interface KeyHelp {
  keys: string;
  action: string;
  /** Hidden in --read-only mode. */
  mutating?: boolean;
}

export const KEYS: Record<View, KeyHelp[]> = {
  main: [
    { keys: 'j/k ↑/↓', action: 'move' },
    { keys: 'g/G', action: 'first / last' },
    { keys: 'PgUp/PgDn', action: 'page' },
    { keys: 'enter / l', action: 'logs of the selection (or of the marked containers)' },
    { keys: 'space', action: 'mark for merged logs' },
    { keys: 'tab', action: 'next detail tab (logs, stats, inspect, rules)' },
    { keys: 'J', action: "journal: what the rule engine did and why" },
    { keys: 'R', action: "rules tab: re-arm the container (forget back-off, budget, give-up)", mutating: true },
    { keys: 'P', action: 'rules tab: pause / resume the rules for the container', mutating: true },
    { keys: '/', action: 'filter (text, or /regex/); esc clears' },
    { keys: 'o', action: 'cycle sort: name, state, cpu, memory, uptime' },
    { keys: 'n', action: 'next node' },
    { keys: ':', action: 'command palette' },
    { keys: 'r', action: 'restart', mutating: true },
    { keys: 's', action: 'stop / start', mutating: true },
    { keys: 'p', action: 'pause / unpause', mutating: true },
    { keys: 'K', action: 'kill (asks first, unless confirmKill is false)', mutating: true },
    { keys: 'd', action: 'remove (asks first)', mutating: true },
    { keys: 'e', action: 'shell in the container', mutating: true },
    { keys: 'Ctrl-L', action: 'redraw the screen' },
    { keys: '?', action: 'this help' },
    { keys: 'q / Ctrl-C', action: 'quit' },
  ],
  logs: [
    { keys: 'j/k ↑/↓', action: 'scroll a line' },
    { keys: 'PgUp/PgDn', action: 'scroll a page' },
    { keys: 'g/G', action: 'top / bottom (G follows again)' },
    { keys: 'f / space', action: 'follow / pause' },
    { keys: '/', action: 'search (text, or /regex/)' },
    { keys: 'n/N', action: 'next / previous match' },
    { keys: 'F', action: 'filter: keep only matching lines' },
    { keys: '+/-', action: 'context lines around matches when filtering' },
    { keys: 't', action: 'timestamps' },
    { keys: 'w', action: 'wrap long lines' },
    { keys: 'S', action: 'save the buffer to a file' },
    { keys: 'esc', action: 'clear the search (in its prompt: cancel); then back' },
    { keys: 'q', action: 'back' },
    { keys: '! (gutter)', action: 'a stderr line (red; with NO_COLOR the `!` marks it)' },
    { keys: 'Ctrl-C', action: 'quit Outpost' },
    { keys: '?', action: 'this help' },
  ],
  journal: [
    { keys: 'j/k ↑/↓', action: 'scroll a line' },
    { keys: 'PgUp/PgDn', action: 'scroll a page' },
    { keys: 'g/G', action: 'oldest / newest (G follows again)' },
    { keys: 'enter', action: 'every field of the selected (bold) entry; enter/esc back' },
    { keys: 'c', action: 'only the selected container / all' },
    { keys: 'esc / q', action: 'back' },
    { keys: 'Ctrl-C', action: 'quit Outpost' },
    { keys: '?', action: 'this help' },
  ],
};

export function keysFor(view: View, readOnly: boolean): KeyHelp[] {
  return KEYS[view].filter((k) => !(readOnly && k.mutating));
}

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
  | { kind: 'help' };

export const PALETTE_WORDS = ['containers', 'logs', 'restart', 'stop', 'start', 'kill', 'pause', 'unpause', 'rm', 'node', 'sort', 'filter', 'journal', 'help', 'quit'];

export function parsePalette(input: string): PaletteCommand | { kind: 'error'; message: string } {
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
      return arg ? { kind: 'node', name: arg } : { kind: 'error', message: 'node needs a name: `:node gw-2`' };
    case 'sort':
      return arg ? { kind: 'sort', key: arg } : { kind: 'error', message: 'sort needs a key: name, state, cpu, memory or uptime' };
    case 'filter':
      return { kind: 'filter', text: arg ?? '' };
    case '':
      return { kind: 'error', message: 'type a command: ' + PALETTE_WORDS.join(', ') };
    default:
      return { kind: 'error', message: `unknown command \`${word}\`; commands: ${PALETTE_WORDS.join(', ')}` };
  }
}
