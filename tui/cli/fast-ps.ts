/**
 * `outpost ps` answered from the start file, without loading the rest of
 * the program (commander, dockerode, the node and its model).
 *
 * `ps` is what a script calls in a loop and what a technician types first,
 * and almost all of its time was loading code it did not need: this path
 * sends the same requests the full path does (the list, then an inspect per
 * container, for the restart counts and start times the list lacks) on the
 * engine's unix socket and prints the same rows through the same mapping and
 * table code. It takes only the plain forms (`ps` with -a, --json, -q, -w)
 * on a local socket. An engine that does not answer within the user's
 * deadline is said here, as the full CLI says it; anything else unexpected
 * (no socket, an error status, an answer it cannot read) returns null and the
 * full CLI runs, which explains what is wrong in its own words.
 */
import type { Endpoint } from '../../core/docker/endpoint.js';
import { describeEndpoint } from '../../core/docker/endpoint.js';
import { summaryFromInspect, type RawInspect } from '../../core/docker/mapping.js';
import { EngineTimeoutError } from '../../core/model/errors.js';
import type { ContainerSummary } from '../../core/model/types.js';
import { LOCAL_ALIAS } from '../../core/peers/node-name.js';
import { DEADLINE_PASSED, getJson, requestList } from '../app/engine-list.js';
import type { FastPsOptions } from './ps-args.js';
import { psColumns } from '../presentation/container-row.js';
import { renderTable } from '../presentation/format.js';

/** Inspects in flight at once, as the full path (LocalNode's INSPECT_CONCURRENCY). */
const CONCURRENCY = 8;

/**
 * The rows `outpost ps` lists, as LocalNode.list makes them; null when anything is unexpected,
 * or an EngineTimeoutError (as the full CLI's) when a request outlives `timeoutMs`.
 * `list`: the engine's list, when the start file has asked for it already (early-request.ts).
 */
export async function fastList(endpoint: Endpoint, all: boolean, timeoutMs: number, list: Promise<unknown> | null = null, node: string = LOCAL_ALIAS, now: () => number = Date.now): Promise<ContainerSummary[] | EngineTimeoutError | null> {
  if (endpoint.kind !== 'unix') return null;
  let asking = 'GET /containers/json';
  try {
    const rows = await (list ?? requestList(endpoint, timeoutMs, all));
    if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null && typeof (r as { Id?: unknown }).Id === 'string' && /^[0-9a-f]{12,64}$/.test((r as { Id: string }).Id))) return null;
    const ids = (rows as { Id: string }[]).map((r) => r.Id);
    const out: (ContainerSummary | null)[] = new Array<ContainerSummary | null>(ids.length).fill(null);
    let next = 0;
    const t = now();
    asking = 'GET /containers/{id}/json';
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, ids.length) }, async () => {
        while (next < ids.length) {
          const i = next++;
          // A container removed between the list and its inspect is left out, as the full path does.
          const raw = await getJson(endpoint.socketPath, `/containers/${ids[i]}/json`, timeoutMs, { missing: null });
          if (raw === null) continue;
          if (typeof raw !== 'object' || typeof (raw as RawInspect).Id !== 'string') throw new Error('unexpected inspect answer');
          out[i] = summaryFromInspect(raw as RawInspect, node, t);
        }
      }),
    );
    return out.filter((c): c is ContainerSummary => c !== null).sort((a, b) => b.created - a.created);
  } catch (err) {
    // A hung engine is said here, at its deadline, as the full CLI says it: asking it all again there would double the wait.
    if ((err as { code?: unknown }).code === DEADLINE_PASSED) return new EngineTimeoutError(describeEndpoint(endpoint), asking, timeoutMs);
    return null;
  }
}

/**
 * Prints `outpost ps` as the full CLI does and gives its exit status; null when the full CLI
 * must answer instead.
 */
export async function fastPs(endpoint: Endpoint, o: FastPsOptions, io: { out: (text: string) => void; err: (text: string) => void }, timeoutMs: number, listRequest: Promise<unknown> | null = null, node: string = LOCAL_ALIAS): Promise<number | null> {
  const list = await fastList(endpoint, o.all, timeoutMs, listRequest, node);
  if (list === null) return null;
  if (list instanceof EngineTimeoutError) {
    io.err(`Error: ${list.message}\n`);
    return EngineTimeoutError.exit;
  }
  if (o.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
  else if (o.quiet) io.out(list.map((c) => `${c.id.slice(0, 12)}\n`).join(''));
  else io.out(`${renderTable(list, psColumns(Date.now(), o.wide))}\n`);
  return 0;
}
