/**
 * The TUI's placement dialog: a workload file (`:place FILE`) or a placed container (`:move`)
 * becomes the table of every node's verdict, and `run` does it once the person says yes. Loaded
 * only when the dialog opens (the spec parser and the engine are not on the start-up path).
 */
import type { Node } from '../../core/node.js';
import { distinctNodes, planMove, planPlacement, runMove, runPlanned } from '../../core/placement/fleet-ops.js';
import { formatPlacement } from '../../core/placement/format.js';
import { formatIssue, MAX_WORKLOAD_FILE_BYTES, parseWorkload } from '../../core/placement/spec.js';
import { readRegularFile } from '../../core/model/read-file.js';
import type { ContainerSummary } from '../../core/model/types.js';
import { inert } from '../presentation/inert.js';

export interface Dialog {
  title: string;
  lines: string[];
  /** Null when there is nothing to run (nothing fits, the file is bad): the dialog only explains. */
  run: (() => Promise<string>) | null;
}

const message = (err: unknown) => inert(err instanceof Error ? err.message : String(err));

export async function placeDialog(all: readonly Node[], file: string): Promise<Dialog> {
  const title = `place ${inert(file)}`;
  const read = readRegularFile(file, MAX_WORKLOAD_FILE_BYTES);
  if (!read.ok) return { title, lines: [`${inert(file)}: ${read.message}`], run: null };
  const parsed = parseWorkload(read.text, file);
  if (!parsed.workload || parsed.issues.length > 0) return { title, lines: [...parsed.issues.map((i) => inert(formatIssue(i))), `${parsed.issues.length} problem(s): nothing placed`], run: null };
  const workload = parsed.workload;
  try {
    const once = await distinctNodes(all);
    const nodes = once.nodes;
    const plan = await planPlacement(nodes, workload);
    const warnings = [...once.problems, ...plan.problems].map((p) => `warning: ${inert(p)}`);
    if (plan.missing.length === 0) return { title, lines: [...warnings, `${inert(workload.name)}: every replica runs already`], run: null };
    const table = formatPlacement(plan.placement, workload).trimEnd().split('\n');
    const fits = plan.placement.chosen.length === plan.missing.length;
    return {
      title,
      // The question first: on a small terminal the table is what gets cut.
      lines: [fits ? `y: run ${plan.missing.length} replica(s) there · any other key: cancel` : 'nothing is run · any key: close', ...warnings, ...table],
      run: fits
        ? async () => {
            const started = await runPlanned(nodes, workload, read.text, plan);
            const bad = started.filter((s) => s.error);
            if (bad.length > 0) throw new Error(bad.map((s) => `replica ${s.replica} on ${s.node}: ${s.error}`).join('; '));
            return `${workload.name}: started on ${started.map((s) => s.node).join(', ')}`;
          }
        : null,
    };
  } catch (err) {
    return { title, lines: [message(err)], run: null };
  }
}

export async function moveDialog(all: readonly Node[], c: ContainerSummary): Promise<Dialog> {
  const title = `move ${inert(c.name)}`;
  try {
    const { nodes, alias } = await distinctNodes(all);
    // Shown under this machine's name when its engine is a peer's too: moved from the peer's.
    const plan = await planMove(nodes, c.id, alias.get(c.node) ?? c.node);
    const table = formatPlacement(plan.placement, plan.workload).trimEnd().split('\n');
    const to = plan.placement.chosen[0];
    const how = plan.workload.replicas === 1 ? 'stopped here first, then started there (a singleton never runs twice)' : 'started there, then removed here';
    return {
      title,
      lines: [to ? `y: move it to ${inert(to)} (${how}) · any other key: cancel` : 'no other node can take it · any key: close', ...plan.problems.map((p) => `warning: ${inert(p)}`), ...table],
      run: to
        ? async () => {
            const r = await runMove(nodes, plan);
            return `${c.name} moved to ${r.node} (${r.containerId.slice(0, 12)})`;
          }
        : null,
    };
  } catch (err) {
    return { title, lines: [message(err)], run: null };
  }
}
