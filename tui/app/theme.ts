import type { ContainerSummary } from '../../core/model/types.js';

/**
 * Colours that read on light and dark backgrounds alike (no white or black
 * text, no background fills but the selection, which is inverse video).
 * With NO_COLOR set every colour is dropped; state stays readable as text.
 */
export interface Theme {
  color(name: 'ok' | 'warn' | 'bad' | 'accent' | 'muted'): string | undefined;
  readonly noColor: boolean;
}

export const palette = { ok: 'green', warn: 'yellow', bad: 'red', accent: 'cyan', muted: 'gray' } as const;

export function makeTheme(env: NodeJS.ProcessEnv): Theme {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return {
    noColor,
    color: (name) => (noColor ? undefined : palette[name]),
  };
}

export function stateColor(c: ContainerSummary): 'ok' | 'warn' | 'bad' | 'muted' {
  if (c.state === 'running') return c.health === 'unhealthy' ? 'bad' : c.health === 'starting' ? 'warn' : 'ok';
  if (c.state === 'restarting' || c.state === 'paused') return 'warn';
  if (c.state === 'exited' && c.exitCode === 0) return 'muted';
  if (c.state === 'created') return 'muted';
  return 'bad';
}
