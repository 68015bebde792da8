import type { ContainerStats, ContainerSummary } from '../../core/model/types.js';
import { formatState } from './container-row.js';
import { formatBytes, truncate } from './format.js';
import { inert } from './inert.js';

interface Col {
  title: string;
  width: number;
  right?: boolean;
  cell: (c: ContainerSummary, s: ContainerStats | undefined, now: number) => string;
}

const fixed: Col[] = [
  { title: 'STATE', width: 16, cell: (c, _s, now) => formatState(c, now) },
  { title: 'HEALTH', width: 9, cell: (c) => (c.health === 'none' ? '-' : c.health) },
  { title: 'RST', width: 4, right: true, cell: (c) => String(c.restartCount) },
  { title: 'CPU', width: 6, right: true, cell: (_c, s) => (s ? listPercent(s.cpuPercent) : '-') },
  { title: 'MEM', width: 8, right: true, cell: (_c, s) => (s ? formatBytes(s.memoryBytes) : '-') },
];

/**
 * Lays the list's columns out for a terminal `width` wide: name and image
 * share what the fixed columns leave; below 70 columns the image goes.
 */
export function layoutColumns(width: number): { name: number; image: number; cols: Col[] } {
  const gaps = fixed.length + 1;
  const fixedWidth = fixed.reduce((a, c) => a + c.width, 0) + gaps + 2; // 2: mark and indent
  const rest = Math.max(10, width - fixedWidth);
  if (width < 70) return { name: rest, image: 0, cols: fixed };
  const name = Math.max(10, Math.min(40, Math.floor(rest * 0.5)));
  return { name, image: Math.max(0, rest - name - 1), cols: fixed };
}

/**
 * The list's CPU column in whole percent ("<1%" below one): tenths flicker on
 * every sample, and each flicker is bytes on a slow link. The Stats tab has
 * the exact figure.
 */
export function listPercent(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n <= 0) return '0%';
  if (n < 1) return '<1%';
  return `${Math.round(n)}%`;
}

function pad(text: string, width: number, right = false): string {
  const t = truncate(text, width);
  return right ? t.padStart(width) : t.padEnd(width);
}

export function headerLine(width: number): string {
  const l = layoutColumns(width);
  const parts = [pad('NAME', l.name), ...l.cols.map((c) => pad(c.title, c.width, c.right))];
  if (l.image > 0) parts.push(pad('IMAGE', l.image));
  return `  ${parts.join(' ')}`.slice(0, width);
}

/** The text of one container row (without selection styling), exactly `width` wide or less. */
export function containerLine(
  c: ContainerSummary,
  s: ContainerStats | undefined,
  now: number,
  width: number,
  opts: { marked: boolean; indent: boolean },
): string {
  const l = layoutColumns(width);
  const name = `${opts.indent ? ' ' : ''}${inert(c.name)}`;
  const parts = [pad(name, l.name), ...l.cols.map((col) => pad(col.cell(c, s, now), col.width, col.right))];
  if (l.image > 0) parts.push(pad(inert(c.image), l.image));
  return `${opts.marked ? '*' : ' '} ${parts.join(' ')}`.slice(0, width);
}
