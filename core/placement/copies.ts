/**
 * Placed workloads as their containers' labels say: shared by every face (the CLI, the agent's
 * failover, the tray's dashboard), without the spec parser or the engine.
 */
import type { ContainerSummary } from '../model/types.js';

export const LABEL_WORKLOAD = 'outpost.workload';
export const LABEL_REPLICA = 'outpost.workload.replica';
export const LABEL_GENERATION = 'outpost.workload.generation';
export const LABEL_SPEC = 'outpost.workload.spec';
export const LABEL_MOVABLE = 'outpost.workload.movable';
/** The largest spec text a container label carries (a workload file is small; this keeps labels sane). */
export const MAX_SPEC_LABEL_BYTES = 32 * 1024;

/** A placed workload's container, as its labels say. */
export interface PlacedCopy {
  workload: string;
  replica: number;
  generation: number;
  node: string;
  containerId: string;
  containerName: string;
  movable: boolean;
  running: boolean;
  state: string;
  /** When the container was created (engine clock, ms). */
  createdAt: number;
  startedAt: number | null;
  cpu: number;
  memoryBytes: number;
}

/** The placed copies among a node's containers (any container without the labels is not one). */
export function placedCopies(node: string, containers: readonly ContainerSummary[]): PlacedCopy[] {
  const out: PlacedCopy[] = [];
  for (const c of containers) {
    const name = c.labels[LABEL_WORKLOAD];
    if (typeof name !== 'string' || name === '') continue;
    const replica = Number(c.labels[LABEL_REPLICA]);
    const generation = Number(c.labels[LABEL_GENERATION] ?? '0');
    const res = resourcesOf(c.labels);
    out.push({
      workload: name,
      replica: Number.isInteger(replica) && replica >= 0 ? replica : 0,
      generation: Number.isInteger(generation) && generation >= 0 ? generation : 0,
      node,
      containerId: c.id,
      containerName: c.name,
      movable: c.labels[LABEL_MOVABLE] === 'true',
      running: c.state === 'running' || c.state === 'restarting' || c.state === 'paused',
      state: c.state,
      createdAt: c.created,
      startedAt: c.startedAt,
      cpu: res.cpu,
      memoryBytes: res.memoryBytes,
    });
  }
  return out;
}

function resourcesOf(labels: Record<string, string>): { cpu: number; memoryBytes: number } {
  const cpu = Number(labels['outpost.workload.cpu'] ?? '0');
  const mem = Number(labels['outpost.workload.memory'] ?? '0');
  return { cpu: Number.isFinite(cpu) && cpu > 0 ? cpu : 0, memoryBytes: Number.isFinite(mem) && mem > 0 ? mem : 0 };
}

