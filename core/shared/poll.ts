import type { Disposer } from '../model/types.js';

/**
 * Samples now and then every `intervalMs`, never two at once. A failed sample is
 * skipped: a node that is away says so through its status, and sampling resumes
 * with it. The disposer stops the timer and releases what the sampler holds; a
 * node keeps its pollers in `owned` so close() can dispose of them all.
 */
export function poll<T>(
  intervalMs: number,
  sample: () => Promise<T>,
  listener: (value: T) => void,
  owned: Set<Disposer>,
  release?: () => void,
): Disposer {
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const value = await sample();
      if (!stopped) listener(value);
    } catch {
      // see above
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  const dispose = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    owned.delete(dispose);
    release?.();
  };
  owned.add(dispose);
  return dispose;
}
