import { Box, Text, useApp, useStdout, type Key } from 'ink';
import { useKeys, type KeyHandler } from './use-keys.js';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactElement } from 'react';
import type { Fleet } from '../../core/fleet.js';
import type { ContainerDetails, ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { LogSession, type LogEntry } from '../logs/log-session.js';
import { filterContainers, listRows, SORT_KEYS, sortContainers, windowTop, type SortKey } from '../presentation/container-list.js';
import { inert } from '../presentation/inert.js';
import { frameSize, mainHeights, mainHints } from '../presentation/main-layout.js';
import type { FleetView } from './fleet-view.js';
import { keysFor, PALETTE_WORDS, parsePalette, type View } from './keymap.js';
import { editLine, PromptLine } from './line-input.js';
import { LogsScreen } from './logs-screen.js';
import { ContainerTable, DETAIL_TABS, DetailTabs, Header, HostStrip, InspectPanel, LogTail, StatsPanel, type DetailTab } from './main-screen.js';
import type { Theme } from './theme.js';
import type { Prefs } from './prefs.js';
import type { RulesSource } from './rules-source.js';
import type { AgentStatus } from '../../core/agent/store.js';
import { agentMarks, JournalScreen, RulesPanel } from './rules-panel.js';
import { truncate, wrapText } from '../presentation/format.js';

export interface AppProps {
  fleet: Fleet;
  view: FleetView;
  theme: Theme;
  readOnly: boolean;
  /** Read when used: preferences finish loading after the first frame. */
  prefs: Prefs;
  /** Steps aside for an interactive shell in the container; resolves (with the shell's exit code) when it ends. */
  onExec: (node: Node, container: ContainerSummary) => Promise<number | void>;
  /** Ctrl-L: paints the whole screen again (a terminal garbled by something else). */
  onRedraw?: () => void;
  /** Messages from outside the UI (a bad preferences file), shown on the status line. */
  notices?: { subscribe(listener: (text: string) => void): () => void };
  now?: () => number;
}

type Mode = 'main' | 'filter' | 'palette' | 'confirm' | 'help' | 'logs' | 'journal' | 'suspended';
type Action = 'restart' | 'stop' | 'start' | 'kill' | 'pause' | 'unpause' | 'remove';

const progressWords: Record<Action, [string, string]> = {
  restart: ['restarting', 'restarted'],
  stop: ['stopping', 'stopped'],
  start: ['starting', 'started'],
  kill: ['killing', 'killed'],
  pause: ['pausing', 'paused'],
  unpause: ['unpausing', 'unpaused'],
  remove: ['removing', 'removed'],
};

function useTerminalSize(): { cols: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

export function App(props: AppProps) {
  const { fleet, view, theme, readOnly } = props;
  const { exit } = useApp();
  const snapshot = useSyncExternalStore(view.subscribe, view.getSnapshot);
  const { cols, rows: termRows } = useTerminalSize();
  const { width, height } = frameSize(cols, termRows);
  const now = (props.now ?? Date.now)();

  const [mode, setModeState] = useState<Mode>('main');
  // Keys are routed by this ref, not by the rendered mode: a key that arrives before React has
  // re-rendered after a mode change (fast typing over SSH) must reach the new mode's handler.
  const modeRef = useRef<Mode>('main');
  const setMode = (m: Mode) => {
    modeRef.current = m;
    setModeState(m);
  };
  const typedRef = useRef('');
  const [typed, setTypedState] = useState('');
  const setTyped = (v: string) => {
    typedRef.current = v;
    setTypedState(v);
  };
  const logsKeys = useRef<KeyHandler | null>(null);
  const logsQueue = useRef<[string, Key][]>([]);
  const [helpFor, setHelpFor] = useState<View>('main');
  const [helpTop, setHelpTopState] = useState(0);
  const helpTopRef = useRef(0);
  const helpMax = useRef(0);
  const setHelpTop = (f: (t: number) => number) => {
    helpTopRef.current = f(helpTopRef.current);
    setHelpTopState(helpTopRef.current);
  };
  const [nodeIndex, setNodeIndex] = useState(0);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [filter, setFilterState] = useState('');
  const [sort, setSortState] = useState<SortKey>('name');
  // Like the mode, filter, sort and selection are mirrored in refs that the key router reads:
  // `/db⏎⏎` arriving in one read must open the logs of db, not of what was selected before.
  const filterRef = useRef('');
  const sortRef = useRef<SortKey>('name');
  const selectedIdRef = useRef<string | null>(null);
  const setFilter = (f: string) => {
    filterRef.current = f;
    setFilterState(f);
  };
  const setSort = (k: SortKey) => {
    sortRef.current = k;
    setSortState(k);
  };
  const [marked, setMarked] = useState<ReadonlySet<string>>(new Set());
  const [tab, setTab] = useState<DetailTab>('logs');
  // `full`: shown whole, over several rows (preferences problems); any other message takes one row.
  const [message, setMessage] = useState<{ text: string; kind: 'info' | 'error'; full?: boolean } | null>(null);
  const [confirm, setConfirm] = useState<{ action: Action; targets: ContainerSummary[] } | null>(null);
  const [busy, setBusy] = useState<ReadonlyMap<string, string>>(new Map());
  const [logSession, setLogSession] = useState<LogSession | null>(null);
  const [details, setDetails] = useState<ContainerDetails | null>(null);
  const topRef = useRef(0);

  const nodes = fleet.nodes();
  const node = nodes[Math.min(nodeIndex, nodes.length - 1)] as Node | undefined;
  const nodeView = snapshot.nodes.find((n) => n.name === node?.name);

  // Stats change every sample; only the CPU and memory orders depend on them.
  const statsForSort = sort === 'cpu' || sort === 'memory' ? snapshot.stats : null;
  const containers = useMemo(
    () => sortContainers(filterContainers(nodeView?.containers ?? [], filter), sort, statsForSort ?? new Map()),
    [nodeView?.containers, filter, sort, statsForSort],
  );
  const rows = useMemo(() => listRows(containers), [containers]);
  const containerRows = rows.flatMap((r, i) => (r.kind === 'container' ? [{ i, c: r.container }] : []));
  // The selection's place in the list: when the selected container goes (removed, filtered out),
  // its neighbour in the same place is selected, not the first row.
  const selPlace = useRef(0);
  // The name of the selected container, and of one that vanished while selected: when a container
  // of that name appears (re-created: a new ID) before the person moves, the selection follows it.
  const selName = useRef<string | null>(null);
  const lostName = useRef<string | null>(null);
  let selIndex = containerRows.findIndex((r) => r.c.id === selectedId);
  if (selIndex < 0 && selectedId !== null && selName.current !== null) lostName.current ??= selName.current;
  if (lostName.current !== null) {
    const again = containerRows.findIndex((r) => r.c.name === lostName.current);
    if (again >= 0) {
      selIndex = again;
      lostName.current = null;
    }
  }
  if (selIndex < 0 && containerRows.length > 0) selIndex = Math.min(selPlace.current, containerRows.length - 1);
  if (selIndex >= 0) selPlace.current = selIndex;
  const selected = containerRows[selIndex]?.c ?? null;
  if (selected) selName.current = selected.name;

  selectedIdRef.current = selected?.id ?? null;
  useEffect(() => {
    if (selected && selected.id !== selectedId) setSelectedId(selected.id);
  }, [selected, selectedId]);
  const nodeViewRef = useRef(nodeView);
  nodeViewRef.current = nodeView;
  const statsRef = useRef(snapshot.stats);
  statsRef.current = snapshot.stats;

  /** The list as the person sees it now, from the refs (see above). */
  const live = () => {
    const list = listRows(sortContainers(filterContainers(nodeViewRef.current?.containers ?? [], filterRef.current), sortRef.current, statsRef.current)).flatMap((r) =>
      r.kind === 'container' ? [r.container] : [],
    );
    let idx = list.findIndex((c) => c.id === selectedIdRef.current);
    if (idx < 0) idx = Math.max(0, Math.min(selPlace.current, list.length - 1));
    return { list, idx, selected: list[idx] ?? null };
  };

  // Layout: header, host strip, table, detail tabs + body, status line.
  const { tableHeight, detailHeight: paneHeight } = mainHeights(height);
  const rowOfSelected = containerRows[selIndex]?.i ?? 0;
  const top = windowTop(rowOfSelected, tableHeight - 1, rows.length, topRef.current);
  topRef.current = top;

  // The detail pane's log tail follows the selected container (opened a moment after the selection settles).
  const [tail, setTail] = useState<LogSession | null>(null);
  const [, bump] = useState(0);
  useEffect(() => {
    if (!node || !selected || tab !== 'logs' || mode === 'logs') return;
    let session: LogSession | null = null;
    const t = setTimeout(() => {
      // A preview: its first lines are drawn as they come; after that new lines ride along with
      // the next stats frame (every 2 s), so a chatty container does not keep the screen busy.
      session = new LogSession([{ node, id: selected.id, name: selected.name }], { capacity: 200, tail: 50 }, 200);
      const opened = Date.now();
      session.subscribe(() => {
        if (Date.now() - opened < 1000) bump((n) => n + 1);
      });
      setTail(session);
    }, 150);
    return () => {
      clearTimeout(t);
      session?.close();
      setTail(null);
    };
  }, [node, selected?.id, selected?.state === 'running', tab, mode === 'logs']);

  useEffect(() => {
    if (!node || !selected || (tab !== 'inspect' && tab !== 'stats')) return;
    let live = true;
    setDetails(null);
    node.inspect(selected.id).then(
      (d) => live && setDetails(d),
      () => live && setDetails(null),
    );
    return () => {
      live = false;
    };
  }, [node, selected?.id, selected?.state, tab]);

  useEffect(() => () => logSession?.close(), [logSession]);

  // The rule engine's files are read by a module loaded a moment after the first frame (it is not on
  // the startup path); whether an agent runs is re-checked every 10 s, and only a change re-renders.
  const [rulesSrc, setRulesSrc] = useState<RulesSource | null>(null);
  const [agent, setAgent] = useState<AgentStatus | null>(null);
  const [rulesTick, setRulesTick] = useState(0);
  const [journalBack, setJournalBack] = useState(0);
  const [journalOnly, setJournalOnly] = useState<string | null>(null);
  const [journalDetail, setJournalDetail] = useState(false);
  const updateAgent = (src: RulesSource) =>
    setAgent((prev) => {
      const next = src.agent();
      return prev && prev.running === next.running && prev.record?.pid === next.record?.pid ? prev : next;
    });
  useEffect(() => {
    let cancelled = false;
    let timer: NodeJS.Timeout | null = null;
    const t = setTimeout(() => {
      void import('./rules-source.js').then(({ RulesSource }) => {
        if (cancelled) return;
        const src = new RulesSource(process.env);
        setRulesSrc(src);
        updateAgent(src);
        timer = setInterval(() => updateAgent(src), 10_000);
        timer.unref?.();
      });
    }, 800);
    return () => {
      cancelled = true;
      clearTimeout(t);
      if (timer) clearInterval(timer);
    };
  }, []);
  // The journal is followed for as long as the UI runs (inotify: no cost while nothing happens), so
  // what the agent says (a notification, a give-up, a failed action) reaches the status line.
  const followRules = rulesSrc !== null;
  useEffect(() => {
    if (!rulesSrc) return;
    return rulesSrc.subscribe(() => {
      setRulesTick((n) => n + 1);
      updateAgent(rulesSrc);
      const notices = rulesSrc.takeNotices();
      const last = notices.at(-1);
      if (last) {
        const more = notices.length > 1 ? ` (+${notices.length - 1} more: J)` : '';
        setMessage({ text: `⚑ ${inert(last.reason)}${more}`, kind: last.kind === 'notify' ? 'info' : 'error' });
      }
    });
  }, [rulesSrc]);
  const local = node?.isThisMachine === true;
  const secondTick = Math.floor(now / 1000);
  const rulesView = useMemo(() => {
    if (!rulesSrc || tab !== 'rules' || !selected || !local) return null;
    try {
      return rulesSrc.explain(nodeView?.containers ?? [], snapshot.stats, selected.name, now);
    } catch (err) {
      return { statuses: [], problems: [`cannot read the rules: ${err instanceof Error ? err.message : String(err)}`] };
    }
  }, [rulesSrc, tab, selected?.name, nodeView?.containers, rulesTick, secondTick, local]);
  const journalRef = useRef<readonly import('../../core/agent/journal.js').JournalEntry[]>([]);
  journalRef.current = rulesSrc && followRules ? rulesSrc.journal() : [];
  // The agent's restarts count in RST, and a container it gave up on is marked in the list.
  const journalLength = journalRef.current.length;
  const journalLast = journalRef.current.at(-1)?.seq ?? 0;
  const agentByContainer = useMemo(
    () => (local ? agentMarks(journalRef.current, nodeView?.containers ?? []) : new Map()),
    [local, journalLength, journalLast, nodeView?.containers, rulesTick],
  );

  const say = (text: string, kind: 'info' | 'error' = 'info') => setMessage({ text, kind });
  useEffect(() => props.notices?.subscribe((text) => setMessage({ text, kind: 'error', full: true })), [props.notices]);

  const run = useCallback(
    async (action: Action, targets: ContainerSummary[]) => {
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
    [node],
  );

  const openLogs = (targets: ContainerSummary[]) => {
    if (!node || targets.length === 0) return;
    logSession?.close();
    setLogSession(new LogSession(targets.map((c) => ({ node, id: c.id, name: c.name })), { capacity: props.prefs.logBufferLines, tail: 1000 }));
    logsQueue.current = [];
    setMode('logs');
  };

  const mutate = (action: Action, c: ContainerSummary | null) => {
    if (readOnly) return say(`read-only: ${action} is off`, 'error');
    if (!c) return say('no container selected', 'error');
    // Remove always asks; kill asks unless the preferences say not to (`confirmKill: false`).
    if (action === 'remove' || (action === 'kill' && props.prefs.confirmKill !== false)) {
      setConfirm({ action, targets: [c] });
      return setMode('confirm');
    }
    void run(action, [c]);
  };

  const find = (ref: string | null): ContainerSummary | null => {
    if (!ref) return selected;
    const all = nodeView?.containers ?? [];
    return all.find((c) => c.name === ref) ?? all.find((c) => c.id.startsWith(ref)) ?? null;
  };

  const runPalette = (text: string) => {
    const cmd = parsePalette(text);
    setMode('main');
    switch (cmd.kind) {
      case 'error':
        return say(cmd.message, 'error');
      case 'quit':
        return exit();
      case 'help':
        setHelpFor('main');
        return setMode('help');
      case 'journal':
        setJournalBack(0);
        return setMode('journal');
      case 'containers':
        return setFilter('');
      case 'filter':
        return setFilter(cmd.text);
      case 'logs': {
        const c = find(cmd.target);
        return c ? openLogs([c]) : say(`no container \`${cmd.target}\``, 'error');
      }
      case 'node': {
        const i = nodes.findIndex((n) => n.name === cmd.name);
        return i >= 0 ? setNodeIndex(i) : say(`no node \`${cmd.name}\``, 'error');
      }
      case 'sort':
        return SORT_KEYS.includes(cmd.key as SortKey) ? setSort(cmd.key as SortKey) : say(`sort by one of: ${SORT_KEYS.join(', ')}`, 'error');
      case 'action': {
        const c = find(cmd.target);
        if (!c) return say(`no container \`${cmd.target}\``, 'error');
        return mutate(cmd.action, c);
      }
    }
  };

  // Several keys can arrive in one read: moves must add up within it.

  const journalDetailRef = useRef(journalDetail);
  journalDetailRef.current = journalDetail;
  const confirmRef = useRef(confirm);
  confirmRef.current = confirm;

  const onPromptKey = (input: string, key: Key) => {
    const m = modeRef.current as 'filter' | 'palette';
    const e = editLine(typedRef.current, input, key);
    setTyped(e.value);
    if (m === 'filter') setFilter(e.done === 'cancel' ? '' : e.value);
    if (e.done === 'submit' && m === 'palette') return runPalette(e.value);
    if (e.done) setMode('main');
  };

  useKeys(
    (input, key) => {
      if (modeRef.current === 'suspended') return;
      // Ctrl-L redraws, in every view (the terminal convention). Other Ctrl keys are not their
      // letter: Ctrl-R is not restart, Ctrl-K not kill, Ctrl-D not remove, Ctrl-L not logs.
      if (key.ctrl && input === 'l') return props.onRedraw?.();
      // Ctrl-C quits from every view, as in any terminal program (q backs out of a view first).
      if (key.ctrl && input === 'c') return exit();
      if (key.ctrl && input !== 'c' && modeRef.current !== 'filter' && modeRef.current !== 'palette' && modeRef.current !== 'logs') return;
      switch (modeRef.current) {
        case 'logs':
          if (logsKeys.current) logsKeys.current(input, key);
          else logsQueue.current.push([input, key]); // the logs screen is not mounted yet
          return;
        case 'filter':
        case 'palette':
          return onPromptKey(input, key);
        case 'help': {
          // A help longer than the screen scrolls (j/k, PgUp/PgDn); any other key closes it.
          const d = input === 'j' || key.downArrow ? 1 : input === 'k' || key.upArrow ? -1 : key.pageDown ? height - 3 : key.pageUp ? -(height - 3) : 0;
          if (d !== 0 && helpMax.current > 0) return setHelpTop((t) => Math.max(0, Math.min(helpMax.current, t + d)));
          setHelpTop(() => 0);
          setMode(helpFor === 'logs' && logSession ? 'logs' : helpFor === 'journal' ? 'journal' : 'main');
          return;
        }
        case 'journal': {
          const count = journalRef.current.length;
          const page = Math.max(1, height - 4);
          const scroll = (d: number) => setJournalBack((b) => Math.max(0, Math.min(Math.max(0, count - 1), b + d)));
          if (key.return) return setJournalDetail((d) => !d);
          if (journalDetailRef.current && (input === 'q' || key.escape)) return setJournalDetail(false);
          if (input === 'q' || key.escape) return setMode('main');
          if (input === '?') {
            setHelpFor('journal');
            return setMode('help');
          }
          if (input === 'k' || key.upArrow) return scroll(1);
          if (input === 'j' || key.downArrow) return scroll(-1);
          if (key.pageUp) return scroll(page);
          if (key.pageDown) return scroll(-page);
          if (input === 'g' || key.home) return scroll(count);
          if (input === 'G' || key.end) return setJournalBack(0);
          if (input === 'c') {
            setJournalBack(0);
            return setJournalOnly((o) => (o ? null : (live().selected?.name ?? null)));
          }
          return;
        }
        case 'confirm': {
          const c = confirmRef.current;
          if ((input === 'y' || input === 'Y') && c) void run(c.action, c.targets);
          else say('cancelled');
          setConfirm(null);
          setMode('main');
          return;
        }
        case 'main':
          break;
      }
      setMessage(null);
      const now = live();
      const selected = now.selected;
      const move = (to: number) => {
        const c = now.list[Math.max(0, Math.min(now.list.length - 1, to))];
        if (!c) return;
        lostName.current = null;
        selectedIdRef.current = c.id;
        setSelectedId(c.id);
      };
      const cur = now.idx;
      const page = Math.max(1, tableHeight - 2);
      if (input === 'q' || (key.ctrl && input === 'c')) return exit();
      if (input === 'j' || key.downArrow) return move(cur + 1);
      if (input === 'k' || key.upArrow) return move(cur - 1);
      if (input === 'g' || key.home) return move(0);
      if (input === 'G' || key.end) return move(now.list.length - 1);
      if (key.pageDown) return move(cur + page);
      if (key.pageUp) return move(cur - page);
      if (key.tab) return setTab((t) => DETAIL_TABS[(DETAIL_TABS.indexOf(t) + 1) % DETAIL_TABS.length] as DetailTab);
      if (input === '?') {
        setHelpFor('main');
        return setMode('help');
      }
      if (input === '/') {
        setTyped(filterRef.current);
        return setMode('filter');
      }
      if (input === ':') {
        setTyped('');
        return setMode('palette');
      }
      if (key.escape) {
        if (filterRef.current) setFilter('');
        if (marked.size) setMarked(new Set());
        return;
      }
      if (input === 'J') {
        if (!local) return say('the journal of a peer is shown through its agent (not connected)', 'error');
        setJournalBack(0);
        return setMode('journal');
      }
      if ((input === 'R' || input === 'P') && tab === 'rules') {
        if (readOnly) return say('read-only: rules cannot be changed', 'error');
        if (!rulesSrc || !selected || !local) return;
        try {
          if (input === 'R') {
            rulesSrc.reset(selected.name);
            return say(`re-arm of ${selected.name} requested${agent?.running ? '' : ' (no agent runs: the next one applies it)'}`);
          }
          const paused = rulesSrc.togglePause(selected.name);
          setRulesTick((n) => n + 1);
          return say(paused ? `rules paused for ${selected.name} (P resumes)` : `rules resumed for ${selected.name}`);
        } catch (err) {
          return say(err instanceof Error ? err.message : String(err), 'error');
        }
      }
      if (input === 'o') return setSort(SORT_KEYS[(SORT_KEYS.indexOf(sortRef.current) + 1) % SORT_KEYS.length] as SortKey);
      if (input === 'n') return nodes.length > 1 ? setNodeIndex((i) => (i + 1) % nodes.length) : say('only one node: add peers with `outpost peers add`');
      if (input === ' ' && selected) {
        const next = new Set(marked);
        if (next.has(selected.id)) next.delete(selected.id);
        else next.add(selected.id);
        setMarked(next);
        return move(cur + 1);
      }
      if (key.return || input === 'l') {
        const targets = marked.size > 0 ? (nodeView?.containers ?? []).filter((c) => marked.has(c.id)) : selected ? [selected] : [];
        return openLogs(targets);
      }
      if (input === 'r') return mutate('restart', selected);
      if (input === 's') return mutate(selected?.state === 'running' || selected?.state === 'restarting' ? 'stop' : 'start', selected);
      if (input === 'p') return mutate(selected?.state === 'paused' ? 'unpause' : 'pause', selected);
      if (input === 'K') return mutate('kill', selected);
      if (input === 'd') return mutate('remove', selected);
      if (input === 'e') {
        if (readOnly) return say('read-only: shell is off', 'error');
        if (!node || !selected) return;
        if (selected.state !== 'running') return say(`${selected.name} is not running`, 'error');
        setMode('suspended');
        setTimeout(() => void props.onExec(node, selected).then(
          (code) => {
            setMode('main');
            say(`shell in ${selected.name} ended${typeof code === 'number' ? ` (exit ${code})` : ''}`, typeof code === 'number' && code !== 0 ? 'error' : 'info');
          },
          (err: unknown) => {
            setMode('main');
            say(`shell failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
          },
        ), 0);
      }
    },
    { isActive: mode !== 'suspended' },
  );

  if (mode === 'suspended') return null;

  // Every key is listed: the action wraps under its key on a narrow screen, and the list scrolls
  // when it is longer than the screen.
  const helpLines =
    mode === 'help'
      ? keysFor(helpFor, readOnly).flatMap((k) => {
          const keyWidth = width >= 40 ? 13 : 0;
          const text = wrapText(k.action, Math.max(10, width - 2 - keyWidth));
          if (keyWidth === 0) return [{ key: `${k.keys}`, keys: k.keys, text: '' }, ...text.map((t, i) => ({ key: `${k.keys}:${i}`, keys: '', text: `  ${t}` }))];
          return text.map((t, i) => ({ key: `${k.keys}:${i}`, keys: i === 0 ? k.keys.padEnd(12) : ' '.repeat(12), text: ` ${t}` }));
        })
      : [];
  const helpRoom = Math.max(1, height - 2);
  const helpFrom = Math.min(helpTop, Math.max(0, helpLines.length - helpRoom));
  if (mode === 'help') helpMax.current = Math.max(0, helpLines.length - helpRoom);
  const help =
    mode === 'help' ? (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold wrap="truncate-end">
          Keys — {helpFor === 'logs' ? 'logs view' : helpFor === 'journal' ? 'journal' : 'main view'}
          {readOnly ? ' (read-only)' : ''}
        </Text>
        {helpLines.slice(helpFrom, helpFrom + helpRoom).map((l) => (
          <Text key={l.key} wrap="truncate-end">
            {'  '}
            <Text color={theme.color('accent')}>{l.keys}</Text>
            {l.text}
          </Text>
        ))}
        <Text color={theme.color('muted')} wrap="truncate-end">
          {helpLines.length > helpRoom ? `${helpFrom + 1}-${Math.min(helpLines.length, helpFrom + helpRoom)}/${helpLines.length} j/k scroll, other keys close` : 'any key closes this help'}
        </Text>
      </Box>
    ) : null;

  if (logSession && (mode === 'logs' || (mode === 'help' && helpFor === 'logs'))) {
    // The logs screen stays mounted under its help, so its place, search and filter survive `?`.
    return (
      <Box key="logs-root" flexDirection="column" width={width} height={height}>
        <Box display={mode === 'logs' ? 'flex' : 'none'}>
          <LogsScreen
            session={logSession}
            width={width}
            height={height}
            theme={theme}
            keys={logsKeys}
            onKeysReady={() => {
              // Keys typed between Enter and the screen's first render go to it now, in order.
              for (const [input, key] of logsQueue.current.splice(0)) logsKeys.current?.(input, key);
            }}
            saveDir={props.prefs.saveDir}
            onBack={() => {
              logSession.close();
              setLogSession(null);
              setMode('main');
            }}
            onHelp={() => {
              setHelpFor('logs');
              setMode('help');
            }}
          />
        </Box>
        {help}
      </Box>
    );
  }

  if (help) return help;

  if (mode === 'journal') {
    return (
      <Box key="journal-root" flexDirection="column" width={width} height={height}>
        <JournalScreen entries={journalRef.current} agent={agent} back={journalBack} only={journalOnly} height={height} width={width} theme={theme} detail={journalDetail} />
      </Box>
    );
  }

  const offline = nodeView && nodeView.status.state === 'offline' ? nodeView.status : null;

  // The status area: one line (a message is cut with … at the width), or more for what is shown
  // whole on purpose (a palette's command list, preferences problems), never more than a third of
  // the screen: those rows come from the detail pane.
  let bottom: ReactElement[];
  const wrapped = (text: string, color: string | undefined, key: string, reserve = 0): ReactElement[] => {
    const lines = text.split('\n').flatMap((para) => wrapText(inert(para), width));
    // Rows from the detail pane first (its tab line and one row stay while it can), then, on a
    // small terminal, from the list (its titles and one row stay).
    const room = Math.min(Math.max(1, Math.floor(height / 3) - reserve), 1 + Math.max(0, paneHeight - 2) + (paneHeight <= 4 ? Math.max(0, tableHeight - 2) : 0));
    const shown = lines.length > room ? [...lines.slice(0, room - 1), `… ${lines.length - room + 1} more lines`] : lines;
    return shown.map((l, i) => (
      <Text key={`${key}${i}`} color={color} wrap="truncate-end">
        {l || ' '}
      </Text>
    ));
  };
  if (mode === 'filter') {
    bottom = [<PromptLine key="p" prompt="filter: " value={typed} />];
  } else if (mode === 'palette') {
    const word = typed.trim().split(/\s+/)[0] ?? '';
    const fits = PALETTE_WORDS.filter((w) => w.startsWith(word));
    bottom = [...wrapped(`commands: ${(fits.length ? fits : PALETTE_WORDS).join(' ')}`, theme.color('muted'), 'h', 1), <PromptLine key="p" prompt=":" value={typed} />];
  } else if (mode === 'confirm' && confirm) {
    // The live row, not the one captured at the key press: its state may have moved on since.
    const first = confirm.targets[0] as ContainerSummary;
    const c = nodeView?.containers.find((x) => x.id === first.id) ?? first;
    const question =
      confirm.action === 'kill'
        ? `Kill ${inert(c.name)} (SIGKILL)? y/N`
        : `Remove ${inert(c.name)}${c.state === 'running' ? ' (running: it will be killed)' : ''}? y/N`;
    bottom = wrapped(question, theme.color('warn'), 'c');
  } else if (message) {
    const color = message.kind === 'error' ? theme.color('bad') : undefined;
    bottom = message.full
      ? wrapped(message.text, color, 'm')
      : [
          <Text key="m" color={color} wrap="truncate-end">
            {truncate(inert(message.text.replace(/\s*\n\s*/g, ' · ')), width) || ' '}
          </Text>,
        ];
  } else {
    bottom = [
      <Text key="h" color={theme.color('muted')} wrap="truncate-end">
        {mainHints(readOnly, width, `${filter ? `filter: ${inert(filter)}  ` : ''}sort: ${sort}  `)}
      </Text>,
    ];
  }
  const extra = bottom.length - 1;
  const detailHeight = Math.max(0, paneHeight - extra);
  const listHeight = Math.max(2, tableHeight - Math.max(0, extra - paneHeight));

  return (
    <Box key="main-root" display="flex" flexDirection="column" width={width} height={height}>
      <Header snapshot={snapshot} nodeIndex={nodeIndex} theme={theme} width={width} readOnly={readOnly} rulesAgent={local && agent ? agent.running : null} />
      {offline ? (
        <Box height={1}>
          <Text color={theme.color('bad')} wrap="truncate-end">
            {inert(node?.name ?? '')} offline, retrying{nodeView?.containers.length ? ' (last known state below)' : ''}: {inert(offline.reason)}
          </Text>
        </Box>
      ) : (
        <HostStrip node={nodeView} theme={theme} width={width} />
      )}
      <ContainerTable
        rows={rows}
        top={top}
        height={listHeight}
        sort={sort}
        agent={agentByContainer}
        selectedId={selected?.id ?? null}
        marked={marked}
        snapshot={snapshot}
        busy={busy}
        theme={theme}
        width={width}
        now={now}
        emptyText={nodeView?.status.state === 'connecting' ? 'connecting to the engine…' : filter ? 'no container matches the filter (esc clears it)' : 'no containers on this node'}
      />
      {detailHeight > 0 ? <DetailTabs tab={tab} theme={theme} width={width} title={selected ? inert(selected.name) : '-'} /> : null}
      {detailHeight > 1 ? (
      <Box height={detailHeight - 1} width={width}>
        {!selected ? (
          <Text color={theme.color('muted')}>select a container</Text>
        ) : tab === 'logs' ? (
          <LogTail buffer={tail?.buffer ?? null} seq={tail?.buffer.pushed ?? 0} height={detailHeight - 1} width={width} theme={theme} />
        ) : tab === 'stats' ? (
          <StatsPanel c={selected} snapshot={snapshot} cpuLimit={details && details.id === selected.id ? details.cpuLimit : 0} height={detailHeight - 1} width={width} theme={theme} />
        ) : tab === 'rules' ? (
          <RulesPanel
            agent={agent}
            statuses={rulesView?.statuses ?? null}
            problems={rulesView?.problems ?? []}
            recent={rulesSrc && followRules ? rulesSrc.journal().filter((e) => e.container === selected.name).slice(-8) : []}
            height={detailHeight - 1}
            width={width}
            theme={theme}
            local={local}
          />
        ) : (
          <InspectPanel d={details} height={detailHeight - 1} width={width} theme={theme} />
        )}
      </Box>
      ) : null}
      <Box flexDirection="column" height={bottom.length} width={width}>
        {bottom}
      </Box>
    </Box>
  );
}
