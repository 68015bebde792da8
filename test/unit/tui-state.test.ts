import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../core/model/types.js';
import { BINDINGS, HELP_VIEWS, keysFor, paletteWords, lookupGlobal, lookupKey, NO_KEY, type Binding, type KeyMatch } from '../../tui/app/keymap.js';
import { initialState, reduce, selectedIn, settle, showsAll, visibleList, type KeyContext, type UiEvent, type UiState } from '../../tui/app/state.js';

/** The (input, key) Ink hands over for a key of the table. */
function press(m: KeyMatch): [string, Key] {
  if (m.flag) return [m.flag === 'return' ? '\r' : m.flag === 'tab' ? '\t' : '', { ...NO_KEY, [m.flag]: true }];
  return [m.input ?? '', { ...NO_KEY, ctrl: !!m.ctrl }];
}
const ch = (input: string): [string, Key] => [input, NO_KEY];
const flag = (f: keyof Key): [string, Key] => [f === 'return' ? '\r' : '', { ...NO_KEY, [f]: true }];

function c(name: string, state: ContainerSummary['state'] = 'running', id = `${name}-id`): ContainerSummary {
  return { id, name, image: 'img', state, health: 'none', node: 'local', createdAt: 0, startedAt: 0, exitCode: null, ports: [], labels: {}, composeProject: null, restartCount: 0 } as unknown as ContainerSummary;
}

function ctx(containers: ContainerSummary[], o: Partial<KeyContext> = {}): KeyContext {
  return {
    nodes: [{ name: 'local', rules: true }],
    containers: () => containers,
    stats: new Map(),
    readOnly: false,
    confirmKill: true,
    width: 100,
    height: 30,
    journalCount: 50,
    ...o,
  };
}

const LIST = ['a', 'b', 'c', 'd', 'e'].map((n) => c(n));

