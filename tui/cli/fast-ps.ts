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
 * on a local socket; anything else, and anything unexpected on the way (no
 * socket, an error status, a slow engine), returns false and the full CLI
 * runs, which explains what is wrong in its own words and deadline.
 */
import type { Endpoint } from '../../core/docker/endpoint.js';
import { summaryFromInspect, type RawInspect } from '../../core/docker/mapping.js';
import type { ContainerSummary } from '../../core/model/types.js';
import { getJson } from '../app/engine-list.js';
import type { FastPsOptions } from './ps-args.js';
import { psColumns } from '../presentation/container-row.js';
import { renderTable } from '../presentation/format.js';

/** Whole answer within this, or the full CLI takes over (with the user's OUTPOST_ENGINE_TIMEOUT). */
const DEADLINE_MS = 2000;
/** Inspects in flight at once, as the full path (LocalNode's INSPECT_CONCURRENCY). */
const CONCURRENCY = 8;

/**
 * The rows `outpost ps` lists, as LocalNode.list makes them; null when anything is unexpected.
 * `list`: the engine's list, when the start file has asked for it already (early-request.ts).
 */
export async function fastList(endpoint: Endpoint, all: boolean, list: Promise<unknown> | null = null, now: () => number = Date.now): Promise<ContainerSummary[] | null> {
  if (endpoint.kind !== 'unix') return null;
  const deadline = Date.now() + DEADLINE_MS;
  const left = () => Math.max(1, deadline - Date.now());
  try {
    const rows = await (list ?? getJson(endpoint.socketPath, `/containers/json${all ? '?all=1' : ''}`, left()));
    if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null && typeof (r as { Id?: unknown }).Id === 'string' && /^[0-9a-f]{12,64}$/.test((r as { Id: string }).Id))) return null;
    const ids = (rows as { Id: string }[]).map((r) => r.Id);
    const out: (ContainerSummary | null)[] = new Array<ContainerSummary | null>(ids.length).fill(null);
    let next = 0;
    const t = now();
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, ids.length) }, async () => {
        while (next < ids.length) {
          const i = next++;
          // A container removed between the list and its inspect is left out, as the full path does.
          const raw = await getJson(endpoint.socketPath, `/containers/${ids[i]}/json`, left(), { missing: null });
          if (raw === null) continue;
          if (typeof raw !== 'object' || typeof (raw as RawInspect).Id !== 'string') throw new Error('unexpected inspect answer');
          out[i] = summaryFromInspect(raw as RawInspect, 'local', t);
        }
      }),
    );
    return out.filter((c): c is ContainerSummary => c !== null).sort((a, b) => b.created - a.created);
  } catch {
    return null;
  }
}

/** Prints `outpost ps` as the full CLI does; false when the full CLI must answer instead. */
export async function fastPs(endpoint: Endpoint, o: FastPsOptions, out: (text: string) => void, listRequest: Promise<unknown> | null = null): Promise<boolean> {
  const list = await fastList(endpoint, o.all, listRequest);
  if (list === null) return false;
  if (o.json) out(`${JSON.stringify(list, null, 2)}\n`);
  else if (o.quiet) out(list.map((c) => `${c.id.slice(0, 12)}\n`).join(''));
  else out(`${renderTable(list, psColumns(Date.now(), o.wide))}\n`);
  return true;
}
