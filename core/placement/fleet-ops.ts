/**
 * Placement on real nodes: each node's snapshot (through the same `Node` interface whether it is
 * this machine, a peer's agent or an engine-only peer), running a workload's replicas on the
 * chosen nodes, and the placed workloads the fleet runs, read back from their containers' labels.
 *
 * A placed container carries everything another node needs to re-place it: the workload's name,
 * replica, generation, and the spec's own text (re-parsed, so a newer Outpost reads it as it
 * reads a file).
 */
import { BadInputError, OutpostError } from '../model/errors.js';
import type { ContainerSummary, RunSpec } from '../model/types.js';
import type { Node } from '../node.js';
import { place, type NodeSnapshot, type Placement } from './engine.js';
import { parseWorkload, type Workload } from './spec.js';
import { LABEL_GENERATION, LABEL_MOVABLE, LABEL_REPLICA, LABEL_SPEC, LABEL_WORKLOAD, MAX_SPEC_LABEL_BYTES, placedCopies, type PlacedCopy } from './copies.js';

export { LABEL_GENERATION, LABEL_MOVABLE, LABEL_REPLICA, LABEL_SPEC, LABEL_WORKLOAD, MAX_SPEC_LABEL_BYTES, placedCopies, type PlacedCopy } from './copies.js';

/** The spec a placed container carries, parsed again; null (with why) when it is missing or bad. */
export function specOf(c: Pick<ContainerSummary, 'labels' | 'name'>): { workload: Workload | null; problem: string | null } {
  const text = c.labels[LABEL_SPEC];
  if (typeof text !== 'string' || text === '') return { workload: null, problem: `${c.name} carries no workload spec (label ${LABEL_SPEC})` };
  const r = parseWorkload(text, `${c.name}:${LABEL_SPEC}`);
  if (!r.workload) return { workload: null, problem: r.issues[0]?.message ?? 'the spec does not parse' };
  return { workload: r.workload, problem: null };
}

/**
 * What placement knows of one node. An unreachable node (any of its answers fails) is in the
 * table as rejected, with the reason. Devices are asked for only when the workload names some.
 */
