import type { ContainerStats, ContainerSummary, HostMetrics, PortBinding } from '../../core/model/types.js';
import { formatAge, formatBytes, formatPercent, type Column } from './format.js';
import { inert } from './inert.js';

/** "0.0.0.0:8080->80/tcp, 443/tcp" like docker ps. */
export function formatPorts(ports: readonly PortBinding[]): string {
  return ports
    .map((p) =>
      p.publicPort ? `${p.ip ? `${p.ip}:` : ''}${p.publicPort}->${p.privatePort}/${p.protocol}` : `${p.privatePort}/${p.protocol}`,
    )
    .join(', ');
}

/** Running 3m, exited (1) 5m ago, restarting… */
export function formatState(c: ContainerSummary, now: number): string {
  switch (c.state) {
    case 'running':
      return c.startedAt === null ? 'running' : `up ${formatAge(now - c.startedAt)}`;
    case 'paused':
      return 'paused';
    case 'exited':
    case 'dead':
      return `${c.state} (${c.exitCode ?? 0})${c.finishedAt === null ? '' : ` ${formatAge(now - c.finishedAt)} ago`}${c.oomKilled ? ' OOM' : ''}`;
    case 'restarting':
      return `restarting (${c.exitCode ?? 0})`;
    case 'created':
    case 'removing':
      return c.state;
  }
}

/**
 * The list's STATE cell, at most 16 cells: the same facts as formatState
 * without the words the column title implies ("exited (137) 12m", not
 * "exited (137) 12m ago"), so nothing is cut. `gaveUp`: the rule agent gave
 * up on the container.
 */
export function listState(c: ContainerSummary, now: number, gaveUp = false): string {
  const age = (t: number | null) => (t === null ? '' : ` ${formatAge(now - t)}`);
  if (gaveUp) return c.state === 'running' ? `gave up·up${age(c.startedAt)}` : `gave up (${c.exitCode ?? 0})${age(c.finishedAt)}`;
  switch (c.state) {
    case 'running':
      return c.startedAt === null ? 'running' : `up ${formatAge(now - c.startedAt)}`;
    case 'exited':
    case 'dead':
      if (c.oomKilled) return `OOM-killed${age(c.finishedAt)}`;
      return `${c.state} (${c.exitCode ?? 0})${age(c.finishedAt)}`;
    default:
      return formatState(c, now);
  }
}

export function psColumns(now: number, wide: boolean): Column<ContainerSummary>[] {
  const cols: Column<ContainerSummary>[] = [
    { header: 'CONTAINER ID', value: (c) => c.id.slice(0, 12) },
    { header: 'NAME', value: (c) => inert(c.name), max: wide ? Infinity : 32 },
    { header: 'IMAGE', value: (c) => inert(c.image), max: wide ? Infinity : 30 },
    { header: 'STATE', value: (c) => formatState(c, now) },
    { header: 'HEALTH', value: (c) => (c.health === 'none' ? '-' : c.health) },
    { header: 'RESTARTS', value: (c) => (c.restartCount === null ? '-' : String(c.restartCount)), right: true },
    { header: 'PROJECT', value: (c) => inert(c.composeProject ?? '-'), max: wide ? Infinity : 20 },
    { header: 'PORTS', value: (c) => formatPorts(c.ports), max: wide ? Infinity : 40 },
  ];
  if (wide) cols.push({ header: 'COMMAND', value: (c) => inert(c.command) });
  return cols;
}

export const statsColumns: Column<ContainerStats>[] = [
  { header: 'CONTAINER ID', value: (s) => s.id.slice(0, 12) },
  { header: 'NAME', value: (s) => inert(s.name), max: 32 },
  { header: 'CPU %', value: (s) => formatPercent(s.cpuPercent), right: true },
  { header: 'MEM USAGE / LIMIT', value: (s) => `${formatBytes(s.memoryBytes)} / ${formatBytes(s.memoryLimitBytes)}`, right: true },
  { header: 'MEM %', value: (s) => formatPercent(s.memoryPercent), right: true },
  { header: 'NET I/O', value: (s) => `${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)}`, right: true },
  { header: 'BLOCK I/O', value: (s) => `${formatBytes(s.blockReadBytes)} / ${formatBytes(s.blockWriteBytes)}`, right: true },
  { header: 'PIDS', value: (s) => String(s.pids), right: true },
];

export function formatHost(h: HostMetrics): string {
  const lines = [
    `node:        ${h.node} (${inert(h.hostname)})`,
    `cpu:         ${formatPercent(h.cpuPercent)} of ${h.cores} cores   load ${h.load.join(' ')}`,
    `memory:      ${formatBytes(h.memTotalBytes - h.memAvailableBytes)} / ${formatBytes(h.memTotalBytes)} (${formatPercent(h.memUsedPercent)})` +
      (h.swapTotalBytes > 0 ? `   swap ${formatBytes(h.swapUsedBytes)} / ${formatBytes(h.swapTotalBytes)}` : ''),
    `temperature: ${h.temperatureC === null ? 'not reported by this hardware' : `${h.temperatureC.toFixed(0)} °C`}`,
    `network:     rx ${formatBytes(h.netRxBytesPerSec)}/s   tx ${formatBytes(h.netTxBytesPerSec)}/s`,
    `uptime:      ${formatAge(h.uptimeSeconds * 1000)}`,
    'disks:',
    ...h.disks.map((d) => `  ${inert(d.mount).padEnd(20)} ${formatBytes(d.usedBytes)} / ${formatBytes(d.sizeBytes)} (${formatPercent(d.usePercent)})`),
  ];
  return lines.join('\n');
}
