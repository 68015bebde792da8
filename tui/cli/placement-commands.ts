/**
 * `outpost workloads check FILE`, `outpost place FILE [--dry-run] [--json]`, `outpost workloads`
 * and `outpost workloads rm NAME`: the placement engine on the fleet of the peers file (this
 * machine alone when there are no peers; then no agent is needed).
 */
import { BadInputError } from '../../core/model/errors.js';
import { readRegularFile } from '../../core/model/read-file.js';
import type { Node } from '../../core/node.js';
import { distinctNodes, fleetCopies, planPlacement, runPlanned, type PlacedCopy } from '../../core/placement/fleet-ops.js';
import { bytes } from '../../core/placement/engine.js';
import { formatPlacement, placementJson } from '../../core/placement/format.js';
import { formatIssue, MAX_WORKLOAD_FILE_BYTES, parseWorkload, type Workload } from '../../core/placement/spec.js';
import { inert } from '../presentation/inert.js';
import type { CliIO } from './program.js';

/** The workload of a file, or the exit code 2 with every problem printed (file:line:col: field: what). */
function loadWorkload(file: string, io: CliIO): { workload: Workload; text: string } | number {
  const read = readRegularFile(file, MAX_WORKLOAD_FILE_BYTES);
  if (!read.ok) throw new BadInputError(`${file}: ${read.message}.`);
  const r = parseWorkload(read.text, file);
  if (!r.workload || r.issues.length > 0) {
    for (const i of r.issues) io.err(`${inert(formatIssue(i))}\n`);
    io.err(`${inert(file)}: ${r.issues.length} problem(s)\n`);
    return 2;
  }
  return { workload: r.workload, text: read.text };
}

/** One node per engine (this machine's engine may be a peer too), with a warning for each left out. */
async function oncePerEngine(all: readonly Node[], io: CliIO): Promise<readonly Node[]> {
  const { nodes, problems } = await distinctNodes(all);
  for (const p of problems) io.err(`warning: ${inert(p)}\n`);
  return nodes;
}

function describeWorkload(w: Workload): string {
  const parts = [`image ${w.image}`, `${w.replicas} replica${w.replicas === 1 ? '' : 's'}`, w.movable ? 'movable' : 'not movable', `strategy ${w.strategy}`];
  const asked = [w.resources.cpu > 0 ? `cpu ${w.resources.cpu}` : '', w.resources.memoryBytes > 0 ? `memory ${bytes(w.resources.memoryBytes)}` : ''].filter(Boolean);
  if (asked.length > 0) parts.push(`requests ${asked.join(', ')}`);
  if (w.constraints.length > 0) parts.push(`constraints: ${w.constraints.map((c) => c.text).join('; ')}`);
  return parts.join(', ');
}

export function workloadsCheck(file: string, opts: { json?: boolean }, io: CliIO): number {
  const read = readRegularFile(file, MAX_WORKLOAD_FILE_BYTES);
  if (!read.ok) throw new BadInputError(`${file}: ${read.message}.`);
  const r = parseWorkload(read.text, file);
  const valid = r.workload !== null && r.issues.length === 0;
  if (opts.json) {
    io.out(`${JSON.stringify({ file, valid, workload: r.workload?.name ?? null, issues: r.issues }, null, 2)}\n`);
  } else if (valid && r.workload) {
    io.out(`${inert(file)}: workload ${inert(r.workload.name)}, no problems\n  ${inert(describeWorkload(r.workload))}\n`);
  } else {
    for (const i of r.issues) io.err(`${inert(formatIssue(i))}\n`);
    io.err(`${inert(file)}: ${r.issues.length} problem(s)\n`);
  }
  return valid ? 0 : 2;
}

/**
 * The table, and unless `--dry-run` the replicas run on their nodes. Exit 0 when every replica
 * runs (or would), 3 when nothing fits or a replica could not be started (the table says why).
 */
