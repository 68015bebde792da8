import { Box, Text } from 'ink';
import { memo, useMemo } from 'react';
import type { ContainerDetails, ContainerSummary } from '../../core/model/types.js';
import { formatAge, formatBytes, formatPercent, truncate } from '../presentation/format.js';
import { containerLine, headerLine, layoutFor, type AgentMarks } from '../presentation/container-line.js';
import { groupLine, type ListRow, type SortKey } from '../presentation/container-list.js';
import { inert } from '../presentation/inert.js';
import { headerPieces, HOST_WAITING, hostUnreported } from '../presentation/main-layout.js';
import { sparkline } from '../presentation/sparkline.js';
import { formatPorts } from '../presentation/container-row.js';
import type { FleetSnapshot, NodeView } from './fleet-view.js';
import { stateColor, type Theme } from './theme.js';
import type { LogEntry } from '../logs/log-session.js';
import type { RingBuffer } from '../logs/ring-buffer.js';

import { DETAIL_TABS, type DetailTab } from './state.js';
import { markKey } from './targets.js';
import { rowKey } from '../presentation/container-ref.js';

export { DETAIL_TABS, type DetailTab };

function HeaderView({
  snapshot,
  nodeIndex,
  theme,
  width,
  readOnly,
  rulesAgent,
  allNodes,
}: {
  snapshot: FleetSnapshot;
  nodeIndex: number;
  /** The all-nodes view is shown. */
  allNodes: boolean;
  theme: Theme;
  width: number;
  readOnly: boolean;
  /** Whether an agent enforces the rules on the selected node; null while unknown. */
  rulesAgent: boolean | null;
}) {
  const pieces = headerPieces({
    nodes: snapshot.nodes.map((n) => ({ name: inert(n.name), state: n.status.state, running: n.containers.filter((c) => c.state === 'running').length, total: n.containers.length })),
    nodeIndex,
    readOnly,
    rulesAgent,
    width,
    allNodes,
  });
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        {pieces.map((p, i) => (
          <Text key={i} bold={p.bold === true} inverse={p.inverse === true} color={p.color ? theme.color(p.color) : undefined}>
            {p.text}
          </Text>
        ))}
      </Text>
    </Box>
  );
}

/** What the header shows of the nodes: it re-renders only when this changes, not on every sample. */
function nodesKey(snapshot: FleetSnapshot): string {
  return snapshot.nodes.map((n) => `${n.name}|${n.status.state}|${n.containers.filter((c) => c.state === 'running').length}/${n.containers.length}`).join(',');
}

export const Header = memo(
  HeaderView,
  (a, b) =>
    a.nodeIndex === b.nodeIndex &&
    a.allNodes === b.allNodes &&
    a.theme === b.theme &&
    a.width === b.width &&
    a.readOnly === b.readOnly &&
    a.rulesAgent === b.rulesAgent &&
    (a.snapshot === b.snapshot || nodesKey(a.snapshot) === nodesKey(b.snapshot)),
);

/** CPU, memory, disk, temperature, load and network of the selected node, with sparklines. */
export function HostStrip({ node, theme, width }: { node: NodeView | undefined; theme: Theme; width: number }) {
  const h = node?.host;
  if (!h) {
    return (
      <Box height={1} width={width}>
        <Text color={theme.color('muted')} wrap="truncate-end">{node && !node.reportsHost ? hostUnreported(inert(node.name)) : HOST_WAITING}</Text>
      </Box>
    );
  }
  // Every sample shifts every cell of a sparkline: 8 cells is the bytes a slow link can spare.
  // Narrow, whole figures before sparklines: below 60 columns CPU, memory and disk (no
  // sparklines), below 45 CPU and memory; below 80 one load figure.
  const spark = width >= 160 ? 16 : width >= 60 ? 8 : 0;
  const narrow = width < 60;
  const root = h.disks.find((d) => d.mount === '/') ?? h.disks[0];
  const warn = (v: number | null, hi: number) => (v === null ? theme.color('muted') : theme.color(v >= hi ? 'bad' : v >= hi * 0.8 ? 'warn' : 'ok'));
  return (
    <Box height={1} width={width}>
      <Text wrap="truncate-end">
        <Text>CPU </Text>
        <Text color={warn(h.cpuPercent, 90)}>{formatPercent(h.cpuPercent).padStart(5)}</Text>
        {spark > 0 ? <Text color={theme.color('accent')}> {sparkline(node.hostCpu, spark, 100)}</Text> : null}
        <Text>  MEM </Text>
        <Text color={warn(h.memUsedPercent, 90)}>{formatPercent(h.memUsedPercent).padStart(5)}</Text>
        {spark > 0 ? <Text color={theme.color('accent')}> {sparkline(node.hostMem, spark, 100)}</Text> : null}
        {root && width >= 45 ? <Text>  DISK {formatPercent(root.usePercent)}</Text> : null}
        {narrow ? null : <Text>  TEMP {h.temperatureC === null ? '-' : `${h.temperatureC.toFixed(0)}°C`}</Text>}
        {narrow ? null : <Text>  LOAD {(width >= 80 ? h.load : h.load.slice(0, 1)).map((l) => l.toFixed(2)).join(' ')}</Text>}
        {width >= 110 ? <Text>  NET ↓{formatBytes(h.netRxBytesPerSec)}/s ↑{formatBytes(h.netTxBytesPerSec)}/s</Text> : null}
      </Text>
    </Box>
  );
}