/** Applies keys one after the other; returns the last state and every effect. */
function keys(state: UiState, presses: [string, Key][], context = ctx(LIST)) {
  const effects = [];
  for (const [input, key] of presses) {
    const step = reduce(state, { type: 'key', input, key, ctx: context });
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}
const typing = (text: string) => [...text].map(ch);
const selectedName = (s: UiState, list = LIST) => list.find((x) => x.id === settle(s.sel, list).id)?.name;

describe('the key table', () => {
  it('drives the help: each view lists exactly its entries, read-only without the mutating ones', () => {
    for (const view of HELP_VIEWS) {
      const entries = BINDINGS.filter((b) => b.view === view);
      expect(keysFor(view, false).map((k) => `${k.keys}|${k.action}`)).toEqual(entries.map((b) => `${b.label}|${b.help}`));
      expect(keysFor(view, true).map((k) => k.keys)).toEqual(entries.filter((b) => !b.mutating).map((b) => b.label));
    }
    expect(keysFor('main', true).some((k) => ['r', 's', 'p', 'K', 'd', 'e', 'R', 'P'].includes(k.keys))).toBe(false);
  });

  it('reaches every entry by each of its keys (under its condition)', () => {
    const conditions = (b: Binding) => (b.when === 'rules-tab' ? { tab: 'rules' } : {});
    for (const b of BINDINGS) {
      for (const m of b.keys) {
        const [input, key] = press(m);
        const hit = lookupKey(b.view, input, key, conditions(b));
        expect(hit?.binding, `${b.view} ${b.label} (${JSON.stringify(m)})`).toBe(b);
        expect(hit?.match).toBe(m);
        // A global key does the same in every mode (prompts, confirm and help too).
        if (m.global) expect(lookupGlobal(input, key)?.binding.action).toBe(b.action);
      }
    }
  });

  it('has no key bound twice in one view, and a condition that does not hold leaves the key unbound', () => {
    for (const view of ['main', 'logs', 'journal', 'help'] as const) {
      const seen = new Set<string>();
      for (const b of BINDINGS.filter((x) => x.view === view))
        for (const m of b.keys) {
          const id = `${m.ctrl ? 'C-' : ''}${m.input ?? m.flag}`;
          expect(seen.has(id), `${view} ${id}`).toBe(false);
          seen.add(id);
        }
    }
    expect(lookupKey('main', 'R', NO_KEY, { tab: 'logs' })).toBeNull();
    expect(lookupKey('main', 'r', { ...NO_KEY, ctrl: true })).toBeNull();
  });

  it('each main, journal and help entry does something in the reducer', () => {
    const context = ctx(LIST, { nodes: [{ name: 'local', rules: true }, { name: 'peer', rules: false }] });
    const base: UiState = { ...initialState, tab: 'rules', sel: { id: 'b-id', name: 'b', place: 1, lost: null }, marked: new Set(['a-id']), filter: 'x' };
    const start: Record<string, UiState> = {
      main: base,
      journal: { ...base, mode: 'journal', journal: { back: 3, only: null, detail: false } },
      help: { ...base, mode: 'help', helpTop: 3 },
    };
    for (const b of BINDINGS.filter((x) => x.view in start && !x.keys.every((m) => m.global))) {
      const m = b.keys.find((x) => !x.global) as KeyMatch;
      const [input, key] = press(m);
      const s = start[b.view] as UiState;
      const step = reduce(s, { type: 'key', input, key, ctx: { ...context, containers: () => LIST } });
      const changed = step.effects.length > 0 || JSON.stringify({ ...step.state, marked: [...step.state.marked] }) !== JSON.stringify({ ...s, marked: [...s.marked] });
      expect(changed, `${b.view} ${b.label}`).toBe(true);
    }
  });
});

describe('the reducer', () => {
  it('moves the selection, pages, and goes to the ends', () => {
    let s = keys(initialState, [ch('j'), ch('j'), flag('downArrow')]).state;
    expect(selectedName(s)).toBe('d');
    s = keys(s, [ch('k'), flag('upArrow')]).state;
    expect(selectedName(s)).toBe('b');
    s = keys(s, [ch('G')]).state;
    expect(selectedName(s)).toBe('e');
    s = keys(s, [ch('j')]).state;
    expect(selectedName(s)).toBe('e');
    s = keys(s, [flag('home')]).state;
    expect(selectedName(s)).toBe('a');
    const many = Array.from({ length: 60 }, (_, i) => c(`n${String(i).padStart(2, '0')}`));
    s = keys(initialState, [flag('pageDown')], ctx(many, { height: 30 })).state;
    const page = settle(s.sel, many).place;
    expect(page).toBeGreaterThan(1);
    s = keys(s, [flag('pageDown'), flag('pageUp')], ctx(many, { height: 30 })).state;
    expect(settle(s.sel, many).place).toBe(page);
  });

  it('edits the filter as typed (each key on the state the last left: `/b⏎⏎` opens the logs of b)', () => {
    const { state, effects } = keys(initialState, [ch('/'), ...typing('b'), flag('return'), flag('return')]);
    expect(state.filter).toBe('b');
    expect(state.mode).toBe('logs');
    expect(effects).toEqual([{ kind: 'open-logs', targets: [LIST[1]] }]);
    const cancelled = keys(initialState, [ch('/'), ...typing('cd'), flag('backspace'), flag('escape')]).state;
    expect(cancelled.filter).toBe('');
    expect(cancelled.mode).toBe('main');
    expect(keys(initialState, [ch('/'), ...typing('zz'), flag('return')]).state.filter).toBe('zz');
  });

  it('clears the filter and the marks with esc; marks with space and moves on', () => {
    let s = keys(initialState, [ch(' '), ch(' ')]).state;
    expect([...s.marked]).toEqual(['local/a-id', 'local/b-id']);
    expect(selectedName(s)).toBe('c');
    const opened = keys(s, [ch('l')]);
    expect(opened.effects).toEqual([{ kind: 'open-logs', targets: [LIST[0], LIST[1]] }]);
    s = keys({ ...s, filter: 'a' }, [flag('escape')]).state;
    expect(s.filter).toBe('');
    expect(s.marked.size).toBe(0);
  });

  it('asks before remove and kill; y runs, anything else cancels', () => {
    let step = keys(initialState, [ch('d')]);
    expect(step.state.mode).toBe('confirm');
    expect(step.state.confirm).toEqual({ action: 'remove', targets: [LIST[0]] });
    step = keys(step.state, [ch('y')]);
    expect(step.state.mode).toBe('main');
    expect(step.effects).toEqual([{ kind: 'run', action: 'remove', targets: [LIST[0]] }]);
    step = keys(initialState, [ch('K'), ch('n')]);
    expect(step.effects).toEqual([]);
    expect(step.state.message).toEqual({ text: 'cancelled', kind: 'info' });
    expect(keys(initialState, [ch('K')], ctx(LIST, { confirmKill: false })).effects).toEqual([{ kind: 'run', action: 'kill', targets: [LIST[0]] }]);
  });

  it('a start refused because failover fenced it asks with the risk named; y sends the override, anything else cancels', () => {
    const refused = reduce(initialState, { type: 'fenced', action: 'start', targets: [LIST[0] as ContainerSummary], reason: 'web is fenced on gw-1' });
    expect(refused.state.mode).toBe('confirm');
    expect(refused.state.confirm).toEqual({ action: 'start', targets: [LIST[0]], fence: { reason: 'web is fenced on gw-1' } });
    const yes = keys(refused.state, [ch('y')]);
    expect(yes.state.mode).toBe('main');
    expect(yes.effects).toEqual([{ kind: 'run', action: 'start', targets: [LIST[0]], overrideFence: true }]);
    const no = keys(refused.state, [ch('n')]);
    expect(no.effects).toEqual([]);
    expect(no.state.message).toEqual({ text: 'cancelled', kind: 'info' });
    // In another view the refusal is only said: nothing takes the keys away from what is open.
    const elsewhere = reduce({ ...initialState, mode: 'journal' }, { type: 'fenced', action: 'restart', targets: [LIST[0] as ContainerSummary], reason: 'web is fenced on gw-1' });
    expect(elsewhere.state.mode).toBe('journal');
    expect(elsewhere.state.message).toMatchObject({ text: 'web is fenced on gw-1', kind: 'error' });
  });

  it('restarts at once; s and p follow the container state', () => {
    expect(keys(initialState, [ch('r')]).effects).toEqual([{ kind: 'run', action: 'restart', targets: [LIST[0]] }]);
    const list = [c('x', 'exited'), c('y', 'paused')];
    expect(keys(initialState, [ch('s')], ctx(list)).effects[0]).toMatchObject({ action: 'start' });
    expect(keys(initialState, [ch('s')]).effects[0]).toMatchObject({ action: 'stop' });
    expect(keys(initialState, [ch('j'), ch('p')], ctx(list)).effects[0]).toMatchObject({ action: 'unpause' });
  });

  it('refuses what changes something in --read-only, saying what is off', () => {
    const ro = ctx(LIST, { readOnly: true });
    for (const [k, text] of [
      ['r', 'read-only: restart is off'],
      ['s', 'read-only: stop is off'],
      ['d', 'read-only: remove is off'],
      ['K', 'read-only: kill is off'],
      ['e', 'read-only: shell is off'],
    ] as const) {
      const step = keys(initialState, [ch(k)], ro);
      expect(step.effects).toEqual([]);
      expect(step.state.mode).toBe('main');
      expect(step.state.message).toEqual({ text, kind: 'error' });
    }
    const rules = keys({ ...initialState, tab: 'rules' }, [ch('R')], ro);
    expect(rules.effects).toEqual([]);
    expect(rules.state.message?.text).toBe('read-only: rules cannot be changed');
    expect(keys(initialState, [ch(':'), ...typing('restart b'), flag('return')], ro).state.message?.text).toBe('read-only: restart is off');
  });

  it('R and P act on the rules tab only, through the port; without one they say so', () => {
    expect(keys(initialState, [ch('R'), ch('P')]).effects).toEqual([]);
    const tab = { ...initialState, tab: 'rules' as const };
    expect(keys(tab, [ch('R'), ch('P')]).effects).toEqual([
      { kind: 'rules-reset', container: 'a', node: 'local' },
      { kind: 'rules-pause', container: 'a', node: 'local' },
    ]);
    const none = keys(tab, [ch('P')], ctx(LIST, { nodes: [{ name: 'local', rules: false }] }));
    expect(none.effects).toEqual([]);
    expect(none.state.message).toEqual({ text: 'rules: no agent reachable for local', kind: 'error' });
    expect(keys(initialState, [ch('J')], ctx(LIST, { nodes: [{ name: 'local', rules: false }] })).state.mode).toBe('main');
  });

  it('opens and closes the help, which scrolls when longer than the screen and goes back where it came from', () => {
    let s = keys(initialState, [ch('?')], ctx(LIST, { height: 10 })).state;
    expect(s.mode).toBe('help');
    expect(s.helpFor).toBe('main');
    s = keys(s, [ch('j'), ch('j'), ch('k')], ctx(LIST, { height: 10 })).state;
    expect(s.helpTop).toBe(1);
    s = keys(s, [flag('pageDown'), flag('pageDown'), flag('pageDown'), flag('pageDown'), flag('pageDown')], ctx(LIST, { height: 10 })).state;
    const lines = keysFor('main', false).length;
    expect(s.helpTop).toBeGreaterThan(lines - 10);
    s = keys(s, [ch('x')], ctx(LIST, { height: 10 })).state;
    expect(s.mode).toBe('main');
    expect(s.helpTop).toBe(0);
    // On a screen that fits it, j closes it as any key does.
    expect(keys(initialState, [ch('?'), ch('j')], ctx(LIST, { height: 80 })).state.mode).toBe('main');
    // From the journal, back to the journal; from the logs (still open), back to the logs.
    expect(keys({ ...initialState, mode: 'journal' }, [ch('?'), ch('x')]).state.mode).toBe('journal');
    let logs = reduce({ ...initialState, mode: 'logs', logsOpen: true }, { type: 'logs-help' }).state;
    expect(logs.helpFor).toBe('logs');
    logs = keys(logs, [ch('x')]).state;
    expect(logs.mode).toBe('logs');
  });

  it('space marks and moves down; the selection stays on its container when a CPU sort reorders the rows', () => {
    const cpu = (o: Record<string, number>) => new Map(Object.entries(o).map(([n, p]) => [`${n}-id`, { id: `${n}-id`, name: n, at: 0, cpuPercent: p, memoryBytes: 0 } as never]));
    const first = ctx(LIST, { stats: cpu({ a: 50, b: 40, c: 30, d: 20, e: 10 }) });
    let s: UiState = { ...initialState, sort: 'cpu' };
    s = keys(s, [ch(' ')], first).state;
    expect([...s.marked]).toEqual(['local/a-id']);
    expect(s.sel.id).toBe('b-id');
    // b jumps to the top: the cursor goes with it, and the next space unmarks… b, the same container.
    const reordered = ctx(LIST, { stats: cpu({ a: 50, b: 90, c: 30, d: 20, e: 10 }) });
    s = reduce(s, { type: 'sync', ctx: reordered }).state;
    expect(s.sel.id).toBe('b-id');
    s = keys(s, [ch(' ')], reordered).state;
    expect([...s.marked].sort()).toEqual(['local/a-id', 'local/b-id']);
    expect(s.sel.id).toBe('a-id');
    expect(BINDINGS.find((b) => b.action === 'mark')?.help).toMatch(/mark.*move down/);
  });

  it('an action\'s result stays 3 s before a rule\'s notice replaces it; identical notices coalesce', () => {
    const ev = (s: UiState, e: UiEvent) => reduce(s, e).state;
    let s = ev(initialState, { type: 'say', text: 'paused web', at: 10_000 });
    const n = (at: number, count = 1): UiEvent => ({ type: 'notice', text: '⚑ logger wrote a line', count, at });
    s = ev(s, n(10_100));
    s = ev(s, n(10_500, 2));
    expect(s.message?.text).toBe('paused web');
    s = ev(s, { type: 'tick', at: 12_999 });
    expect(s.message?.text).toBe('paused web');
    s = ev(s, { type: 'tick', at: 13_000 });
    expect(s.message?.text).toBe('⚑ logger wrote a line (+2 more: J)');
    s = ev(s, n(13_500));
    s = ev(s, n(14_000));
    expect(s.message?.text).toBe('⚑ logger wrote a line (+4 more: J)');
    // A different notice replaces it; a later action's result again holds.
    s = ev(s, { type: 'notice', text: '⚑ db is unhealthy', count: 1, at: 14_100 });
    expect(s.message?.text).toBe('⚑ db is unhealthy');
    s = ev(s, { type: 'say', text: 'restarted db', at: 15_000 });
    s = ev(s, n(15_100));
    expect(s.message?.text).toBe('restarted db');
    s = ev(s, { type: 'tick', at: 18_000 });
    expect(s.message?.text).toBe('⚑ logger wrote a line');
  });

  it(':containers shows every container: it clears the filter and says so (documented in the help)', () => {
    const s = keys({ ...initialState, filter: 'db' }, [ch(':'), ...typing('containers'), flag('return')]).state;
    expect(s.filter).toBe('');
    expect(s.message?.text).toBe('filter `db` cleared: every container shown');
    expect(BINDINGS.find((b) => b.action === 'palette')?.help).toMatch(/:containers .*clears the filter/);
  });

  it('the palette does not offer, in --read-only, the commands it would refuse', () => {
    expect(paletteWords(true)).not.toEqual(expect.arrayContaining(['restart']));
    for (const w of ['restart', 'stop', 'start', 'kill', 'pause', 'unpause', 'rm']) expect(paletteWords(true)).not.toContain(w);
    expect(paletteWords(true)).toEqual(expect.arrayContaining(['containers', 'logs', 'filter', 'journal', 'quit']));
    expect(paletteWords(false)).toContain('restart');
    const ro = keys(initialState, [ch(':'), ...typing('nope'), flag('return')], ctx(LIST, { readOnly: true })).state;
    expect(ro.message?.text).not.toMatch(/restart|kill|rm/);
  });

  it('journal c keeps to the container of the selected (bold) entry, not the main list\'s selection', () => {
    const jctx = ctx(LIST, { journalCount: 3, journalContainers: ['c', 'e', 'd'] });
    // The main list's selection is `a`; the journal's selected entry is the newest (d), then one up (e).
    let s = keys(initialState, [ch('J'), ch('c')], jctx).state;
    expect(s.journal.only).toBe('d');
    s = keys(s, [ch('c'), ch('k'), ch('c')], jctx).state;
    expect(s.journal.only).toBe('e');
    expect(s.journal.back).toBe(0);
  });

  it('scrolls the journal, shows an entry whole, and keeps to one container', () => {
    let s = keys(initialState, [ch('J')]).state;
    expect(s.mode).toBe('journal');
    s = keys(s, [ch('k'), ch('k'), flag('upArrow'), ch('j')], ctx(LIST, { journalCount: 10 })).state;
    expect(s.journal.back).toBe(2);
    s = keys(s, [ch('g')], ctx(LIST, { journalCount: 10 })).state;
    expect(s.journal.back).toBe(9);
    s = keys(s, [flag('pageDown')], ctx(LIST, { journalCount: 10 })).state;
    expect(s.journal.back).toBe(0);
    s = keys(s, [flag('pageUp'), ch('G')], ctx(LIST, { journalCount: 100 })).state;
    expect(s.journal.back).toBe(0);
    s = keys(s, [flag('return')]).state;
    expect(s.journal.detail).toBe(true);
    s = keys(s, [ch('q')]).state;
    expect(s.journal.detail).toBe(false);
    expect(s.mode).toBe('journal');
    s = keys(s, [ch('c')], ctx(LIST, { journalCount: 2, journalContainers: ['b', 'a'] })).state;
    expect(s.journal.only).toBe('a');
    s = keys(s, [ch('c'), flag('escape')]).state;
    expect(s.journal.only).toBeNull();
    expect(s.mode).toBe('main');
  });

  it('runs the palette commands', () => {
    const palette = (text: string, context = ctx(LIST, { nodes: [{ name: 'local', rules: true }, { name: 'gw-2', rules: false }], containers: (n) => (n === 'local' ? LIST : []) })) => keys(initialState, [ch(':'), ...typing(text), flag('return')], context);
    expect(palette('quit').effects).toEqual([{ kind: 'exit' }]);
    expect(palette('logs c').effects).toEqual([{ kind: 'open-logs', targets: [LIST[2]] }]);
    expect(palette('logs nope').state.message).toEqual({ text: 'no container `nope`', kind: 'error' });
    expect(palette('restart d-i').effects).toEqual([{ kind: 'run', action: 'restart', targets: [LIST[3]] }]);
    expect(palette('rm').state.confirm).toEqual({ action: 'remove', targets: [LIST[0]] });
    expect(palette('node gw-2').state).toMatchObject({ nodeIndex: 1, allNodes: false });
    expect(palette('node nope').state.message?.text).toBe('no node `nope` (nodes: all, local, gw-2)');
    expect(palette('sort cpu').state.sort).toBe('cpu');
    expect(palette('sort size').state.message?.kind).toBe('error');
    expect(palette('filter web').state.filter).toBe('web');
    expect(palette('help').state.mode).toBe('help');
    expect(palette('journal').state.mode).toBe('journal');
    expect(palette('frob').state.message?.text).toContain('unknown command `frob`');
    const esc = keys(initialState, [ch(':'), ...typing('res'), flag('escape')]);
    expect(esc.state.mode).toBe('main');
    expect(esc.effects).toEqual([]);
  });

  it('cycles the tab, the sort and the node; one node says how to add peers', () => {
    let s = keys(initialState, [flag('tab'), flag('tab')]).state;
    expect(s.tab).toBe('inspect');
    s = keys(s, [flag('tab'), flag('tab')]).state;
    expect(s.tab).toBe('logs');
    expect(keys(initialState, [ch('o'), ch('o')]).state.sort).toBe('cpu');
    expect(keys(initialState, [ch('n')]).state.message?.text).toContain('only one node');
    const two = ctx(LIST, { nodes: [{ name: 'local', rules: true }, { name: 'gw-2', rules: false }] });
    // all → local → gw-2 → all
    expect(keys(initialState, [ch('n')], two).state).toMatchObject({ allNodes: false, nodeIndex: 0 });
    expect(keys(initialState, [ch('n'), ch('n')], two).state).toMatchObject({ allNodes: false, nodeIndex: 1 });
    expect(keys(initialState, [ch('n'), ch('n'), ch('n')], two).state).toMatchObject({ allNodes: true, nodeIndex: 0 });
  });

  describe('many nodes', () => {
    const here = ['a', 'b'].map((n) => c(n));
    const there = ['x', 'y'].map((n) => ({ ...c(n), node: 'gw-2' }));
    const two = (o: Partial<KeyContext> = {}) =>
      ctx([], { nodes: [{ name: 'local', rules: true }, { name: 'gw-2', rules: false }], containers: (n) => (n === 'local' ? here : n === 'gw-2' ? there : []), ...o });
    const down = (s: UiState, n: number, context: KeyContext) => keys(s, Array.from({ length: n }, () => ch('j')), context).state;

    it('the all-nodes view lists every node\'s containers; a node view only its own', () => {
      const context = two();
      const all = [...here, ...there];
      expect(selectedName(down(initialState, 3, context), all)).toBe('y');
      const gw = keys(initialState, [ch(':'), ...typing('node gw-2'), flag('return')], context).state;
      expect(selectedName(down(gw, 5, context), there)).toBe('y');
      expect(keys(gw, [ch(':'), ...typing('node all'), flag('return')], context).state.allNodes).toBe(true);
    });

    it('`:node local` is this machine whatever its fleet name, as on the command line', () => {
      const context = ctx([], { nodes: [{ name: 'a', rules: true, thisMachine: true }, { name: 'gw-2', rules: false }], containers: (n) => (n === 'a' ? here : n === 'gw-2' ? there : []) });
      const onGw = keys(initialState, [ch(':'), ...typing('node gw-2'), flag('return')], context).state;
      const local = keys(onGw, [ch(':'), ...typing('node local'), flag('return')], context).state;
      expect(local.allNodes).toBe(false);
      expect(local.nodeIndex).toBe(0);
      expect(local.message?.kind).not.toBe('error');
    });

    it('actions, logs and shell act on the container of its own node', () => {
      const context = two();
      const onY = down(initialState, 3, context);
      expect(keys(onY, [ch('r')], context).effects).toEqual([{ kind: 'run', action: 'restart', targets: [there[1]] }]);
      expect(keys(onY, [ch('e')], context).effects).toEqual([{ kind: 'exec', container: there[1] }]);
      // Marked across nodes: one merged logs view of both.
      const marked = keys(initialState, [ch(' '), ch('j'), ch(' '), flag('return')], context);
      expect(marked.effects).toEqual([{ kind: 'open-logs', targets: [here[0], there[0]] }]);
      expect(keys(initialState, [ch(':'), ...typing('restart x'), flag('return')], context).effects).toEqual([{ kind: 'run', action: 'restart', targets: [there[0]] }]);
    });

    it('the rules and the journal are those of the selected container\'s node', () => {
      const context = two();
      const rulesTab = { ...initialState, tab: 'rules' as const };
      expect(keys(rulesTab, [ch('R')], context).effects).toEqual([{ kind: 'rules-reset', container: 'a', node: 'local' }]);
      const onX = down(rulesTab, 2, context);
      expect(keys(onX, [ch('R')], context).state.message?.text).toBe('rules: no agent reachable for gw-2');
      expect(keys(onX, [ch('J')], context).state.message?.kind).toBe('error');
      expect(keys(rulesTab, [ch('J')], context).state.mode).toBe('journal');
    });

    it('one node: the all-nodes view is that node\'s list, `n` says how to add peers', () => {
      expect(showsAll(initialState, ctx(LIST))).toBe(false);
      expect(showsAll(initialState, two())).toBe(true);
      expect(keys(initialState, [ch('n')]).state.allNodes).toBe(true);
    });
  });

  it('sends Ctrl-C, Ctrl-L and q out as effects; other Ctrl keys are not their letter; in the logs view keys go to its screen', () => {
    expect(keys(initialState, [ch('q')]).effects).toEqual([{ kind: 'exit' }]);
    const ctrlC: [string, Key] = ['c', { ...NO_KEY, ctrl: true }];
    const ctrlL: [string, Key] = ['l', { ...NO_KEY, ctrl: true }];
    for (const mode of ['main', 'filter', 'palette', 'help', 'journal', 'logs', 'confirm'] as const) {
      expect(keys({ ...initialState, mode }, [ctrlC, ctrlL]).effects).toEqual([{ kind: 'exit' }, { kind: 'redraw' }]);
    }
    expect(keys(initialState, [['r', { ...NO_KEY, ctrl: true }], ['d', { ...NO_KEY, ctrl: true }]]).effects).toEqual([]);
    expect(keys({ ...initialState, mode: 'filter', typed: 'ab' }, [['u', { ...NO_KEY, ctrl: true }]]).state.typed).toBe('');
    const inLogs = keys({ ...initialState, mode: 'logs', logsOpen: true }, [ch('q')]);
    expect(inLogs.effects).toEqual([{ kind: 'logs-key', input: 'q', key: NO_KEY }]);
    expect(reduce(inLogs.state, { type: 'logs-closed' }).state).toMatchObject({ mode: 'main', logsOpen: false });
  });

  it('suspends for a shell of a running container and says how it ended', () => {
    const step = keys(initialState, [ch('e')]);
    expect(step.state.mode).toBe('suspended');
    expect(step.effects).toEqual([{ kind: 'exec', container: LIST[0] }]);
    expect(keys(step.state, [ch('q')]).effects).toEqual([]);
    const ended = reduce(step.state, { type: 'exec-ended', name: 'a', code: 3 } satisfies UiEvent).state;
    expect(ended).toMatchObject({ mode: 'main', message: { text: 'shell in a ended (exit 3)', kind: 'error' } });
    expect(keys(initialState, [ch('e')], ctx([c('x', 'exited')])).state.message?.text).toBe('local/x is not running (exited): s starts it');
  });

  it('keeps the selection in its place when the container goes, and follows a re-created one by name', () => {
    let s = keys(initialState, [ch('j'), ch('j')]).state;
    expect(selectedName(s)).toBe('c');
    const without = LIST.filter((x) => x.name !== 'c');
    s = reduce(s, { type: 'sync', ctx: ctx(without) }).state;
    expect(without.find((x) => x.id === s.sel.id)?.name).toBe('d');
    const again = [...without, c('c', 'running', 'c-new')];
    const list = visibleList(again, '', 'name', new Map());
    s = reduce(s, { type: 'sync', ctx: ctx(again) }).state;
    expect(list.find((x) => x.id === s.sel.id)?.id).toBe('c-new');
    // settle is idempotent: the same selection object when nothing changed.
    expect(settle(s.sel, list)).toBe(s.sel);
  });

  it('a message is cleared by the next key of the main view', () => {
    const s = reduce(initialState, { type: 'say', text: 'hello', kind: 'info' }).state;
    expect(s.message?.text).toBe('hello');
    expect(keys(s, [ch('x')]).state.message).toBeNull();
  });
});

describe('the placement dialog', () => {
  const palette = (text: string, context = ctx(LIST)) => keys(initialState, [ch(':'), ...typing(text), flag('return')], context);

  it(':place FILE opens the dialog while the table is worked out, shows it, and y runs it', () => {
    const opened = palette('place web.yaml');
    expect(opened.state.mode).toBe('placement');
    expect(opened.state.placement).toMatchObject({ planning: true, canRun: false });
    expect(opened.effects).toEqual([{ kind: 'place-plan', file: 'web.yaml' }]);
    // Keys while it is worked out do not run anything (y before the table is there is no yes).
    const early = keys(opened.state, [ch('y')]);
    expect(early.effects).toEqual([]);
    expect(early.state.mode).toBe('placement');
    const planned = reduce(opened.state, { type: 'planned', title: 'place web.yaml', lines: ['y: run 1 replica(s) there', 'NODE VERDICT'], canRun: true });
    expect(planned.state.placement).toMatchObject({ planning: false, canRun: true, lines: ['y: run 1 replica(s) there', 'NODE VERDICT'] });
    const yes = keys(planned.state, [ch('y')]);
    expect(yes.effects).toEqual([{ kind: 'place-run' }]);
    expect(yes.state.mode).toBe('main');
    const no = keys(planned.state, [ch('x')]);
    expect(no.effects).toEqual([]);
    expect(no.state.message?.text).toBe('cancelled');
  });

  it('a table that cannot be run only explains; y closes it; a cancelled dialog ignores a late table', () => {
    const opened = palette('place none.yaml');
    const planned = reduce(opened.state, { type: 'planned', title: 'place none.yaml', lines: ['0/3 nodes are available: 3 insufficient memory.'], canRun: false });
    expect(keys(planned.state, [ch('y')]).effects).toEqual([]);
    // Nothing was asked, so nothing is "cancelled" (issue item 14).
    expect(keys(planned.state, [ch('y')]).state.message?.text).toBe('place none.yaml: closed; nothing was run');
    const cancelled = keys(opened.state, [flag('escape')]).state;
    expect(cancelled.mode).toBe('main');
    expect(reduce(cancelled, { type: 'planned', title: 't', lines: ['late'], canRun: true }).state.placement).toBeNull();
  });

  it(':move takes the selected container or a name; :place needs a file; read-only refuses both', () => {
    expect(palette('move b').effects).toEqual([{ kind: 'move-plan', container: LIST[1] }]);
    expect(palette('move nope').state.message?.text).toBe('no container `nope`');
    expect(palette('place').state.message?.text).toMatch(/place needs a workload file/);
    const ro = ctx(LIST, { readOnly: true });
    expect(palette('place web.yaml', ro).effects).toEqual([]);
    expect(palette('place web.yaml', ro).state.message?.text).toBe('read-only: place is off');
    expect(palette('move b', ro).state.message?.text).toBe('read-only: move is off');
    expect(paletteWords(true)).not.toContain('place');
    expect(paletteWords(false)).toEqual(expect.arrayContaining(['place', 'move']));
  });
});

describe('marks are the targets of the actions (issue: marks ignored by actions)', () => {
  const proj = (name: string, node = 'local') => ({ ...c(name), composeProject: 'shop', node }) as ContainerSummary;
  const shop = [proj('shop-a'), proj('shop-b'), proj('shop-c'), proj('shop-d')];
  const sctx = ctx(shop);
  // g, space × 3: three marked, the cursor on the fourth.
  const marked3 = () => keys(initialState, [ch('g'), ch(' '), ch(' '), ch(' ')], sctx).state;

  it('r, s, K, d act on the marked containers, after one question that lists them node/name each', () => {
    const s = marked3();
    expect(selectedName(s, shop)).toBe('shop-d');
    for (const [k, action] of [['r', 'restart'], ['s', 'stop'], ['K', 'kill'], ['d', 'remove'], ['p', 'pause']] as const) {
      const asked = keys(s, [ch(k)], sctx);
      expect(asked.effects, k).toEqual([]);
      expect(asked.state.mode, k).toBe('confirm');
      expect(asked.state.confirm, k).toEqual({ action, targets: shop.slice(0, 3), marked: true });
      const yes = keys(asked.state, [ch('y')], sctx);
      expect(yes.effects, k).toEqual([{ kind: 'run', action, targets: shop.slice(0, 3) }]);
    }
  });

  it('enter, esc then r: esc clears the marks, r acts on the cursor alone', () => {
    const s = marked3();
    const logs = keys(s, [flag('return')], sctx);
    expect(logs.effects).toEqual([{ kind: 'open-logs', targets: shop.slice(0, 3) }]);
    const after = keys(reduce(logs.state, { type: 'logs-closed' }).state, [flag('escape'), ch('r')], sctx);
    expect(after.effects).toEqual([{ kind: 'run', action: 'restart', targets: [shop[3]] }]);
  });

  it('palette actions with no name act on the marks; with a name, on that container', () => {
    const s = marked3();
    const bare = keys(s, [ch(':'), ...typing('restart'), flag('return')], sctx);
    expect(bare.state.confirm).toEqual({ action: 'restart', targets: shop.slice(0, 3), marked: true });
    expect(keys(s, [ch(':'), ...typing('restart shop-d'), flag('return')], sctx).effects).toEqual([{ kind: 'run', action: 'restart', targets: [shop[3]] }]);
  });

  it('s with marks stops those that run (start when none runs); p pauses those that run, unpauses when all are paused', () => {
    const mixed = [proj('m-a'), { ...proj('m-b'), state: 'exited' } as ContainerSummary, { ...proj('m-c'), state: 'paused' } as ContainerSummary];
    const mctx = ctx(mixed);
    const s = keys(initialState, [ch(' '), ch(' '), ch(' ')], mctx).state;
    expect(keys(s, [ch('s')], mctx).state.confirm).toEqual({ action: 'stop', targets: [mixed[0], mixed[2]], marked: true });
    expect(keys(s, [ch('p')], mctx).state.confirm).toEqual({ action: 'pause', targets: [mixed[0]], marked: true });
    const stopped = mixed.map((x) => ({ ...x, state: 'exited' }) as ContainerSummary);
    expect(keys(s, [ch('s')], ctx(stopped)).state.confirm?.action).toBe('start');
  });

  it('names the marks in the list\'s order, whatever the order the node holds them in', () => {
    const newestFirst = ctx([...shop].reverse());
    const s = keys(initialState, [ch('g'), ch(' '), ch(' '), ch(' ')], newestFirst).state;
    expect(keys(s, [ch('r')], newestFirst).state.confirm?.targets.map((x) => x.name)).toEqual(['shop-a', 'shop-b', 'shop-c']);
  });

  it('the mark help says what marks do', () => {
    expect(BINDINGS.find((b) => b.action === 'mark')?.help).toMatch(/r s p K d.*marked/);
  });
});

describe('names that run on several nodes (issue: `:restart web` restarted this machine\'s web)', () => {
  const web = (node: string) => ({ ...c('web', 'running', `${node}-web-id`), node }) as ContainerSummary;
  const nodes = ['local', 'gw-2', 'gw-3'];
  const three = ctx([], { nodes: nodes.map((name) => ({ name, rules: true })), containers: (n) => [web(n), ...(n === 'gw-3' ? [{ ...c('db'), node: 'gw-3' } as ContainerSummary] : [])] });
  const palette = (text: string, s: UiState = initialState) => keys(s, [ch(':'), ...typing(text), flag('return')], three);

  it('refuses a name on several nodes, listing node/name, and takes node/name to choose', () => {
    const refused = palette('restart web');
    expect(refused.effects).toEqual([]);
    expect(refused.state.message?.kind).toBe('error');
    expect(refused.state.message?.text).toBe('`web` runs on 3 nodes: local/web, gw-2/web, gw-3/web; say which, e.g. `:restart local/web`');
    expect(palette('restart gw-2/web').effects).toEqual([{ kind: 'run', action: 'restart', targets: [web('gw-2')] }]);
    expect(palette('logs gw-3/web').effects).toEqual([{ kind: 'open-logs', targets: [web('gw-3')] }]);
    expect(palette('restart gw-9/web').state.message?.text).toBe('no container `gw-9/web`');
    expect(palette('restart db').effects).toEqual([{ kind: 'run', action: 'restart', targets: [{ ...c('db'), node: 'gw-3' }] }]);
  });

  it('names the node in what it says of a container', () => {
    expect(reduce(initialState, { type: 'exec-ended', name: 'gw-2/web', code: 0 }).state.message?.text).toBe('shell in gw-2/web ended (exit 0)');
    expect(reduce(initialState, { type: 'exec-failed', name: 'gw-2/web', error: 'no such container' }).state.message?.text).toBe('shell in gw-2/web failed: no such container');
    const onGw2: UiState = { ...initialState, sel: { id: 'gw-2-web-id', name: 'web', place: 1, lost: null } };
    expect(keys(onGw2, [ch('e')], ctx([], { ...three, containers: (n) => (n === 'gw-2' ? [{ ...web('gw-2'), state: 'exited' } as ContainerSummary] : []) })).state.message?.text).toBe('gw-2/web is not running (exited): s starts it');
    const noRules = ctx([], { nodes: [{ name: 'gw-2', rules: false }], containers: () => [web('gw-2')] });
    expect(keys({ ...initialState, tab: 'rules' }, [ch('R')], noRules).state.message?.text).toBe('rules: no agent reachable for gw-2');
  });
});

describe('a paused container (issue: `e` says "is not running")', () => {
  const paused = [{ ...c('pz', 'paused') }];
  const pctx = ctx(paused);
  it('e says it is paused and how to unpause it', () => {
    expect(keys(initialState, [ch('e')], pctx).state.message).toEqual({ text: 'local/pz is paused: p unpauses it, then e opens a shell', kind: 'error' });
  });
  it(':start on a running container says it runs already, not "started"', () => {
    const running = ctx([{ ...c('web', 'running') }]);
    const step = keys(initialState, [ch(':'), ...typing('start web'), flag('return')], running);
    expect(step.effects).toEqual([]);
    expect(step.state.message?.text).toBe('local/web is running already: r (or :restart local/web) restarts it');
  });
  it('e on a restarting container (a crash loop) does not say that s starts it: s would stop it', () => {
    const loop = ctx([{ ...c('loop', 'restarting') }]);
    const text = keys(initialState, [ch('e')], loop).state.message?.text ?? '';
    expect(text).toMatch(/^local\/loop is restarting/);
    expect(text).not.toMatch(/s starts it/);
  });
  it('s stops it (it still runs: start would fail), and the palette says what does not apply', () => {
    expect(keys(initialState, [ch('s')], pctx).effects).toEqual([{ kind: 'run', action: 'stop', targets: paused }]);
    const palette = (text: string) => keys(initialState, [ch(':'), ...typing(text), flag('return')], pctx);
    expect(palette('start pz').state.message?.text).toBe('local/pz is paused, not stopped: p (or :unpause local/pz) unpauses it');
    expect(palette('pause pz').state.message?.text).toBe('local/pz is paused already: p (or :unpause local/pz) unpauses it');
    expect(keys(initialState, [ch(':'), ...typing('unpause a'), flag('return')]).state.message?.text).toBe('local/a is not paused');
    expect(keys(initialState, [ch(':'), ...typing('pause x'), flag('return')], ctx([c('x', 'exited')])).state.message?.text).toBe('local/x is not running (exited): nothing to pause');
  });
});

describe('two nodes on one engine: the same container IDs (a row is its node and ID)', () => {
  const on = (node: string) => ({ ...c('web', 'running', 'same-id'), node }) as ContainerSummary;
  const twin = ctx([], { nodes: [{ name: 'local', rules: true }, { name: 'gw-2', rules: true }], containers: (n) => [on(n)] });
  it('G selects the last row, gw-2\'s, and r restarts that one, not the first of that ID', () => {
    const s = keys(initialState, [ch('G')], twin).state;
    expect(selectedIn(s, [on('local'), on('gw-2')])?.node).toBe('gw-2');
    expect(keys(s, [ch('r')], twin).effects).toEqual([{ kind: 'run', action: 'restart', targets: [on('gw-2')] }]);
    const back = keys(s, [ch('k')], twin).state;
    expect(selectedIn(back, [on('local'), on('gw-2')])?.node).toBe('local');
  });
});
