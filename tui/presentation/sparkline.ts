const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * The last `width` values as block characters, on a fixed scale: `max` is
 * the full bar (100 for percentages, a container's memory limit), so a flat
 * 0.6 % never draws as full bars. There is no scale "to its own maximum".
 * Missing history is padded with spaces on the left, so the newest value is
 * always in the last column; values above `max` draw as full bars.
 */
export function sparkline(values: readonly number[], width: number, max: number): string {
  if (width <= 0) return '';
  const tail = values.slice(-width);
  const top = max;
  const bars = tail.map((v) => {
    if (!Number.isFinite(v) || v <= 0 || !(top > 0)) return BARS[0];
    // Eighths, rounded up: any load shows at least the lowest bar, the maximum the full one.
    const i = Math.max(0, Math.min(BARS.length - 1, Math.ceil((v / top) * BARS.length) - 1));
    return BARS[i];
  });
  return ' '.repeat(width - tail.length) + bars.join('');
}

/** A fixed-size history of numbers: appending past the capacity drops the oldest. */
export class History {
  #values: number[] = [];
  constructor(readonly capacity: number) {}

  push(v: number): void {
    this.#values.push(v);
    if (this.#values.length > this.capacity) this.#values.shift();
  }

  values(): readonly number[] {
    return this.#values;
  }
}
