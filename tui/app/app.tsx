/**
 * The terminal UI, composed: the state and its transitions are in state.ts
 * (the keys in keymap.ts's table), the engine calls and timers in the hooks
 * (use-*.ts), the screens in their files (main-view, logs-screen,
 * journal-screen, help-screen). This file wires them together and runs the
 * effects the reducer asks for.
 */
import { Box, useApp } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { Fleet } from '../../core/fleet.js';
import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { filterContainers, listRows, sortContainers } from '../presentation/container-list.js';
import { frameSize } from '../presentation/main-layout.js';
import type { FleetView } from './fleet-view.js';
import { HelpScreen } from './help-screen.js';
import { JournalScreen } from './journal-screen.js';
import { LogsScreen } from './logs-screen.js';
import { MainView } from './main-view.js';
import type { Prefs } from './prefs.js';
import { agentMarks } from './rules-panel.js';
import { isSelected } from './selection.js';
import { HOLD_MS, settle, UiStore, type Effect, type KeyContext, type UiEvent } from './state.js';
import type { Theme } from './theme.js';
import { useContainerActions } from './use-container-actions.js';
import { useDetails } from './use-details.js';
import { useKeys } from './use-keys.js';
import { useLogTail } from './use-log-tail.js';
import { useLogsView } from './use-logs-view.js';
import { useRules } from './use-rules.js';
import { useTerminalSize } from './use-terminal-size.js';
import { containerRef, type ContainerAction } from '../presentation/container-ref.js';
import { buildReplaced, failureText, UPDATED_TEXT } from './updated.js';

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

const NO_STATS: ReadonlyMap<string, ContainerStats> = new Map();

