import { Box, Text } from 'ink';
import type { MutableRefObject, ReactElement } from 'react';
import type { ContainerDetails, ContainerSummary, NodeStatus } from '../../core/model/types.js';
import type { JournalEntry } from '../../core/rules/types.js';
import type { LogSession } from '../logs/log-session.js';
import type { AgentMarks } from '../presentation/container-line.js';
import { windowTop, type ListRow } from '../presentation/container-list.js';
import { truncate, wrapText } from '../presentation/format.js';
import { inert } from '../presentation/inert.js';
import { mainHeights, mainHints } from '../presentation/main-layout.js';
import type { FleetSnapshot, NodeView } from './fleet-view.js';
import { paletteWords } from './keymap.js';
import { PromptLine } from './line-input.js';
import { ago, ContainerTable, DetailTabs, Header, HostStrip, InspectPanel, LogTail, StatsPanel } from './main-screen.js';
import { RulesPanel } from './rules-panel.js';
import { markedIn } from './targets.js';
import { confirmQuestion, containerRef, fenceQuestion, rowKey } from '../presentation/container-ref.js';
import type { UiState } from './state.js';
import type { Theme } from './theme.js';
import type { RulesView } from './use-rules.js';

export interface MainViewProps {
  state: UiState;
  snapshot: FleetSnapshot;
  nodeView: NodeView | undefined;
  nodeName: string;
  /** The all-nodes view: every node's containers, with a node column. */
  showAll?: boolean;
  rows: readonly ListRow[];
  selected: ContainerSummary | null;
  /** The list's first row shown, kept between frames (and while another view is up). */
  tableTop: MutableRefObject<number>;
  busy: ReadonlyMap<string, string>;
  agentMarks: ReadonlyMap<string, AgentMarks>;
  tail: LogSession | null;
  details: ContainerDetails | null;
  /** The node's rules (null: no rule engine can be reached for it). */
  rules: RulesView | null;
  /** The selected container's node (its rules and details are that node's). */
  selNode: { name: string; thisMachine: boolean } | null;
  theme: Theme;
  width: number;
  height: number;
  now: number;
  readOnly: boolean;
}

/**
 * The status area: one line (a message is cut with … at the width), or more
 * for what is shown whole on purpose (a palette's command list, preferences
 * problems), never more than a third of the screen: those rows come from the
 * detail pane first, then, on a small terminal, from the list.
 */
function statusArea(p: MainViewProps, tableHeight: number, paneHeight: number): ReactElement[] {
  const { state, theme, width, height } = p;
  const wrapped = (text: string, color: string | undefined, key: string, reserve = 0): ReactElement[] => {
    const lines = text.split('\n').flatMap((para) => wrapText(inert(para), width));
    const room = Math.min(Math.max(1, Math.floor(height / 3) - reserve), 1 + Math.max(0, paneHeight - 2) + (paneHeight <= 4 ? Math.max(0, tableHeight - 2) : 0));
    const shown = lines.length > room ? [...lines.slice(0, room - 1), `… ${lines.length - room + 1} more lines`] : lines;
    return shown.map((l, i) => (
      <Text key={`${key}${i}`} color={color} wrap="truncate-end">
        {l || ' '}
      </Text>
    ));
  };
  if (state.mode === 'filter') return [<PromptLine key="p" prompt="filter: " value={state.typed} />];
  if (state.mode === 'palette') {
    const word = state.typed.trim().split(/\s+/)[0] ?? '';
    const words = paletteWords(p.readOnly);
    const fits = words.filter((w) => w.startsWith(word));
    return [...wrapped(`commands: ${(fits.length ? fits : words).join(' ')}`, theme.color('muted'), 'h', 1), <PromptLine key="p" prompt=":" value={state.typed} />];
  }
  if (state.mode === 'confirm' && state.confirm) {
    // The live rows, not the ones captured at the key press: their state may have moved on since.
    const live = (c: ContainerSummary) => p.snapshot.nodes.find((n) => n.name === c.node)?.containers.find((x) => x.id === c.id) ?? c;
    const c = state.confirm;
    if (c.fence) return wrapped(fenceQuestion(c.action, c.targets, c.fence.reason), theme.color('bad'), 'c');
    return wrapped(confirmQuestion(c.action, c.targets.map(live), c.marked === true), theme.color('warn'), 'c');
  }
  if (state.mode === 'placement' && state.placement) {
    const d = state.placement;
    // The lines are made inert where they are made (placement-dialog.ts): node names and reasons come from peers.
    return wrapped([d.title, ...d.lines].join('\n'), d.planning ? theme.color('muted') : undefined, 'pl');
  }
  const message = state.message;
  if (message) {
    const color = message.kind === 'error' ? theme.color('bad') : undefined;
    if (message.full) return wrapped(message.text, color, 'm');
    // A rule's notice keeps to one row (J shows it whole; they come often, and the list keeps its rows).
    if (message.notice) {
      return [
        <Text key="m" color={color} wrap="truncate-end">
          {truncate(inert(message.text.replace(/\s*\n\s*/g, ' · ')), width) || ' '}
        </Text>,
      ];
    }
    // Any other message is wrapped, not cut: advice is at its end ("… Is it running?").
    return wrapped(message.text.replace(/\s*\n\s*/g, ' · '), color, 'm');
  }
  return [
    <Text key="h" color={theme.color('muted')} wrap="truncate-end">
      {mainHints(p.readOnly, width, `${state.filter ? `filter: ${inert(state.filter)}  ` : ''}sort: ${state.sort}  `, markedCount(state, p.snapshot))}
    </Text>,
  ];
}