export async function snapshotOf(node: Node, workload: Workload): Promise<{ snapshot: NodeSnapshot; copies: PlacedCopy[]; problem: string | null }> {
  const devicePaths = [...new Set([...workload.devices.map((d) => d.host), ...workload.constraints.flatMap((c) => (c.kind === 'device' ? [c.path] : []))])];
  const needImages = workload.constraints.some((c) => c.kind === 'image-present');
  try {
    const [info, containers, images, devices] = await Promise.all([
      node.info(),
      node.list({ all: true }),
      needImages ? node.images() : Promise.resolve([] as string[]),
      devicePaths.length > 0 ? node.devices(devicePaths) : Promise.resolve({} as Record<string, boolean>),
    ]);
    const copies = placedCopies(node.name, containers);
    const running = copies.filter((c) => c.running);
    const replicasOf: Record<string, number> = {};
    for (const c of running) replicasOf[c.workload] = (replicasOf[c.workload] ?? 0) + 1;
    const portsInUse = containers.filter((c) => c.state === 'running').flatMap((c) => c.ports.filter((p) => p.publicPort).map((p) => `${p.protocol}/${p.publicPort}`));
    return {
      snapshot: {
        name: node.name,
        reachable: true,
        arch: info.arch,
        os: info.os,
        hostname: info.hostname,
        labels: info.labels,
        cpuCores: info.cpus,
        memoryBytes: info.memTotalBytes,
        allocated: { cpu: running.reduce((a, c) => a + c.cpu, 0), memoryBytes: running.reduce((a, c) => a + c.memoryBytes, 0) },
        devices: devices ? Object.entries(devices).filter(([, ok]) => ok).map(([p]) => p) : [],
        images,
        replicasOf,
        portsInUse,
      },
      copies,
      problem: devices === null && devicePaths.length > 0 ? `${node.name} cannot say which devices its host has (an engine-only peer)` : null,
    };
  } catch (err) {
    return {
      snapshot: { name: node.name, reachable: false, arch: '', os: '', hostname: '', labels: {}, cpuCores: 0, memoryBytes: 0, allocated: { cpu: 0, memoryBytes: 0 }, devices: [], images: [] },
      copies: [],
      problem: `${node.name}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** The container for replica `replica` of a workload: labelled so any node knows it as placed. */
export function runSpecFor(workload: Workload, specText: string, replica: number, generation: number): RunSpec {
  if (Buffer.byteLength(specText) > MAX_SPEC_LABEL_BYTES) throw new BadInputError(`the workload file is over ${MAX_SPEC_LABEL_BYTES / 1024} KiB: a placed container carries its spec in a label`);
  return {
    name: generation > 0 ? `${workload.name}-${replica}-g${generation}` : `${workload.name}-${replica}`,
    image: workload.image,
    cmd: workload.command,
    env: Object.entries(workload.env).map(([k, v]) => `${k}=${v}`),
    labels: {
      ...workload.labels,
      [LABEL_WORKLOAD]: workload.name,
      [LABEL_REPLICA]: String(replica),
      [LABEL_GENERATION]: String(generation),
      [LABEL_MOVABLE]: String(workload.movable),
      'outpost.workload.cpu': String(workload.resources.cpu),
      'outpost.workload.memory': String(workload.resources.memoryBytes),
      [LABEL_SPEC]: specText,
    },
    ports: workload.ports.map((p) => ({ container: p.container, host: p.host, protocol: p.protocol, ip: p.ip })),
    volumes: workload.volumes.map((v) => ({ source: v.source, target: v.target, readOnly: v.readOnly })),
    devices: workload.devices.map((d) => ({ host: d.host, container: d.container, permissions: d.permissions })),
    // A movable workload is never restarted by Docker itself: a node that fences itself stops its
    // copy, and a restart policy would start it again behind the fence (docs/placement.md).
    restart: workload.movable ? { name: 'no', maxRetries: null } : { name: workload.restart.name, maxRetries: workload.restart.maxRetries },
    cpus: workload.resources.cpu,
    memoryBytes: workload.resources.memoryBytes,
  };
}

export interface PlanResult {
  placement: Placement;
  /** Why some node could not be asked (shown beside the table). */
  problems: string[];
  /** Replicas that run already (by replica number), and the numbers still to place. */
  running: PlacedCopy[];
  missing: number[];
  /** Copies of missing replicas that exist but do not run (exited, created): replaced when the replica runs again. */
  stale: PlacedCopy[];
}

/** The decision for a workload across these nodes: replicas already running count, the missing ones are placed. */
export async function planPlacement(nodes: readonly Node[], workload: Workload): Promise<PlanResult> {
  const snaps = await Promise.all(nodes.map((n) => snapshotOf(n, workload)));
  const all = snaps.flatMap((s) => s.copies).filter((c) => c.workload === workload.name);
  const copies = all.filter((c) => c.running);
  const have = new Set(copies.map((c) => c.replica));
  const missing: number[] = [];
  for (let r = 0; r < workload.replicas; r++) if (!have.has(r)) missing.push(r);
  const stale = all.filter((c) => !c.running && missing.includes(c.replica));
  const placement = place(workload, snaps.map((s) => s.snapshot), { count: missing.length });
  return { placement, problems: snaps.flatMap((s) => (s.problem ? [s.problem] : [])), running: copies, missing, stale };
}

export interface RunResult {
  replica: number;
  node: string;
  containerId: string | null;
  error: string | null;
}

/** Runs the planned replicas on their nodes (each through its own Node: an agent, or this engine). */
export async function runPlanned(nodes: readonly Node[], workload: Workload, specText: string, plan: PlanResult, generation = 0): Promise<RunResult[]> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const out: RunResult[] = [];
  for (const [i, nodeName] of plan.placement.chosen.entries()) {
    const replica = plan.missing[i];
    if (replica === undefined) break;
    const node = byName.get(nodeName);
    if (!node) {
      out.push({ replica, node: nodeName, containerId: null, error: `no node ${nodeName}` });
      continue;
    }
    try {
      // An exited copy of this replica gives way (its name would clash, and it is replaced).
      for (const old of plan.stale.filter((c) => c.replica === replica)) await byName.get(old.node)?.remove(old.containerId, { force: true });
      const id = await node.run(runSpecFor(workload, specText, replica, generation));
      out.push({ replica, node: nodeName, containerId: id, error: null });
    } catch (err) {
      out.push({ replica, node: nodeName, containerId: null, error: err instanceof OutpostError || err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

/** Every placed copy on these nodes, with the nodes that could not be asked. */
export async function fleetCopies(nodes: readonly Node[]): Promise<{ copies: PlacedCopy[]; problems: string[] }> {
  const answers = await Promise.all(
    nodes.map(async (n) => {
      try {
        return { copies: placedCopies(n.name, await n.list({ all: true })), problem: null };
      } catch (err) {
        return { copies: [] as PlacedCopy[], problem: `${n.name}: ${err instanceof Error ? err.message : String(err)}` };
      }
    }),
  );
  return { copies: answers.flatMap((a) => a.copies), problems: answers.flatMap((a) => (a.problem ? [a.problem] : [])) };
}

export interface MovePlan {
  copy: PlacedCopy;
  workload: Workload;
  specText: string;
  placement: Placement;
  problems: string[];
}

/**
 * Where a placed copy would go: every other node, judged as for a new replica (the copy's own
 * node is rejected, since the copy leaves it).
 */
export async function planMove(nodes: readonly Node[], containerId: string, from: string): Promise<MovePlan> {
  const source = nodes.find((n) => n.name === from);
  if (!source) throw new BadInputError(`no node ${from}`);
  const row = (await source.list({ all: true })).find((c) => c.id === containerId);
  if (!row) throw new BadInputError(`the container is no longer on ${from}`);
  const copy = placedCopies(from, [row])[0];
  if (!copy) throw new BadInputError(`${row.name} is not a placed workload: only containers that \`outpost place\` ran can be moved`);
  const { workload, problem } = specOf(row);
  if (!workload) throw new BadInputError(`${row.name}: ${problem ?? 'no spec'}`);
  const snaps = await Promise.all(nodes.map((n) => snapshotOf(n, workload)));
  const others = snaps.filter((s) => s.snapshot.name !== from);
  const placement = place(workload, others.map((s) => s.snapshot), { count: 1 });
  placement.verdicts.push({
    node: from,
    fits: false,
    score: 0,
    shown: 0,
    replicas: 1,
    placed: 0,
    reasons: ['the copy leaves this node'],
    rejections: [{ kind: 'source', text: 'the copy leaves this node' }],
    parts: null,
    text: 'rejected: the copy runs here now and leaves it',
  } as Placement['verdicts'][number]);
  return { copy, workload, specText: row.labels[LABEL_SPEC] ?? '', placement, problems: others.flatMap((s) => (s.problem ? [s.problem] : [])) };
}

/**
 * Moves the copy to the planned node. A singleton is stopped before its new copy starts (it never
 * runs twice; if the new one cannot start, the old one is started again); a replica of many
 * starts on the new node first, then the old one goes.
 */
export async function runMove(nodes: readonly Node[], plan: MovePlan): Promise<{ node: string; containerId: string }> {
  const target = plan.placement.chosen[0];
  if (!target) throw new BadInputError(plan.placement.summary ?? 'no node can take it');
  const to = nodes.find((n) => n.name === target);
  const from = nodes.find((n) => n.name === plan.copy.node);
  if (!to || !from) throw new BadInputError(`no node ${to ? plan.copy.node : target}`);
  const spec = runSpecFor(plan.workload, plan.specText, plan.copy.replica, plan.copy.generation + 1);
  if (plan.workload.replicas === 1) {
    await from.stop(plan.copy.containerId);
    try {
      const id = await to.run(spec);
      await from.remove(plan.copy.containerId, { force: true }).catch(() => undefined);
      return { node: target, containerId: id };
    } catch (err) {
      await from.start(plan.copy.containerId).catch(() => undefined);
      throw err;
    }
  }
  const id = await to.run(spec);
  await from.remove(plan.copy.containerId, { force: true });
  return { node: target, containerId: id };
}

/**
 * The nodes with one entry per engine: this machine's engine may also be a peer (a technician's
 * box whose local engine is n2's, with n2 in its peers file). Counted twice it would take two
 * replicas meant for two boxes, and list each container twice. The peer's name is kept (it is
 * the name the fleet shares); `problems` says what was left out.
 */
/** What a node is asked for a plan or a list: answered at once with `err`, its first failure. */
const ASKED = new Set<PropertyKey>(['info', 'list', 'inspect', 'resolve', 'host', 'images', 'devices', 'statsOnce', 'run']);

/** The node, whose requests fail at once with the error it already gave (it is not waited for twice). */
function answersWith(node: Node, err: unknown): Node {
  return new Proxy(node, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (ASKED.has(prop)) return () => Promise.reject(err);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export async function distinctNodes(nodes: readonly Node[]): Promise<{ nodes: Node[]; problems: string[]; alias: Map<string, string> }> {
  // The engine's ID, its host's name and where it is reached there: private engines on one host
  // differ by socket; a machine's engine reached directly and through its agent matches in all three.
  const failed = new Map<number, unknown>();
  const ids = await Promise.all(
    nodes.map((n, i) =>
      n.info().then(
        (info) => (typeof info.engineId === 'string' && info.engineId !== '' ? `${info.engineId}\0${info.hostname}\0${info.endpoint}` : null),
        (err: unknown) => {
          failed.set(i, err);
          return null;
        },
      ),
    ),
  );
  const order = nodes.map((_, i) => i).sort((a, b) => Number(nodes[a]?.isThisMachine === true) - Number(nodes[b]?.isThisMachine === true) || a - b);
  const seen = new Map<string, string>();
  const dropped = new Set<number>();
  const problems: string[] = [];
  const alias = new Map<string, string>();
  for (const i of order) {
    const id = ids[i];
    const name = nodes[i]?.name ?? '';
    if (!id) continue;
    const first = seen.get(id);
    if (first !== undefined) {
      dropped.add(i);
      alias.set(name, first);
      problems.push(`${name} is the same Docker engine as ${first}: counted once, as ${first} (if they are two machines, one was cloned with the other's engine ID and host name: give it its own)`);
    } else seen.set(id, name);
  }
  // A node that did not answer (a peer that drops packets costs its whole deadline) is not asked
  // again by what follows (the plan's snapshot): it stands as unreachable, with the reason it gave.
  const out = nodes.map((n, i) => (failed.has(i) ? answersWith(n, failed.get(i)) : n));
  return { nodes: out.filter((_, i) => !dropped.has(i)), problems, alias };
}