export function App(props: AppProps) {
  const { fleet, view, theme, readOnly, prefs, onExec, onRedraw, notices } = props;
  const { exit } = useApp();
  const snapshot = useSyncExternalStore(view.subscribe, view.getSnapshot);
  const { cols, rows: termRows } = useTerminalSize();
  const { width, height } = frameSize(cols, termRows);
  const now = (props.now ?? Date.now)();

  const [store] = useState(() => new UiStore());
  const state = useSyncExternalStore(store.subscribe, store.get);
  const clock = props.now ?? Date.now;
  // An error after Outpost was replaced under this screen says so (tui/app/updated.ts).
  const say = useCallback((text: string, kind: 'info' | 'error' = 'info') => void store.dispatch({ type: 'say', text: kind === 'error' && buildReplaced() ? `${UPDATED_TEXT} (${text})` : text, kind, at: clock() }), [store, clock]);
  const notice = useCallback((text: string, kind: 'info' | 'error', count: number) => void store.dispatch({ type: 'notice', text, kind, count, at: clock() }), [store, clock]);
  useEffect(() => notices?.subscribe((text) => store.dispatch({ type: 'say', text, kind: 'error', full: true })), [notices, store]);

  const nodes = fleet.nodes();
  const node = nodes[Math.min(state.nodeIndex, nodes.length - 1)] ?? null;
  // The all-nodes view merges every node's containers (each row knows its node: `c.node`).
  const showAll = state.allNodes && nodes.length > 1;
  const nodeView = snapshot.nodes.find((n) => n.name === node?.name);
  const merged = useMemo(() => (showAll ? snapshot.nodes.flatMap((n) => n.containers) : null), [showAll, snapshot.nodes]);
  const nodeContainers = merged ?? nodeView?.containers;
  const nodeNamed = (name: string): Node | null => nodes.find((n) => n.name === name) ?? null;

  // Stats change every sample; only the CPU and memory orders depend on them.
  const statsForSort = state.sort === 'cpu' || state.sort === 'memory' ? snapshot.stats : NO_STATS;
  const rows = useMemo(() => listRows(sortContainers(filterContainers(nodeContainers ?? [], state.filter), state.sort, statsForSort)), [nodeContainers, state.filter, state.sort, statsForSort]);
  const list = useMemo(() => rows.flatMap((r) => (r.kind === 'container' ? [r.container] : [])), [rows]);
  const sel = settle(state.sel, list);
  const selected = list.find((c) => isSelected(c, sel)) ?? null;
  // Every action, the logs, the details and the rules are those of the selected container's own node.
  const selNode = selected ? (nodeNamed(selected.node) ?? (showAll ? null : node)) : showAll ? null : node;

  const logs = useLogsView();
  const tail = useLogTail(selNode, selected, state.tab === 'logs' && state.mode !== 'logs');
  const details = useDetails(selNode, selected, state.tab === 'inspect' || state.tab === 'stats');
  const onFenced = useCallback((action: ContainerAction, targets: ContainerSummary[], reason: string) => void store.dispatch({ type: 'fenced', action, targets, reason }), [store]);
  const { busy, run } = useContainerActions((c) => nodeNamed(c.node) ?? (showAll ? null : node), say, onFenced);
  const port = selNode?.rules ?? null;
  // Asked again when the selected container changes state, not on every sample: in the all-nodes
  // view the merged list is a new array on each one (through a peer's link, an ask a second).
  const selectedVersion = selected ? `${selected.id}/${selected.state}/${selected.health}/${selected.restartCount}/${selected.startedAt ?? ''}/${selected.finishedAt ?? ''}` : null;
  const rules = useRules(port, state.tab === 'rules' && selected ? selected.name : null, { node: selNode?.name ?? null, say, notice, secondTick: Math.floor(now / 1000), modelVersion: selectedVersion });
  const { journal } = rules;
  // The agent's restarts count in RST, and a container it gave up on is marked in the list.
  const marks = useMemo(() => (port ? agentMarks(journal, nodeContainers ?? []) : new Map()), [port, journal, nodeContainers]);
  const tableTop = useRef(0);
  /** The placement dialog's pending run (the state holds only its table). */
  const placeRun = useRef<(() => Promise<string>) | null>(null);

  /** What a key is pressed in, read at the press: the live snapshot, not the one drawn. */
  const context = (): KeyContext => {
    const live = view.getSnapshot();
    return {
      nodes: nodes.map((n) => ({ name: n.name, rules: n.rules !== null, thisMachine: n.isThisMachine })),
      containers: (name) => live.nodes.find((n) => n.name === name)?.containers ?? [],
      stats: live.stats,
      readOnly,
      confirmKill: prefs.confirmKill !== false,
      width,
      height,
      journalCount: journal.length,
      journalContainers: journal.map((e) => e.container ?? ''),
    };
  };

  const perform = (effect: Effect) => {
    switch (effect.kind) {
      case 'exit':
        return exit();
      case 'redraw':
        return onRedraw?.();
      case 'run':
        return void run(effect.action, effect.targets, effect.overrideFence ? { overrideFence: true } : {});
      case 'open-logs':
        return logs.open((c) => nodeNamed(c.node) ?? (showAll ? null : node), effect.targets, prefs.logBufferLines);
      case 'logs-key':
        return logs.send(effect.input, effect.key);
      case 'rules-reset':
        return rules.reset(effect.container, effect.node);
      case 'rules-pause':
        return rules.togglePause(effect.container, effect.node);
      case 'place-plan':
      case 'move-plan': {
        placeRun.current = null;
        void import('./placement-dialog.js')
          .then((m) => (effect.kind === 'place-plan' ? m.placeDialog(fleet.nodes(), effect.file) : m.moveDialog(fleet.nodes(), effect.container)))
          .then(
            (d) => {
              placeRun.current = d.run;
              dispatch({ type: 'planned', title: d.title, lines: d.lines, canRun: d.run !== null });
            },
            (err: unknown) => dispatch({ type: 'planned', title: 'placement', lines: [failureText(err)], canRun: false }),
          );
        return;
      }
      case 'place-run': {
        const go = placeRun.current;
        placeRun.current = null;
        if (go) void go().then((text) => say(text), (err: unknown) => say(`placement failed: ${err instanceof Error ? err.message : String(err)}`, 'error'));
        return;
      }
      case 'exec': {
        const c = effect.container;
        const on = nodeNamed(c.node) ?? (showAll ? null : node);
        if (!on) return;
        // After this frame (the UI is unmounted from the screen first).
        setTimeout(
          () =>
            void onExec(on, c).then(
              (code) => dispatch({ type: 'exec-ended', name: containerRef(c), code }),
              (err: unknown) => dispatch({ type: 'exec-failed', name: containerRef(c), error: failureText(err) }),
            ),
          0,
        );
        return;
      }
    }
  };
  const dispatch = (event: UiEvent) => {
    for (const effect of store.dispatch(event)) perform(effect);
  };

  // The selection settles on the list as it changes (a container removed, re-created, filtered out).
  const settled = sel !== state.sel;
  useEffect(() => {
    if (settled) store.dispatch({ type: 'sync', ctx: context() });
  });

  // A notice held behind an action's result is shown when the hold ends.
  const pendingAt = state.pending ? (state.message?.at ?? 0) : null;
  useEffect(() => {
    if (pendingAt === null) return;
    const t = setTimeout(() => store.dispatch({ type: 'tick', at: clock() }), Math.max(0, pendingAt + HOLD_MS - clock()) + 10);
    return () => clearTimeout(t);
  }, [pendingAt, store, clock]);

  useKeys((input, key) => dispatch({ type: 'key', input, key, ctx: context() }), { isActive: state.mode !== 'suspended' });

  if (state.mode === 'suspended') return null;

  const help = state.mode === 'help' ? <HelpScreen view={state.helpFor} readOnly={readOnly} top={state.helpTop} width={width} height={height} theme={theme} /> : null;

  if (logs.session && (state.mode === 'logs' || (state.mode === 'help' && state.helpFor === 'logs'))) {
    // The logs screen stays mounted under its help, so its place, search and filter survive `?`.
    return (
      <Box key="logs-root" flexDirection="column" width={width} height={height}>
        <Box display={state.mode === 'logs' ? 'flex' : 'none'}>
          <LogsScreen
            session={logs.session}
            width={width}
            height={height}
            theme={theme}
            keys={logs.keys}
            onKeysReady={logs.ready}
            saveDir={prefs.saveDir}
            onBack={() => {
              logs.close();
              store.dispatch({ type: 'logs-closed' });
            }}
            onHelp={() => store.dispatch({ type: 'logs-help' })}
          />
        </Box>
        {help}
      </Box>
    );
  }

  if (help) return help;

  if (state.mode === 'journal') {
    return (
      <Box key="journal-root" flexDirection="column" width={width} height={height}>
        <JournalScreen entries={journal} agent={rules.agent} node={selNode?.name ?? ''} thisMachine={selNode?.isThisMachine ?? false} back={state.journal.back} only={state.journal.only} height={height} width={width} theme={theme} detail={state.journal.detail} />
      </Box>
    );
  }

  return (
    <MainView
      state={state}
      snapshot={snapshot}
      nodeView={nodeView}
      nodeName={node?.name ?? ''}
      showAll={showAll}
      rows={rows}
      selected={selected}
      tableTop={tableTop}
      busy={busy}
      agentMarks={marks}
      tail={tail}
      details={details}
      rules={port ? rules : null}
      selNode={selNode ? { name: selNode.name, thisMachine: selNode.isThisMachine } : null}
      theme={theme}
      width={width}
      height={height}
      now={now}
      readOnly={readOnly}
    />
  );
}
