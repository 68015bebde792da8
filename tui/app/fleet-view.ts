import type { Fleet } from '../../core/fleet.js';
import type { ContainerStats, ContainerSummary, Disposer, HostMetrics, NodeStatus } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { History } from '../presentation/sparkline.js';

/** Samples of history kept per container and per host (at the stats interval). */
export const HISTORY = 60;

export interface NodeView {
  name: string;
  status: NodeStatus;
  containers: ContainerSummary[];
  host: HostMetrics | null;
  /** False for an engine-only peer: it has no host figures to wait for. */
  reportsHost: boolean;
  hostCpu: readonly number[];
  hostMem: readonly number[];
}

/** An immutable picture of the fleet for one render. */
export interface FleetSnapshot {
  version: number;
  nodes: NodeView[];
  stats: ReadonlyMap<string, ContainerStats>;
  cpuHistory: ReadonlyMap<string, readonly number[]>;
  memHistory: ReadonlyMap<string, readonly number[]>;
}

export interface FleetViewOptions {
  statsIntervalMs: number;
  hostIntervalMs: number;
}

/**
 * Everything the TUI shows, kept up to date by the nodes' subscriptions
 * (model changes, stats and host samples) and handed to React as snapshots.
 * No polling of its own: it only listens.
 */
export class FleetView {
  #snapshot: FleetSnapshot;
  #listeners = new Set<() => void>();
  #disposers: Disposer[] = [];
  /** Each node's stats and host samplers (restarted when the intervals change). */
  #samplers = new Map<string, Disposer[]>();
  #containers = new Map<string, ContainerSummary[]>();
  #statuses = new Map<string, NodeStatus>();
  #hosts = new Map<string, { last: HostMetrics | null; cpu: History; mem: History }>();
  #stats = new Map<string, ContainerStats>();
  #cpu = new Map<string, History>();
  #mem = new Map<string, History>();
  #version = 0;

  constructor(
    private readonly fleet: Fleet,
    private options: FleetViewOptions,
  ) {
    this.#snapshot = this.#build();
  }

  #sampling = new Set<string>();
  #timers = new Set<NodeJS.Timeout>();

  /**
   * Subscribes to every node, and to each node added later (the Fleet's
   * subscriptions are live); a removed node's subscriptions and data go with
   * it. Call once; `close()` undoes it. A node's samplers start a moment
   * after its first container list, so the first frame with containers is
   * not queued behind stats and host probes.
   */
  start(): void {
    this.#disposers.push(this.fleet.each((node) => this.#follow(node)));
    this.#disposers.push(this.fleet.onNodesChanged(() => this.#changed()));
  }

  /** New refresh intervals (preferences load after the first frame); restarts the samplers. */
  setIntervals(options: FleetViewOptions): void {
    if (options.statsIntervalMs === this.options.statsIntervalMs && options.hostIntervalMs === this.options.hostIntervalMs) return;
    this.options = options;
    this.#stopSamplers();
    for (const node of this.fleet.nodes()) if (this.#sampling.has(node.name)) this.#sample(node);
  }

  #stopSamplers(name?: string): void {
    for (const [n, ds] of this.#samplers) {
      if (name !== undefined && n !== name) continue;
      for (const d of ds) d();
      this.#samplers.delete(n);
    }
  }