export function ContainerTable(props: {
  rows: readonly ListRow[];
  top: number;
  height: number;
  /** The selected row's key (`rowKey`: node and ID). */
  selectedId: string | null;
  marked: ReadonlySet<string>;
  snapshot: FleetSnapshot;
  busy: ReadonlyMap<string, string>;
  theme: Theme;
  width: number;
  now: number;
  emptyText: string;
  sort: SortKey;
  /** What the rule agent did to each container (by ID). */
  agent: ReadonlyMap<string, AgentMarks>;
  /** The all-nodes view: a NODE column first. */
  nodeColumn?: boolean;
}) {
  const { rows, top, height, theme, width, snapshot, now } = props;
  const visible = rows.slice(top, top + height - 1);
  // A node that is not answering: its rows are its last known state, dimmed, with when it was last seen.
  const offline = new Map<string, number>();
  for (const n of snapshot.nodes) if (n.status.state === 'offline') offline.set(n.name, n.status.since);
  const nodeW = props.nodeColumn ? Math.min(16, Math.max(4, ...snapshot.nodes.map((n) => n.name.length))) : 0;
  const lineW = nodeW ? Math.max(10, width - nodeW - 1) : width;
  // One layout for the whole list (not just the rows in view): columns do not jump as it scrolls.
  const layout = useMemo(() => layoutFor(rows.flatMap((r) => (r.kind === 'container' ? [r.container] : [])), lineW), [rows, lineW]);
  const nodeCell = (name: string) => (nodeW ? `${truncate(inert(name), nodeW).padEnd(nodeW)} ` : '');
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text color={theme.color('muted')} wrap="truncate-end">
        {`${nodeW ? `${'NODE'.padEnd(nodeW)} ` : ''}${headerLine(lineW, props.sort, layout)}`}
      </Text>
      {visible.length === 0 ? <Text color={theme.color('muted')}>  {props.emptyText}</Text> : null}
      {visible.map((row, i) => {
        if (row.kind === 'group') {
          // Keys are unique across nodes: two nodes may hold the same project, or (two peers on one engine) the same container IDs.
          return (
            <Text key={`g:${top + i}:${row.loose ? '' : 'p:'}${row.project}`} bold color={row.loose ? theme.color('muted') : undefined} wrap="truncate-end">
              {truncate(groupLine(row, inert), width)}
            </Text>
          );
        }
        const c = row.container;
        const selected = rowKey(c) === props.selectedId;
        const busy = props.busy.get(rowKey(c));
        const agent = props.agent.get(c.id);
        const since = offline.get(c.node);
        // What is under way, or when an unreachable node was last seen, in the STATE cell: the other columns stay whole.
        const line =
          nodeCell(c.node) +
          containerLine(c, snapshot.stats.get(c.id), now, lineW, {
            marked: props.marked.has(markKey(c)),
            indent: row.grouped,
            layout,
            ...(agent ? { agent } : {}),
            ...(busy ? { busy } : since !== undefined ? { seen: `last seen ${formatAge(now - since)}` } : {}),
          });
        return (
          <Text key={`${c.node}/${c.id}`} inverse={selected} dimColor={since !== undefined && !busy} color={busy ? theme.color('warn') : since !== undefined ? theme.color('muted') : theme.color(agent?.gaveUp ? 'bad' : stateColor(c))} wrap="truncate-end">
            {line}
          </Text>
        );
      })}
    </Box>
  );
}

/** `40s ago`, `3m ago`, `2h ago`. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  // The unit is chosen after rounding: 7,170 s is 2h, not 120m.
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export const DetailTabs = memo(function DetailTabs({ tab, theme, width, title }: { tab: DetailTab; theme: Theme; width: number; title: string }) {
  return (
    <Box height={1} width={width}>
      <Text wrap="truncate-end">
        {DETAIL_TABS.map((t) => (
          <Text key={t} inverse={t === tab} color={t === tab ? undefined : theme.color('muted')}>
            {` ${t} `}
          </Text>
        ))}
        <Text color={theme.color('muted')}> ─ {title}</Text>
      </Text>
    </Box>
  );
});

/**
 * The last lines of the selected container. It re-renders when lines arrive
 * (`seq`, the buffer's count of lines ever pushed) or the pane changes, not
 * on every stats sample.
 */
