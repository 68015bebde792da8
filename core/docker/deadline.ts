/**
 * Every request to an engine has a deadline. A socket that accepts and never
 * answers (a hung dockerd, a stuck ssh tunnel) would otherwise hold `ps`,
 * `logs` or the TUI's "connecting…" forever.
 *
 * The deadline is put on docker-modem's `dial`, the one function every
 * dockerode call goes through, so no call can be forgotten:
 * - a plain request must be answered, body included, within the deadline;
 * - a stream (events, logs -f, stats, exec's hijacked connection) must send
 *   its response headers within it, then may stay open and quiet for ever;
 * - stop and restart get their grace period (`t`) on top;
 * - uploads (image import) and `wait` have none: their length is the caller's.
 */
import { BadInputError, EngineTimeoutError } from '../model/errors.js';

/** Default deadline for one engine request. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 10_000;

interface DialOptions {
  path?: string;
  method?: string;
  isStream?: boolean;
  hijack?: boolean;
  file?: unknown;
  abortSignal?: AbortSignal;
  options?: Record<string, unknown>;
}
type DialCallback = (err: unknown, data: unknown) => void;
interface DialingModem {
  dial(options: DialOptions, callback: DialCallback): void;
}

/** The deadline (ms) of one request, or 0 for none. */
export function deadlineFor(options: DialOptions, baseMs: number): number {
  const path = (options.path ?? '').split('?')[0] ?? '';
  if (options.file !== undefined || /\/(wait|attach)$/.test(path) || /^\/(images\/(create|load)|build)$/.test(path)) return 0;
  const m = /^\/containers\/[^/]+\/(stop|restart)$/.exec(path);
  if (m) {
    const t = Number(options.options?.t);
    // Docker's own default grace period is 10 s; a container's StopTimeout can be longer.
    return baseMs + (Number.isFinite(t) && t >= 0 ? t : 60) * 1000;
  }
  return baseMs;
}

/**
 * Puts the deadline on every request `modem` makes to the engine called
 * `label`. `closed` (the owner closing) ends every request still waiting.
 */
export function applyDeadlines(modem: DialingModem, label: string, baseMs: number, closed?: AbortSignal): void {
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const ms = deadlineFor(options, baseMs);
    const signals = [options.abortSignal, closed].filter((s): s is AbortSignal => s !== undefined);
    if (ms <= 0) return dial(signals.length > 0 ? { ...options, abortSignal: AbortSignal.any(signals) } : options, callback);
    const what = `${options.method ?? 'GET'} ${(options.path ?? '').split('?')[0]}`;
    const controller = new AbortController();
    const signal = AbortSignal.any([...signals, controller.signal]);
    let late = false;
    let answered = false;
    const answer: DialCallback = (err, data) => {
      if (answered) return;
      answered = true;
      callback(err, data);
    };
    const timer = setTimeout(() => {
      late = true;
      controller.abort();
      // The modem does not always call back once aborted: an answer cut off in its body (the
      // engine closed early) left the request with no callback at all, and the process exited 0
      // with nothing said. The deadline answers for it.
      answer(new EngineTimeoutError(label, what, ms), undefined);
    }, ms);
    dial({ ...options, abortSignal: signal }, (err, data) => {
      clearTimeout(timer);
      answer(late && err ? new EngineTimeoutError(label, what, ms) : err, data);
    });
  };
}

/**
 * The deadline from OUTPOST_ENGINE_TIMEOUT (seconds, 1 to 3600; fractions
 * allowed), or the default. A bad value names the variable.
 */
export function engineTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.OUTPOST_ENGINE_TIMEOUT;
  if (text === undefined || text.trim() === '') return DEFAULT_ENGINE_TIMEOUT_MS;
  const s = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(s >= 0.1 && s <= 3600)) {
    throw new BadInputError(`OUTPOST_ENGINE_TIMEOUT must be a number of seconds from 0.1 to 3600, got ${JSON.stringify(text.slice(0, 40))}.`, {
      field: 'OUTPOST_ENGINE_TIMEOUT',
    });
  }
  return Math.round(s * 1000);
}