export async function placeCommand(nodes: readonly Node[], file: string, opts: { dryRun?: boolean; json?: boolean }, io: CliIO): Promise<number> {
  const loaded = loadWorkload(file, io);
  if (typeof loaded === 'number') return loaded;
  const { workload, text } = loaded;
  nodes = await oncePerEngine(nodes, io);
  const plan = await planPlacement(nodes, workload);
  for (const p of plan.problems) io.err(`warning: ${inert(p)}\n`);
  const short = plan.placement.chosen.length < plan.missing.length;
  if (plan.missing.length === 0) {
    const where = plan.running.map((c) => `${c.replica} on ${c.node}`).join(', ');
    if (opts.json) io.out(`${JSON.stringify({ ...placementJson(plan.placement, workload), running: plan.running, started: [] }, null, 2)}\n`);
    else io.out(`${inert(workload.name)}: every replica runs already (${inert(where)}); nothing to place\n`);
    return 0;
  }
  for (const s of plan.stale) io.err(`note: ${inert(workload.name)} replica ${s.replica} exists on ${inert(s.node)} but is ${s.state}: ${opts.dryRun ? 'it would be' : 'it is'} removed and placed again\n`);
  if (opts.dryRun || short) {
    if (opts.json) io.out(`${JSON.stringify({ ...placementJson(plan.placement, workload), dryRun: opts.dryRun === true, running: plan.running }, null, 2)}\n`);
    else io.out(formatPlacement(plan.placement, workload));
    return short ? 3 : 0;
  }
  const started = await runPlanned(nodes, workload, text, plan);
  if (opts.json) io.out(`${JSON.stringify({ ...placementJson(plan.placement, workload), running: plan.running, started }, null, 2)}\n`);
  else {
    io.out(formatPlacement(plan.placement, workload));
    for (const s of started) {
      if (s.error) io.err(`Error: replica ${s.replica} on ${inert(s.node)}: ${inert(s.error)}\n`);
      else io.out(`started ${inert(workload.name)} replica ${s.replica} on ${inert(s.node)} (${(s.containerId ?? '').slice(0, 12)})\n`);
    }
  }
  return started.some((s) => s.error) ? 3 : 0;
}

/** How long ago a copy started, for the placement list: 45s, 12m, 3h, 2d. */
export function ageOf(ms: number | null, now: number): string {
  if (ms === null || !(ms > 0)) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  // Each unit is chosen after rounding: 7,170 s is 2h, not 120m.
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(s / 3600);
  if (h < 48) return `${h}h`;
  return `${Math.round(s / 86_400)}d`;
}

export async function workloadsList(nodes: readonly Node[], opts: { json?: boolean }, io: CliIO): Promise<number> {
  const { copies, problems } = await fleetCopies(await oncePerEngine(nodes, io));
  for (const p of problems) io.err(`warning: ${inert(p)} (its placed containers are not listed)\n`);
  const rows = [...copies].sort((a, b) => a.workload.localeCompare(b.workload) || a.replica - b.replica || a.node.localeCompare(b.node));
  if (opts.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.out('no placed workloads (outpost place FILE runs one)\n');
    return 0;
  }
  const { renderTable } = await import('../presentation/format.js');
  const now = Date.now();
  io.out(
    `${renderTable<PlacedCopy>(rows, [
      { header: 'WORKLOAD', value: (r) => inert(r.workload) },
      { header: 'REPLICA', value: (r) => String(r.replica), right: true },
      { header: 'NODE', value: (r) => inert(r.node) },
      { header: 'CONTAINER', value: (r) => inert(r.containerName) },
      { header: 'STATE', value: (r) => r.state },
      { header: 'UP', value: (r) => (r.running ? ageOf(r.startedAt, now) : '-') },
      { header: 'MOVABLE', value: (r) => (r.movable ? 'yes' : 'no') },
    ])}\n`,
  );
  return 0;
}

export async function workloadsRemove(nodes: readonly Node[], name: string, io: CliIO): Promise<number> {
  if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name)) throw new BadInputError(`\`${name.slice(0, 64)}\` is not a workload name (lower-case letters, digits, \`_\`, \`.\`, \`-\`).`);
  nodes = await oncePerEngine(nodes, io);
  const { copies, problems } = await fleetCopies(nodes);
  const mine = copies.filter((c) => c.workload === name);
  for (const p of problems) io.err(`warning: ${inert(p)}: any copy of ${name} there stays until it answers (run this again then)\n`);
  if (mine.length === 0) {
    io.err(`no placed workload \`${name}\`${problems.length > 0 ? ' on the nodes that answered' : ''}\n`);
    return problems.length > 0 ? 3 : 1;
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let failed = 0;
  for (const c of mine) {
    try {
      await byName.get(c.node)?.remove(c.containerId, { force: true });
      io.out(`removed ${inert(name)} replica ${c.replica} on ${inert(c.node)} (${inert(c.containerName)})\n`);
    } catch (err) {
      failed++;
      io.err(`Error: ${inert(c.node)}: ${inert(err instanceof Error ? err.message : String(err))}\n`);
    }
  }
  return failed > 0 || problems.length > 0 ? 3 : 0;
}