/**
 * What the line under the header says of nodes that do not answer (none:
 * the host strip is shown there): in the all-nodes view each such node, in
 * a node's view that node, with when it was last seen and why.
 */
function nodeTrouble(p: MainViewProps): string[] {
  const seen = (s: Extract<NodeStatus, { state: 'offline' }>) => (s.neverReached ? 'not reached yet' : `last seen ${ago(p.now - s.since)}`);
  if (p.showAll) {
    const down = p.snapshot.nodes.filter((n) => n.status.state !== 'online');
    if (down.length === 0) return [];
    return [down.map((n) => (n.status.state === 'offline' ? `${n.name} unreachable (${seen(n.status)}), retrying: ${n.status.reason}` : `${n.name} connecting…`)).join(' · ')];
  }
  const s = p.nodeView?.status;
  if (s?.state !== 'offline') return [];
  return [`${p.nodeName} offline (${seen(s)}), retrying${p.nodeView?.containers.length ? ' (last known state below)' : ''}: ${s.reason}`];
}

/** How many marked containers are still there, on every node (the targets of the next action). */
function markedCount(state: UiState, snapshot: FleetSnapshot): number {
  return state.marked.size === 0 ? 0 : markedIn(snapshot.nodes.flatMap((n) => n.containers), state.marked).length;
}

/**
 * What an empty list says. A node that does not answer cannot say it has no containers:
 * it is said unreachable, with when it was last seen (`node`: the one node shown, else null).
 */
export function emptyListText(statuses: readonly NodeStatus[], filter: string, now: number, node: string | null): string {
  if (statuses.length > 0 && statuses.every((s) => s.state === 'connecting')) return 'connecting to the engine…';
  const off = statuses.filter((s): s is Extract<NodeStatus, { state: 'offline' }> => s.state === 'offline');
  if (statuses.length > 0 && off.length === statuses.length) {
    const seen = off.every((s) => s.neverReached) ? `not reached yet, trying for ${ago(now - Math.min(...off.map((s) => s.since))).replace(/ ago$/, '')}` : `last seen ${ago(now - Math.max(...off.filter((s) => !s.neverReached).map((s) => s.since)))}`;
    return node !== null ? `${inert(node)} is unreachable (${seen}): its containers are not known` : `no node is reachable (${seen}): their containers are not known`;
  }
  if (filter) return 'no container matches the filter (esc clears it)';
  return node !== null ? 'no containers on this node' : 'no containers on the reachable nodes';
}