export const LogTail = memo(
  function LogTail({ buffer, height, width, theme }: { buffer: RingBuffer<LogEntry> | null; seq: number; height: number; width: number; theme: Theme }) {
    const shown = buffer ? buffer.slice(Math.max(0, buffer.size - height)) : [];
    return (
      <Box flexDirection="column" height={height} width={width}>
        {shown.length === 0 ? <Text color={theme.color('muted')}>(no output yet)</Text> : null}
        {shown.map((e, i) => (
          <Text key={i} wrap="truncate-end" color={e.stream === 'stderr' ? theme.color('bad') : undefined}>
            {`${theme.noColor && e.stream === 'stderr' ? '! ' : ''}${inert(e.text)}` || ' '}
          </Text>
        ))}
      </Box>
    );
  },
  (a, b) => a.buffer === b.buffer && a.seq === b.seq && a.height === b.height && a.width === b.width && a.theme === b.theme,
);

/**
 * The Stats tab. The sparklines have fixed scales, so a flat 0.6 % does not
 * draw as full bars: CPU to 100 % of one core (or to the container's CPU
 * limit, `cpuLimit` cores), memory to the container's limit.
 */
export function StatsPanel({ c, snapshot, cpuLimit = 0, height, width, theme }: { c: ContainerSummary; snapshot: FleetSnapshot; cpuLimit?: number; height: number; width: number; theme: Theme }) {
  const s = snapshot.stats.get(c.id);
  const cpu = snapshot.cpuHistory.get(c.id) ?? [];
  const mem = snapshot.memHistory.get(c.id) ?? [];
  const w = Math.max(10, Math.min(60, width - 30));
  if (!s) {
    return (
      <Box height={height}>
        <Text color={theme.color('muted')}>{c.state === 'running' ? 'waiting for a sample…' : `not running (${c.state})`}</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text wrap="truncate-end">
        CPU {formatPercent(s.cpuPercent).padStart(6)} <Text color={theme.color('accent')}>{sparkline(cpu, w, cpuLimit > 0 ? cpuLimit * 100 : 100)}</Text> of{' '}
        {cpuLimit > 0 ? `${formatPercent(cpuLimit * 100)} (limit)` : '100%'}
      </Text>
      <Text wrap="truncate-end">
        MEM {formatBytes(s.memoryBytes).padStart(6)} <Text color={theme.color('accent')}>{sparkline(mem, w, s.memoryLimitBytes)}</Text> of{' '}
        {formatBytes(s.memoryLimitBytes)} ({formatPercent(s.memoryPercent)})
      </Text>
      <Text wrap="truncate-end">
        NET rx {formatBytes(s.netRxBytes)} tx {formatBytes(s.netTxBytes)}   BLOCK read {formatBytes(s.blockReadBytes)} write {formatBytes(s.blockWriteBytes)}   PIDS {s.pids}
      </Text>
      <Text color={theme.color('muted')}>source: {s.source}</Text>
    </Box>
  );
}

export function InspectPanel({ d, height, width, theme }: { d: ContainerDetails | null; height: number; width: number; theme: Theme }) {
  if (!d) {
    return (
      <Box height={height}>
        <Text color={theme.color('muted')}>loading…</Text>
      </Box>
    );
  }
  const lines = [
    `command:  ${d.entrypoint.concat(d.cmd).join(' ')}`,
    `image:    ${d.image}`,
    `restart:  ${d.restartPolicy}   tty: ${d.tty ? 'yes' : 'no'}   user: ${d.user || 'root'}`,
    `limits:   memory ${d.memoryLimit ? formatBytes(d.memoryLimit) : 'none'}   cpu ${d.cpuLimit || 'none'}`,
    `ports:    ${formatPorts(d.ports) || '-'}`,
    `networks: ${d.networks.join(', ') || '-'}`,
    ...d.mounts.map((m) => `mount:    ${m.source} → ${m.destination}${m.readOnly ? ' (ro)' : ''}`),
    ...Object.entries(d.labels).map(([k, v]) => `label:    ${k}=${v}`),
    ...d.env.map((e) => `env:      ${e}`),
  ];
  return (
    <Box flexDirection="column" height={height} width={width}>
      {lines.slice(0, height).map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {inert(l)}
        </Text>
      ))}
    </Box>
  );
}