  /** Follows one node; the disposer lets go of it and forgets what it showed. */
  #follow(node: Node): Disposer {
    this.#statuses.set(node.name, node.status());
    this.#hosts.set(node.name, { last: null, cpu: new History(HISTORY), mem: new History(HISTORY) });
    let timer: NodeJS.Timeout | null = null;
    const subs: Disposer[] = [];
    subs.push(
      node.onStatus((s) => {
        this.#statuses.set(node.name, s);
        this.#changed();
      }),
      node.watch(() => {
        const containers = node.containers();
        this.#containers.set(node.name, containers);
        // A container that stopped has no CPU or memory now: its last sample goes at once, not
        // with the next round of samples (seconds later).
        for (const c of containers) if (c.state !== 'running' && c.state !== 'paused') this.#stats.delete(c.id);
        if (this.#stats.size > 0) {
          const known = new Set([...this.#containers.values()].flat().map((c) => c.id));
          for (const id of this.#stats.keys()) if (!known.has(id)) this.#stats.delete(id);
        }
        this.#changed();
        if (!this.#sampling.has(node.name)) {
          this.#sampling.add(node.name);
          const t = setTimeout(() => {
            this.#timers.delete(t);
            timer = null;
            this.#sample(node);
          }, 300);
          timer = t;
          this.#timers.add(t);
        }
      }),
    );
    return () => {
      for (const d of subs) d();
      if (timer) {
        clearTimeout(timer);
        this.#timers.delete(timer);
      }
      this.#stopSamplers(node.name);
      this.#sampling.delete(node.name);
      for (const c of this.#containers.get(node.name) ?? []) {
        this.#stats.delete(c.id);
        this.#cpu.delete(c.id);
        this.#mem.delete(c.id);
      }
      this.#containers.delete(node.name);
      this.#statuses.delete(node.name);
      this.#hosts.delete(node.name);
    };
  }

  #sample(node: Node): void {
    this.#stopSamplers(node.name);
    this.#samplers.set(node.name, [
      node.watchStats(
        (stats) => {
          const live = new Set<string>();
          // A sample taken just before a container stopped can arrive after the stop: not shown.
          const states = new Map((this.#containers.get(node.name) ?? []).map((c) => [c.id, c.state]));
          for (const s of stats) {
            const state = states.get(s.id);
            if (state !== undefined && state !== 'running' && state !== 'paused') continue;
            live.add(s.id);
            this.#stats.set(s.id, s);
            // A first sample has no CPU figure: the history starts at the second.
            if (s.cpuPercent !== null) historyFor(this.#cpu, s.id).push(s.cpuPercent);
            historyFor(this.#mem, s.id).push(s.memoryBytes);
          }
          for (const c of this.#containers.get(node.name) ?? []) {
            if (!live.has(c.id)) {
              this.#stats.delete(c.id);
            }
          }
          // Forget histories of containers that are gone from every node.
          const known = new Set([...this.#containers.values()].flat().map((c) => c.id));
          for (const map of [this.#cpu, this.#mem]) for (const id of map.keys()) if (!known.has(id)) map.delete(id);
          this.#changed('sample');
        },
        { intervalMs: this.options.statsIntervalMs },
      ),
      node.watchHost(
        (h) => {
          const entry = this.#hosts.get(node.name);
          if (!entry) return;
          entry.last = h;
          if (h.cpuPercent !== null) entry.cpu.push(h.cpuPercent);
          entry.mem.push(h.memUsedPercent);
          this.#changed('sample');
        },
        { intervalMs: this.options.hostIntervalMs },
      ),
    ]);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): FleetSnapshot => this.#snapshot;

  close(): void {
    if (this.#flush) clearTimeout(this.#flush);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const d of this.#disposers.splice(0)) d();
    this.#stopSamplers();
    this.#listeners.clear();
  }

  #flush: NodeJS.Timeout | null = null;

  /**
   * Model changes (a container started, died) are shown at once; samples
   * are gathered for a moment so the stats and host samples of one round
   * make one frame, not two.
   */
  #changed(kind: 'model' | 'sample' = 'model'): void {
    if (kind === 'sample') {
      if (this.#flush) return;
      this.#flush = setTimeout(() => {
        this.#flush = null;
        this.#emit();
      }, 200);
      return;
    }
    if (this.#flush) {
      clearTimeout(this.#flush);
      this.#flush = null;
    }
    this.#emit();
  }

  #emit(): void {
    this.#snapshot = this.#build();
    for (const l of [...this.#listeners]) l();
  }

  #build(): FleetSnapshot {
    const nodes: NodeView[] = this.fleet.nodes().map((n) => {
      const host = this.#hosts.get(n.name);
      return {
        name: n.name,
        status: this.#statuses.get(n.name) ?? n.status(),
        containers: this.#containers.get(n.name) ?? [],
        host: host?.last ?? null,
        reportsHost: n.reportsHost,
        hostCpu: [...(host?.cpu.values() ?? [])],
        hostMem: [...(host?.mem.values() ?? [])],
      };
    });
    const cpuHistory = new Map<string, readonly number[]>();
    for (const [id, h] of this.#cpu) cpuHistory.set(id, h.values());
    const memHistory = new Map<string, readonly number[]>();
    for (const [id, h] of this.#mem) memHistory.set(id, h.values());
    return { version: ++this.#version, nodes, stats: new Map(this.#stats), cpuHistory, memHistory };
  }
}

function historyFor(map: Map<string, History>, id: string): History {
  let h = map.get(id);
  if (!h) {
    h = new History(HISTORY);
    map.set(id, h);
  }
  return h;
}
