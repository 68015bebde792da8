/**
 * The first thing the start file does (tui/main.ts imports it before
 * anything else): for the two starts that begin with the engine's container
 * list, the terminal UI (`outpost`, `outpost --read-only`) and a plain
 * `outpost ps`, the request leaves now, so the engine answers while the
 * terminal's modules load. Only a local unix socket is asked; a failure here
 * is left for the caller (the UI or the full CLI explains it).
 */
import { engineTimeoutFromEnv } from '../core/docker/deadline.js';
import { resolveEndpoint, type Endpoint } from '../core/docker/endpoint.js';
import { requestList } from './app/engine-list.js';
import { fastPsArgs, type FastPsOptions } from './cli/ps-args.js';

export interface EarlyRequest {
  args: string[];
  /** `outpost` with no command (or only --read-only): the terminal UI. */
  tui: boolean;
  /** The options of a plain `outpost ps`, which the start file answers itself. */
  ps: FastPsOptions | null;
  endpoint: Endpoint | null;
  /** The deadline of each engine request (OUTPOST_ENGINE_TIMEOUT, as the full CLI reads it). */
  timeoutMs: number;
  /** The engine's answer to GET /containers/json (?all=1 for the UI and `ps -a`), already on its way. */
  list: Promise<unknown> | null;
}

/** The deadline of the first frame's list: a slower engine gets the full UI's own start. */
const FIRST_FRAME_LIST_MS = 250;

export function startEarlyRequest(argv: readonly string[], env: NodeJS.ProcessEnv): EarlyRequest {
  const args = argv.slice(2);
  const tui = args.every((a) => a === '--read-only');
  const ps = tui ? null : fastPsArgs(args);
  const early: EarlyRequest = { args, tui, ps, endpoint: null, timeoutMs: 0, list: null };
  if (!tui && ps === null) return early;
  try {
    early.endpoint = resolveEndpoint(env);
    early.timeoutMs = engineTimeoutFromEnv(env);
  } catch {
    // A bad DOCKER_HOST or OUTPOST_ENGINE_TIMEOUT: the full CLI (or the UI) names it.
    early.ps = null;
    early.endpoint = null;
    return early;
  }
  if (early.endpoint.kind !== 'unix') return early;
  early.list = requestList(early.endpoint, tui ? FIRST_FRAME_LIST_MS : early.timeoutMs, tui || ps?.all === true);
  // Handled here: whoever does not use it must not end the process with an unhandled rejection.
  early.list.catch(() => undefined);
  return early;
}

export const early: EarlyRequest = startEarlyRequest(process.argv, process.env);
