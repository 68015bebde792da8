/**
 * The main view's layout, shared by the Ink app and the first frame painted
 * before Ink has loaded (tui/app/first-frame.ts), so the two agree row for row.
 */

/**
 * The frame's size for a terminal: one row short of it (a frame as tall as the terminal makes
 * Ink clear the screen on each render), and never smaller than 40 × 8.
 */
export function frameSize(columns: number, rows: number): { width: number; height: number } {
  return { width: Math.max(40, columns), height: Math.max(8, rows - 1) };
}

/** Rows of the container table (its heading included) and of the detail pane (its tab line included). */
export function mainHeights(height: number): { tableHeight: number; detailHeight: number } {
  // Header, host strip and status line take one row each.
  const tableHeight = Math.max(4, Math.floor((height - 3) * 0.55));
  const detailHeight = Math.max(2, height - 3 - tableHeight);
  return { tableHeight, detailHeight };
}

/** The key hints on the main view's status line. */
export function mainHints(readOnly: boolean): string {
  return readOnly
    ? 'enter logs  / filter  : palette  tab detail  ? help  q quit'
    : 'enter logs  r restart  s stop/start  d remove  e shell  / filter  : palette  ? help';
}

/** What the host strip says before the first sample. */
export const HOST_WAITING = 'host: waiting for the first sample…';
