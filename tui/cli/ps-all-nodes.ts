/**
 * `outpost ps --all-nodes`: every node's containers in one table with a NODE
 * column (`node` in --json). A node that does not answer is reported on
 * stderr with its reason; the exit status is the failure's only when no node
 * answered.
 */
import type { Fleet } from '../../core/fleet.js';
import type { ContainerSummary } from '../../core/model/types.js';
import type { CliIO } from './program.js';
import { ReportedError } from './program.js';

export async function psAllNodes(fleet: Fleet, opts: { all?: boolean; json?: boolean; quiet?: boolean; wide?: boolean }, io: CliIO): Promise<void> {
  const nodes = fleet.nodes();
  const answers = await Promise.all(
    nodes.map(async (n) => {
      try {
        return { node: n.name, list: await n.list({ all: opts.all === true }), error: null };
      } catch (err) {
        return { node: n.name, list: [] as ContainerSummary[], error: err };
      }
    }),
  );
  const rows = answers.flatMap((a) => a.list.map((c) => ({ ...c, node: a.node })));
  for (const a of answers) if (a.error) io.err(`Error: node ${a.node}: ${a.error instanceof Error ? a.error.message : String(a.error)}\n`);
  const firstError = answers.find((a) => a.error)?.error;
  if (opts.json) io.out(`${JSON.stringify(rows, null, 2)}\n`);
  else if (opts.quiet) io.out(rows.map((c) => `${c.id.slice(0, 12)}\n`).join(''));
  else {
    const { renderTable } = await import('../presentation/format.js');
    const { psColumns } = await import('../presentation/container-row.js');
    const cols = psColumns(Date.now(), opts.wide === true);
    io.out(`${renderTable(rows, [{ header: 'NODE', value: (r: (typeof rows)[number]) => r.node }, ...cols])}\n`);
  }
  if (firstError !== undefined && answers.every((a) => a.error)) throw new ReportedError(firstError);
}
