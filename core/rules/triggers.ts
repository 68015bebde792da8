/**
 * Conditions that must hold for a while before a rule fires (CPU above 90 %
 * for 30 s, memory for 5 samples, host load): when each started holding and
 * how many samples it held for, keyed by rule and what it is about.
 */
import type { Sustain, TriggerInfo } from './types.js';
import { words } from './wording.js';

interface Cond {
  since: number | null;
  count: number;
}

export class Sustained {
  #conds = new Map<string, Cond>();
  /** When each condition began to hold without a break (kept when it fires and starts counting over). */
  #holding = new Map<string, number>();

  /** Counts one reading; the trigger's info once the condition has held long enough (then it starts over). */
  check(key: string, holds: boolean, sustain: Sustain, now: number, info: (span: string) => TriggerInfo): TriggerInfo | null {
    let cond = this.#conds.get(key);
    if (!holds) {
      if (cond) this.#conds.delete(key);
      this.#holding.delete(key);
      return null;
    }
    if (!this.#holding.has(key)) this.#holding.set(key, now);
    if (!cond) {
      cond = { since: now, count: 0 };
      this.#conds.set(key, cond);
    }
    cond.count++;
    const since = cond.since ?? now;
    const ok = sustain === null || ('forMs' in sustain ? now - since >= sustain.forMs : cond.count >= sustain.samples);
    if (!ok) return null;
    const span = sustain === null ? '' : 'forMs' in sustain ? ` for ${words(now - since)}` : ` for ${cond.count} samples`;
    this.#conds.delete(key);
    return { ...info(span), holdingSince: this.#holding.get(key) ?? since };
  }

  /** Forgets a condition; it must hold again for its whole duration (a reset). */
  delete(key: string): void {
    this.#conds.delete(key);
  }

  clear(): void {
    this.#conds.clear();
    this.#holding.clear();
  }

  /** Forgets every condition about one container (its own conditions end with its ID). */
  forgetContainer(containerId: string): void {
    for (const key of [...this.#conds.keys()]) if (key.endsWith(`\0${containerId}`)) this.#conds.delete(key);
    for (const key of [...this.#holding.keys()]) if (key.endsWith(`\0${containerId}`)) this.#holding.delete(key);
  }
}