/** The main view: header, host strip, the container list, the detail pane (logs, stats, inspect, rules) and the status area. */
export function MainView(p: MainViewProps) {
  const { state, snapshot, nodeView, selected, theme, width, height, now, rules } = p;
  const { tableHeight, detailHeight: paneHeight } = mainHeights(height);
  const bottom = statusArea(p, tableHeight, paneHeight);
  const extra = bottom.length - 1;
  const detailHeight = Math.max(0, paneHeight - extra);
  // The nodes that do not answer, and why, wrapped (the remedy is at the end of the reason): rows beyond one come from the list.
  // At most a third of the screen, as the status area; what does not fit then ends in … (a tiny terminal).
  const trouble = nodeTrouble(p).flatMap((t) => wrapText(inert(t), width));
  const stripRoom = Math.max(1, Math.floor(height / 3));
  const strip = trouble.length > stripRoom ? [...trouble.slice(0, stripRoom - 1), truncate(`${trouble[stripRoom - 1] as string} …`, width)] : trouble;
  const listHeight = Math.max(2, tableHeight - Math.max(0, extra - paneHeight) - Math.max(0, strip.length - 1));
  // The window over the rows is the one the list is drawn in (the status area may have taken some of its rows).
  const rowOfSelected = Math.max(0, p.rows.findIndex((r) => r.kind === 'container' && r.container === selected));
  const top = windowTop(rowOfSelected, listHeight - 1, p.rows.length, p.tableTop.current);
  p.tableTop.current = top;
  const hostNode = p.showAll ? snapshot.nodes.find((n) => n.name === selected?.node) : nodeView;
  const recent: readonly JournalEntry[] = rules && selected ? rules.journal.filter((e) => e.container === selected.name).slice(-8) : [];

  return (
    <Box key="main-root" display="flex" flexDirection="column" width={width} height={height}>
      <Header snapshot={snapshot} nodeIndex={state.nodeIndex} allNodes={p.showAll === true} theme={theme} width={width} readOnly={p.readOnly} rulesAgent={rules?.agent ? rules.agent.running : null} />
      {strip.length > 0 ? (
        <Box flexDirection="column" height={strip.length}>
          {strip.map((l, i) => (
            <Text key={i} color={theme.color('bad')} wrap="truncate-end">
              {l}
            </Text>
          ))}
        </Box>
      ) : (
        <HostStrip node={hostNode} theme={theme} width={width} />
      )}
      <ContainerTable
        rows={p.rows}
        top={top}
        height={listHeight}
        sort={state.sort}
        agent={p.agentMarks}
        selectedId={selected ? rowKey(selected) : null}
        marked={state.marked}
        snapshot={snapshot}
        busy={p.busy}
        theme={theme}
        width={width}
        now={now}
        nodeColumn={p.showAll === true}
        emptyText={emptyListText(p.showAll ? snapshot.nodes.map((n) => n.status) : nodeView ? [nodeView.status] : [], state.filter, now, p.showAll ? null : p.nodeName)}
      />
      {detailHeight > 0 ? <DetailTabs tab={state.tab} theme={theme} width={width} title={selected ? inert(containerRef(selected)) : '-'} /> : null}
      {detailHeight > 1 ? (
        <Box height={detailHeight - 1} width={width}>
          {!selected ? (
            <Text color={theme.color('muted')}>select a container</Text>
          ) : state.tab === 'logs' ? (
            <LogTail buffer={p.tail?.buffer ?? null} seq={p.tail?.buffer.pushed ?? 0} height={detailHeight - 1} width={width} theme={theme} />
          ) : state.tab === 'stats' ? (
            <StatsPanel c={selected} snapshot={snapshot} cpuLimit={p.details && p.details.id === selected.id ? p.details.cpuLimit : 0} height={detailHeight - 1} width={width} theme={theme} />
          ) : state.tab === 'rules' ? (
            <RulesPanel
              agent={rules?.agent ?? null}
              node={p.selNode?.name ?? selected.node}
              thisMachine={p.selNode?.thisMachine ?? false}
              statuses={rules?.explanation?.statuses ?? null}
              problems={rules?.explanation?.problems ?? []}
              recent={recent}
              height={detailHeight - 1}
              width={width}
              theme={theme}
              reachable={rules !== null}
            />
          ) : (
            <InspectPanel d={p.details} height={detailHeight - 1} width={width} theme={theme} />
          )}
        </Box>
      ) : null}
      <Box flexDirection="column" height={bottom.length} width={width}>
        {bottom}
      </Box>
    </Box>
  );
}
