/** What the rule engine knows of one container now, besides its summary. */
import type { ContainerSummary } from '../model/types.js';
import type { Rule } from './types.js';

export interface Live {
  c: ContainerSummary;
  labelRule: Rule | null;
  killedAt: number | null;
  oomAt: number | null;
  unhealthySince: number | null;
  /** True while `unhealthySince` is only when this engine first saw it unhealthy (no health log, no event yet). */
  unhealthyGuessed: boolean;
  /** Per rule: when its `unhealthy` condition next counts as held (after it fired, or a reset, it must hold again). */
  unhealthyDue: Map<string, number>;
  starts: number[];
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryPercent: number | null;
}
