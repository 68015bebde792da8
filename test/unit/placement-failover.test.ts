import { describe, expect, it } from 'vitest';
import {
  clearFence,
  compareCopies,
  DEFAULT_FAILOVER,
  hasMajority,
  initialFailoverState,
  isFenced,
  modeOf,
  parseFailoverSettings,
  RECONCILE_MODES,
  step,
  viewOf,
  whoDecides,
  type Decision,
  type FailoverInput,
  type FailoverSettings,
  type FailoverState,
  type PeerView,
  type PlacedCopy,
  type ReconcileMode,
} from '../../core/placement/failover.js';
import { parseWorkload, type Workload } from '../../core/placement/index.js';

const S = 1000;
const M = 60 * S;

function settings(voters: string[], over: Partial<FailoverSettings> = {}): FailoverSettings {
  return { ...DEFAULT_FAILOVER, voters: [...voters].sort(), ...over };
}

function workload(name: string, replicas = 1, movable = true): Workload {
  const { workload: w, issues } = parseWorkload(`name: ${name}\nimage: nginx:1.27\nreplicas: ${replicas}\nmovable: ${movable}\nrestart: "no"\n`, 'w.yaml');
  if (!w) throw new Error(JSON.stringify(issues));
  return w;
}

function copy(over: Partial<PlacedCopy> & { node: string }): PlacedCopy {
  return { workload: 'web', replica: 0, containerId: `web-0-${over.node}`, movable: true, singleton: true, running: true, createdAt: 1_700_000_000_000, generation: 0, ...over };
}

const kinds = (ds: Decision[], kind: Decision['kind']) => ds.filter((d) => d.kind === kind);
const texts = (ds: Decision[]) => ds.map((d) => (d.kind === 'journal' ? d.text : d.reason));

// ---------------------------------------------------------------------------
// A fleet simulator: each node has its own monotonic clock (an offset from
// real time), its own view of the others (an exchange within the detection
// timeout), and hears the others' views with their heartbeats. Real time
// advances in 100 ms ticks; each node steps every second at its own phase.

interface SimNode {
  name: string;
  /** mono = real + offset: each node's clock starts anywhere. */
  offset: number;
  /** The agent runs (steps, answers); its containers run on without it. */
  agentUp: boolean;
  /** Runs no workloads (a voter only). */
  voterOnly: boolean;
  state: FailoverState | null;
  lastContact: Record<string, number>;
  views: Record<string, { view: PeerView; atMono: number }>;
  journal: string[];
  decisions: { t: number; d: Decision }[];
}

interface SimOptions {
  offsets?: Record<string, number>;
  voterOnly?: string[];
  stepMs?: number;
  heartbeatMs?: number;
  detectMs?: number;
  startMs?: number;
  stopMs?: number;
}

class Sim {
  t = 0;
  readonly nodes: Record<string, SimNode> = {};
  readonly containers: PlacedCopy[] = [];
  readonly workloads: Record<string, Workload> = {};
  /** Links that are down, as "a|b" with a < b. */
  readonly down = new Set<string>();
  /** Times (real ms) at which some singleton had two running copies. */
  readonly doubles: { t: number; key: string; nodes: string[] }[] = [];
  private events: { at: number; run: () => void }[] = [];
  private seq = 0;
  readonly stepMs: number;
  readonly heartbeatMs: number;
  readonly detectMs: number;
  readonly startMs: number;
  readonly stopMs: number;

  constructor(
    names: string[],
    readonly settings: FailoverSettings,
    opts: SimOptions = {},
  ) {
    this.stepMs = opts.stepMs ?? 1000;
    this.heartbeatMs = opts.heartbeatMs ?? 1500;
    this.detectMs = opts.detectMs ?? 4500;
    this.startMs = opts.startMs ?? 2000;
    this.stopMs = opts.stopMs ?? 2000;
    for (const name of names) {
      this.nodes[name] = {
        name, offset: opts.offsets?.[name] ?? 0, agentUp: true, voterOnly: opts.voterOnly?.includes(name) ?? false, state: null,
        lastContact: Object.fromEntries(names.map((n) => [n, 0])), views: {}, journal: [], decisions: [],
      };
    }
  }

  mono(n: string): number {
    return this.t + (this.nodes[n] as SimNode).offset;
  }

  run(w: Workload, node: string, over: Partial<PlacedCopy> = {}): PlacedCopy {
    this.workloads[w.name] = w;
    const c = copy({ workload: w.name, node, singleton: w.replicas === 1, movable: w.movable, createdAt: 1_700_000_000_000 + this.t, containerId: `${w.name}-${this.seq++}@${node}`, ...over });
    this.containers.push(c);
    return c;
  }

  linkUp(a: string, b: string): boolean {
    return !this.down.has(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  cut(a: string, b: string): void {
    this.down.add(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  heal(a: string, b: string): void {
    this.down.delete(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  isolate(x: string): void {
    for (const n of Object.keys(this.nodes)) if (n !== x) this.cut(x, n);
  }

  healAll(): void {
    this.down.clear();
  }

  reachable(from: string): Record<string, boolean> {
    const me = this.nodes[from] as SimNode;
    return Object.fromEntries(Object.keys(this.nodes).filter((n) => n !== from).map((n) => [n, this.t - (me.lastContact[n] ?? -Infinity) <= this.detectMs]));
  }

  private later(ms: number, run: () => void): void {
    this.events.push({ at: this.t + ms, run });
  }

  private input(name: string): FailoverInput {
    const me = this.nodes[name] as SimNode;
    const reachable = this.reachable(name);
    const mono = this.mono(name);
    const views: FailoverInput['views'] = {};
    for (const [p, v] of Object.entries(me.views)) if (reachable[p]) views[p] = { view: v.view, receivedAgoMs: mono - v.atMono };
    // A peer's list comes from its agent: nothing is heard from a node whose agent is down.
    const seen = this.containers.filter((c) => c.node === name || (reachable[c.node] && (this.nodes[c.node] as SimNode).agentUp)).map((c) => ({ ...c, fenced: this.fencedOn(c) }));
    const listed = [name, ...Object.keys(reachable).filter((n) => reachable[n] && (this.nodes[n] as SimNode).agentUp)];
    return { self: name, monoNowMs: mono, reachable, views, copies: seen, listed, workloads: this.workloads };
  }

  private fencedOn(c: PlacedCopy): boolean {
    const st = (this.nodes[c.node] as SimNode).state;
    return st !== null && isFenced(st, c.containerId);
  }

  private apply(me: SimNode, d: Decision): void {
    me.decisions.push({ t: this.t, d });
    me.journal.push(d.kind === 'journal' ? d.text : d.reason);
    const reach = this.reachable(me.name);
    switch (d.kind) {
      case 'journal':
        return;
      case 'fence':
      case 'stop-duplicate': {
        const c = this.containers.find((x) => x.containerId === d.containerId);
        const node = d.kind === 'fence' ? me.name : d.node;
        if (c && (node === me.name || reach[node])) this.later(this.stopMs, () => (c.running = false));
        return;
      }
      case 'unfence': {
        const target = this.nodes[d.node] as SimNode;
        const c = this.containers.find((x) => x.containerId === d.containerId);
        if (!c || !reach[d.node] || !target.state) return;
        target.state = clearFence(target.state, d.containerId);
        this.later(this.startMs, () => (c.running = true));
        return;
      }
      case 'replace': {
        // The caller's placement: the reachable workload node with the fewest containers, then by name.
        const targets = Object.values(this.nodes)
          .filter((n) => !n.voterOnly && !d.avoid.includes(n.name) && (n.name === me.name || reach[n.name]))
          .sort((a, b) => this.containers.filter((c) => c.node === a.name && c.running).length - this.containers.filter((c) => c.node === b.name && c.running).length || (a.name < b.name ? -1 : 1));
        const target = targets[0];
        if (!target) return;
        const c = this.run(this.workloads[d.workload] as Workload, target.name, { replica: d.replica, generation: d.generation, running: false });
        this.later(this.startMs, () => (c.running = true));
        return;
      }
    }
  }

  /** Advances real time to `until`, 100 ms at a time, checking after each tick that no singleton runs twice. */
  advance(ms: number): void {
    const until = this.t + ms;
    while (this.t < until) {
      this.t += 100;
      const due = this.events.filter((e) => e.at <= this.t);
      this.events = this.events.filter((e) => e.at > this.t);
      for (const e of due) e.run();
      const names = Object.keys(this.nodes);
      if (this.t % this.heartbeatMs === 0) {
        for (const a of names) {
          for (const b of names) {
            const na = this.nodes[a] as SimNode;
            const nb = this.nodes[b] as SimNode;
            if (a >= b || !this.linkUp(a, b) || !na.agentUp || !nb.agentUp) continue;
            na.lastContact[b] = this.t;
            nb.lastContact[a] = this.t;
            if (nb.state) na.views[b] = { view: viewOf(nb.state, this.mono(b)), atMono: this.mono(a) };
            if (na.state) nb.views[a] = { view: viewOf(na.state, this.mono(a)), atMono: this.mono(b) };
          }
        }
      }
      names.forEach((name, i) => {
        const me = this.nodes[name] as SimNode;
        if (!me.agentUp || (this.t + i * 300) % this.stepMs !== 0) return;
        // Through JSON every time: the state must survive being persisted.
        const prev = me.state === null ? null : (JSON.parse(JSON.stringify(me.state)) as FailoverState);
        const { state, decisions } = step(prev, this.input(name), this.settings);
        me.state = state;
        for (const d of decisions) this.apply(me, d);
      });
      const byKey = new Map<string, string[]>();
      for (const c of this.containers) if (c.running && c.singleton) byKey.set(`${c.workload}#${c.replica}`, [...(byKey.get(`${c.workload}#${c.replica}`) ?? []), c.node]);
      for (const [key, nodes] of byKey) if (nodes.length > 1) this.doubles.push({ t: this.t, key, nodes });
    }
  }

  all(kind: Decision['kind']): { node: string; t: number; d: Decision }[] {
    return Object.values(this.nodes).flatMap((n) => n.decisions.filter((x) => x.d.kind === kind).map((x) => ({ node: n.name, ...x })));
  }

  running(workload: string): string[] {
    return this.containers.filter((c) => c.workload === workload && c.running).map((c) => c.node);
  }
}

// ---------------------------------------------------------------------------

describe('hasMajority, whoDecides, modeOf', () => {
  const three = ['a', 'b', 'c'];
  it.each<{ voters: string[]; reachable: Record<string, boolean>; majority: boolean }>([
    { voters: three, reachable: { a: true, b: true, c: true }, majority: true },
    { voters: three, reachable: { a: true, b: true }, majority: true },
    { voters: three, reachable: { a: true }, majority: false },
    { voters: ['a', 'b'], reachable: { a: true }, majority: false },
    { voters: ['a', 'b', 'c', 'd'], reachable: { a: true, b: true }, majority: false },
    { voters: ['a', 'b', 'c', 'd'], reachable: { a: true, b: true, c: true }, majority: true },
    { voters: ['a'], reachable: { a: true }, majority: true },
  ])('$voters.length voters, reachable $reachable → majority $majority', ({ voters, reachable, majority }) => {
    expect(hasMajority(voters, reachable)).toBe(majority);
  });

  it('the decider is the lowest reachable voter, and none without a majority', () => {
    expect(whoDecides('b', three, { c: true })).toBe('b');
    expect(whoDecides('c', three, { a: true, b: true })).toBe('a');
    expect(whoDecides('a', three, {})).toBeNull();
  });

  it('an unreachable lower voter that is not yet lost keeps the role (both ends of one broken link do not both decide)', () => {
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(whoDecides('b', five, { c: true, d: true }, ['a'])).toBe('a');
    expect(whoDecides('b', five, { c: true, d: true }, [])).toBe('b');
  });

  it.each<{ self: string; voters: string[]; reachable: Record<string, boolean>; mode: string }>([
    { self: 'a', voters: three, reachable: {}, mode: 'cut-off' },
    { self: 'a', voters: three, reachable: { b: true }, mode: 'majority' },
    { self: 'a', voters: ['a', 'b'], reachable: {}, mode: 'minority' },
    { self: 'a', voters: ['a', 'b', 'c', 'd'], reachable: { b: true }, mode: 'minority' },
    { self: 'a', voters: ['a', 'b', 'c', 'd', 'e'], reachable: { b: true }, mode: 'cut-off' },
  ])('$self with $reachable of $voters is $mode', ({ self, voters, reachable, mode }) => {
    expect(modeOf(self, voters, reachable)).toBe(mode);
  });
});

describe('parseFailoverSettings', () => {
  const fleet = ['gw-1', 'gw-2'];
  it('gives the defaults, and the voters as the fleet plus voter-only names', () => {
    const { settings: s, issues } = parseFailoverSettings({ voters: ['witness'] }, 'fleet.yaml', fleet);
    expect(issues).toEqual([]);
    expect(s).toEqual({ ...DEFAULT_FAILOVER, lostAfterMs: 5 * M, stopAfterMs: 4 * M, reconcile: 'keep_replacement', voters: ['gw-1', 'gw-2', 'witness'] });
    expect(parseFailoverSettings(undefined, 'fleet.yaml', fleet).settings?.voters).toEqual(fleet);
  });

  it('takes durations and a mode; stop_after follows a lost_after given alone', () => {
    expect(parseFailoverSettings({ lost_after: '2m', stop_after: '90s', reconcile: 'best_score' }, 'f', fleet).settings).toMatchObject({ lostAfterMs: 2 * M, stopAfterMs: 90 * S, reconcile: 'best_score' });
    expect(parseFailoverSettings({ lost_after: '1m' }, 'f', fleet).settings).toMatchObject({ lostAfterMs: M, stopAfterMs: 30 * S });
    expect(parseFailoverSettings({ lost_after: '40s' }, 'f', fleet).settings).toMatchObject({ lostAfterMs: 40 * S, stopAfterMs: 10 * S });
    expect(parseFailoverSettings({ lost_after: '1h' }, 'f', fleet).settings).toMatchObject({ stopAfterMs: 48 * M });
  });

  it.each([
    { value: { lost_after: '5m', stop_after: '5m' }, field: 'stop_after', says: 'stop_after 5m must be at least 30s shorter than lost_after 5m' },
    { value: { lost_after: '5m', stop_after: '6m' }, field: 'stop_after', says: 'use stop_after 4m30s or less' },
    { value: { lost_after: '5m', stop_after: '4m31s' }, field: 'stop_after', says: 'at least 30s shorter' },
    { value: { stop_after: '-1m' }, field: 'stop_after', says: 'expected stop_after as a duration' },
    { value: { stop_after: '2s' }, field: 'stop_after', says: 'expected stop_after of at least 10s' },
    { value: { lost_after: '20s' }, field: 'lost_after', says: 'expected lost_after of at least 40s' },
    { value: { lost_after: '99999d' }, field: 'lost_after', says: 'at most 10 years' },
    { value: { lost_after: 300 }, field: 'lost_after', says: 'got number 300' },
    { value: { lost_after: true }, field: 'lost_after', says: 'expected lost_after as a duration' },
    { value: { reconcile: 'newest' }, field: 'reconcile', says: 'expected one of keep_original, keep_replacement, best_score, longest_running, got "newest"' },
    { value: { voters: 'witness' }, field: 'voters', says: 'expected a list of node names' },
    { value: { voters: ['ok', 'Bad Name'] }, field: 'voters.1', says: 'expected a node name' },
    { value: { lost_afer: '5m' }, field: 'lost_afer', says: 'unknown key `lost_afer` (did you mean `lost_after`?)' },
    { value: ['lost_after'], field: '(failover)', says: 'expected a mapping' },
  ])('refuses $value at $field', ({ value, field, says }) => {
    const { settings: s, issues } = parseFailoverSettings(value, 'fleet.yaml', fleet);
    expect(s).toBeNull();
    expect(issues.map((i) => i.field)).toContain(field);
    expect(issues.find((i) => i.field === field)?.message).toContain(says);
    expect(issues.every((i) => i.file === 'fleet.yaml')).toBe(true);
  });

  it('reports every problem at once', () => {
    const { issues } = parseFailoverSettings({ lost_after: 'soon', reconcile: 1, extra: 2 }, 'f', fleet);
    expect(issues.map((i) => i.field).sort()).toEqual(['extra', 'lost_after', 'reconcile']);
  });
});

describe('step: one node, a fake clock', () => {
  const voters = ['a', 'b', 'c'];
  const set = settings(voters);
  const web = { web: workload('web') };
  /** Runs node `self` from t0 to t1 (ms, 1 s steps) with fixed inputs; returns the decisions with their times. */
  function drive(state: FailoverState | null, t0: number, t1: number, input: (t: number) => Omit<FailoverInput, 'monoNowMs'>, s = set) {
    const out: { t: number; d: Decision }[] = [];
    let st = state;
    for (let t = t0; t <= t1; t += S) {
      const r = step(st, { ...input(t), monoNowMs: t }, s);
      st = r.state;
      for (const d of r.decisions) out.push({ t, d });
    }
    return { state: st as FailoverState, out };
  }

  it('re-places a lost node\'s movable singleton at lost_after, not before, and only once', () => {
    const copies = [copy({ node: 'c' })];
    // Until t = 10 s everyone is reachable; then c is silent, and b agrees from its own view.
    const { state, out } = drive(null, 0, 10 * S, () => ({ self: 'a', reachable: { b: true, c: true }, copies, workloads: web }));
    expect(out.filter((x) => x.d.kind !== 'journal')).toEqual([]);
    const bView = (t: number): PeerView => ({ heardAgoMs: { a: 0, b: 0, c: Math.max(0, t - 10 * S) } });
    const later = drive(state, 11 * S, 10 * S + 6 * M, (t) => ({ self: 'a', reachable: { b: true }, views: { b: { view: bView(t), receivedAgoMs: 500 } }, copies: [], workloads: web }));
    const replaces = later.out.filter((x) => x.d.kind === 'replace');
    expect(replaces).toHaveLength(1);
    expect(replaces[0]?.t).toBe(10 * S + 5 * M);
    expect(replaces[0]?.d).toMatchObject({ workload: 'web', replica: 0, lostNode: 'c', generation: 1, avoid: ['c'] });
    expect(texts([replaces[0]!.d])[0]).toBe('c unreachable for 5m 0s (lost_after 5m) and 2 of 3 voters agree: re-placing web on another node (generation 1)');
    expect(later.out.some((x) => x.d.kind === 'journal' && x.d.text.startsWith('c lost: unreachable for 5m 0s (lost_after 5m) and 2 of 3 voters agree (a, b)'))).toBe(true);
  });

  it('does not re-place without the peers agreeing: a stale or missing view, or a peer that still hears the node', () => {
    const copies = [copy({ node: 'c' })];
    const { state } = drive(null, 0, 0, () => ({ self: 'a', reachable: { b: true, c: true }, copies, workloads: web }));
    const cases: FailoverInput['views'][] = [
      undefined,
      { b: { view: { heardAgoMs: { c: 10 * M } }, receivedAgoMs: 7 * S } }, // older than viewMaxAge
      { b: { view: { heardAgoMs: { c: 1 * S } }, receivedAgoMs: 0 } }, // b still hears c
    ];
    for (const views of cases) {
      const { out } = drive(state, S, 8 * M, () => ({ self: 'a', reachable: { b: true }, views, copies: [], workloads: web }));
      expect(kinds(out.map((x) => x.d), 'replace')).toEqual([]);
      expect(out.some((x) => x.d.kind === 'journal' && /c unreachable for 5m \d+s \(lost_after 5m\) but only 1 of 3 voters agree \(a\), no majority: nothing is re-placed/.test(x.d.text))).toBe(true);
    }
  });

  it('a node that counts other voters is not agreed with, and nothing is decided for the fleet until the lists agree', () => {
    const copies = [copy({ node: 'c' })];
    const s = settings(['a', 'b', 'c']);
    const { state } = drive(null, 0, 0, () => ({ self: 'a', reachable: { b: true, c: true }, copies, workloads: web }));
    const views = (voters: string[]) => ({ b: { view: { heardAgoMs: { c: 10 * M }, voters }, receivedAgoMs: 0 } });
    const other = drive(state, S, 8 * M, () => ({ self: 'a', reachable: { b: true }, views: views(['a', 'b', 'c', 'd']), copies: [], workloads: web }), s);
    expect(kinds(other.out.map((x) => x.d), 'replace')).toEqual([]);
    expect(other.out.filter((x) => x.d.kind === 'journal' && /^b count other voters than a \(a, b, c\): nothing is re-placed/.test(x.d.text))).toHaveLength(1);
    const same = drive(state, S, 6 * M, () => ({ self: 'a', reachable: { b: true }, views: views(['c', 'b', 'a']), copies: [], workloads: web }), s);
    expect(kinds(same.out.map((x) => x.d), 'replace')).toHaveLength(1);
  });

  it('counts a replacement in flight: decided once, again only when it is not seen after replace_timeout', () => {
    const copies = [copy({ node: 'c' })];
    const lostView = { b: { view: { heardAgoMs: { c: 10 * M } }, receivedAgoMs: 0 } };
    const { state } = drive(null, 0, 0, () => ({ self: 'a', reachable: { b: true, c: true }, copies, workloads: web }));
    const first = drive(state, 5 * M, 5 * M + 30 * S, () => ({ self: 'a', reachable: { b: true }, views: lostView, copies: [], workloads: web }));
    expect(kinds(first.out.map((x) => x.d), 'replace')).toHaveLength(1);
    // The replacement shows up starting (not running yet): still nothing new.
    const starting = copy({ node: 'b', generation: 1, running: false, containerId: 'web-1-b' });
    const seen = drive(first.state, 5 * M + 31 * S, 5 * M + 10 * M, () => ({ self: 'a', reachable: { b: true }, views: lostView, copies: [starting], workloads: web }));
    expect(kinds(seen.out.map((x) => x.d), 'replace')).toEqual([]);
    // Never seen: after replace_timeout (2m) it is decided again, with the next generation.
    const unseen = drive(first.state, 5 * M + 31 * S, 5 * M + 3 * M, () => ({ self: 'a', reachable: { b: true }, views: lostView, copies: [], workloads: web }));
    const again = unseen.out.filter((x) => x.d.kind === 'replace');
    expect(again.map((x) => x.t)).toEqual([7 * M]);
    expect(again[0]?.d).toMatchObject({ generation: 2 });
    expect(unseen.out.some((x) => x.d.kind === 'journal' && x.d.text.includes('replacement generation 1 of web replica index 0 not seen after 2m 0s'))).toBe(true);
  });

  it('leaves workloads that are not movable, and copies that were stopped, where they are', () => {
    const fixed = { db: workload('db', 1, false), web: workload('web') };
    const copies = [copy({ node: 'c', workload: 'db', movable: false, containerId: 'db-c' }), copy({ node: 'c', running: false })];
    const { state } = drive(null, 0, 0, () => ({ self: 'a', reachable: { b: true, c: true }, copies, workloads: fixed }));
    const { out } = drive(state, S, 7 * M, () => ({ self: 'a', reachable: { b: true }, views: { b: { view: { heardAgoMs: { c: 10 * M } }, receivedAgoMs: 0 } }, copies: [], workloads: fixed }));
    expect(kinds(out.map((x) => x.d), 'replace')).toEqual([]);
    expect(out.some((x) => x.d.kind === 'journal' && x.d.text === 'db on lost c is not movable: it is not re-placed')).toBe(true);
  });

  it('fences its own running movable singletons after stop_after cut off, not before, and only those', () => {
    const mine = [
      copy({ node: 'c', containerId: 'web-c' }),
      copy({ node: 'c', workload: 'api', replica: 1, singleton: false, containerId: 'api-1-c' }),
      copy({ node: 'c', workload: 'db', movable: false, containerId: 'db-c' }),
    ];
    const wl = { web: workload('web'), api: workload('api', 2), db: workload('db', 1, false) };
    const { state } = drive(null, 0, 10 * S, () => ({ self: 'c', reachable: { a: true, b: true }, copies: mine, workloads: wl }));
    const { state: after, out } = drive(state, 11 * S, 10 * S + 5 * M, () => ({ self: 'c', reachable: {}, copies: mine, workloads: wl }));
    const fences = out.filter((x) => x.d.kind === 'fence');
    expect(fences.map((x) => [x.t, (x.d as { containerId: string }).containerId])).toContainEqual([10 * S + 4 * M, 'web-c']);
    expect(fences.every((x) => (x.d as { containerId: string }).containerId === 'web-c')).toBe(true);
    expect(isFenced(after, 'web-c')).toBe(true);
    expect(texts([fences[0]!.d])[0]).toMatch(/^c cut off from a majority for 4m 0s \(stop_after 4m; 2 of 3 voters unreachable: a, b\): stopping web/);
    expect(out[0]?.d).toEqual({ kind: 'journal', text: expect.stringMatching(/^cut off from a majority: 2 of 3 voters unreachable \(a, b\)/) });
    expect(kinds(out.map((x) => x.d), 'replace')).toEqual([]);
  });

  it('the cut-off timer restarts with any contact with a majority', () => {
    const mine = [copy({ node: 'c' })];
    const { state } = drive(null, 0, 3 * M, () => ({ self: 'c', reachable: {}, copies: mine, workloads: web }));
    const { state: st2, out } = drive(state, 3 * M + S, 3 * M + S, () => ({ self: 'c', reachable: { b: true }, copies: mine, workloads: web }));
    expect(out.map((x) => x.d)).toEqual([{ kind: 'journal', text: 'majority: 2 of 3 voters reachable (b, c) after 3m 1s cut off' }]);
    const { out: out2 } = drive(st2, 3 * M + 2 * S, 8 * M, () => ({ self: 'c', reachable: {}, copies: mine, workloads: web }));
    // The copy here never stops (the input is fixed): it is stopped again 30 s later.
    expect(out2.filter((x) => x.d.kind === 'fence').map((x) => x.t)).toEqual([3 * M + S + 4 * M, 3 * M + S + 4 * M + 30 * S]);
  });

  it('measures on the monotonic clock only: any clock origin gives the same decisions', () => {
    const run = (origin: number) => {
      const copies = [copy({ node: 'c' })];
      const { state } = drive(null, origin, origin + 10 * S, () => ({ self: 'a', reachable: { b: true, c: true }, copies, workloads: web }));
      const { out } = drive(state, origin + 11 * S, origin + 6 * M, () => ({ self: 'a', reachable: { b: true }, views: { b: { view: { heardAgoMs: { c: 10 * M } }, receivedAgoMs: 0 } }, copies: [], workloads: web }));
      return out.map((x) => ({ t: x.t - origin, d: x.d }));
    };
    expect(run(-7_000_000_000)).toEqual(run(0));
    expect(run(123_456_789_012)).toEqual(run(0));
  });

  it('restarts every timer when the clock is of another boot', () => {
    const st = initialFailoverState('a', 50 * M, voters, 'boot-1');
    const { decisions, state } = step(st, { self: 'a', monoNowMs: 1000, clockId: 'boot-2', reachable: {}, copies: [], workloads: {} }, set);
    expect(decisions[0]).toEqual({ kind: 'journal', text: 'failover: the monotonic clock changed (boot-1 → boot-2): every timer restarts now' });
    expect(state.lastSeenMs).toEqual({ a: 1000, b: 1000, c: 1000 });
    expect(state.clockId).toBe('boot-2');
  });

  it('throws for a node that is not a voter', () => {
    expect(() => step(null, { self: 'z', monoNowMs: 0, reachable: {}, copies: [], workloads: {} }, set)).toThrow(/z is not among the voters \(a, b, c\)/);
  });
});

describe('reconcile: two running copies of one singleton', () => {
  const original = copy({ node: 'c', containerId: 'orig', generation: 0, createdAt: 1000, score: 80 });
  const replacement = copy({ node: 'b', containerId: 'repl', generation: 1, createdAt: 5000, score: 60 });
  const expected: Record<ReconcileMode, string> = { keep_replacement: 'repl', keep_original: 'orig', best_score: 'orig', longest_running: 'orig' };

  it.each(RECONCILE_MODES.map((mode) => ({ mode })))('$mode: every node that sees both stops the same one', ({ mode }) => {
    const s = settings(['a', 'b', 'c'], { reconcile: mode });
    const keep = expected[mode];
    const stop = keep === 'repl' ? original : replacement;
    const web = { web: workload('web') };
    const input = (self: string): FailoverInput => ({ self, monoNowMs: 0, reachable: { a: true, b: true, c: true }, copies: [original, replacement], workloads: web });
    // The deciding node (a) stops the loser; the loser's node stops its own; the winner's node journals that it stays.
    const onA = step(null, input('a'), s).decisions;
    const onLoser = step(null, input(stop.node), s).decisions;
    const onWinner = step(null, input(keep === 'repl' ? 'b' : 'c'), s).decisions;
    expect(kinds(onA, 'stop-duplicate')).toEqual([expect.objectContaining({ containerId: stop.containerId, node: stop.node, keep })]);
    expect(kinds(onLoser, 'stop-duplicate')).toEqual([expect.objectContaining({ containerId: stop.containerId, keep })]);
    expect(kinds(onWinner, 'stop-duplicate')).toEqual([]);
    expect(onWinner.some((d) => d.kind === 'journal' && d.text.includes(`reconcile ${mode} keeps the one on`) && d.text.endsWith('this copy stays'))).toBe(true);
    expect(texts(onA)[0]).toContain(`reconcile ${mode}`);
  });

  it('best_score follows the score, and every order is total and the same whatever the input order', () => {
    const a = { ...original, score: 10 };
    expect(compareCopies('best_score', a, replacement)).toBeGreaterThan(0);
    for (const mode of RECONCILE_MODES) {
      const twin = { ...replacement, node: 'a', containerId: 'twin' };
      const sorted1 = [original, replacement, twin].sort((x, y) => compareCopies(mode, x, y)).map((c) => c.containerId);
      const sorted2 = [twin, replacement, original].sort((x, y) => compareCopies(mode, x, y)).map((c) => c.containerId);
      expect(sorted1).toEqual(sorted2);
    }
  });

  it('a stop is decided once, not at every step', () => {
    const s = settings(['a', 'b', 'c']);
    const input = (t: number): FailoverInput => ({ self: 'a', monoNowMs: t, reachable: { b: true, c: true }, copies: [original, replacement], workloads: { web: workload('web') } });
    const r1 = step(null, input(0), s);
    const r2 = step(r1.state, input(S), s);
    expect(kinds(r1.decisions, 'stop-duplicate')).toHaveLength(1);
    expect(kinds(r2.decisions, 'stop-duplicate')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

describe('fleet timelines (every 100 ms: no singleton runs twice)', () => {
  const web = workload('web');

  it('3 nodes, one partitioned away: it fences at stop_after, a majority re-places at lost_after plus detection', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    sim.run(web, 'c');
    sim.advance(10 * S);
    sim.isolate('c');
    sim.advance(4 * M);
    expect(sim.all('fence')).toEqual([]);
    sim.advance(10 * S);
    const fence = sim.all('fence');
    expect(fence.map((f) => f.node)).toEqual(['c']);
    // c's view: last contact at 9 s (heartbeat), unreachable after 4.5 s more, fenced 4m later (at its next step).
    expect(fence[0]!.t).toBeGreaterThanOrEqual(10 * S + 4 * M);
    expect(fence[0]!.t).toBeLessThanOrEqual(9 * S + 4.5 * S + 4 * M + S);
    sim.advance(50 * S);
    expect(sim.all('replace')).toEqual([]);
    sim.advance(M);
    const replaces = sim.all('replace');
    expect(replaces).toHaveLength(1);
    expect(replaces[0]).toMatchObject({ node: 'a', d: { lostNode: 'c', generation: 1 } });
    expect(replaces[0]!.t).toBeGreaterThanOrEqual(10 * S + 5 * M);
    sim.advance(M);
    expect(sim.running('web')).toEqual(['a']);
    expect(sim.doubles).toEqual([]);
    // The minority side never re-places, and says why in its journal.
    expect(sim.nodes.c!.decisions.filter((x) => x.d.kind === 'replace')).toEqual([]);
    expect(sim.nodes.c!.journal[0]).toMatch(/^cut off from a majority: 2 of 3 voters unreachable \(a, b\)/);
  });

  it('holds with the tightest margin (stop_after = lost_after − 30 s), a slow stop and clocks that disagree by days', () => {
    const day = 86_400_000;
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c'], { stopAfterMs: 5 * M - 30 * S }), {
      offsets: { a: -3 * day, b: 7 * day + 123, c: 11 * day + 777 },
      stopMs: 10 * S,
    });
    sim.run(web, 'c');
    sim.advance(20 * S);
    sim.isolate('c');
    sim.advance(7 * M);
    expect(sim.all('fence').map((f) => f.node)).toEqual(['c']);
    expect(sim.all('replace')).toHaveLength(1);
    expect(sim.doubles).toEqual([]);
    expect(sim.running('web')).toHaveLength(1);
  });

  it('a broken link between two nodes that both still hear the third: nobody re-places, nothing is fenced', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    sim.run(web, 'c');
    sim.advance(10 * S);
    sim.cut('a', 'c');
    sim.advance(15 * M);
    expect(sim.all('replace')).toEqual([]);
    expect(sim.all('fence')).toEqual([]);
    expect(sim.running('web')).toEqual(['c']);
    expect(sim.nodes.a!.journal.some((l) => /c unreachable for 5m \d+s \(lost_after 5m\) but only 1 of 3 voters agree \(a\)/.test(l))).toBe(true);
  });

  it('a staggered partition (the deciding side lost c a minute before c lost its majority): c still fences first', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    sim.run(web, 'c');
    sim.advance(10 * S);
    sim.cut('a', 'c');
    sim.advance(M);
    sim.cut('b', 'c');
    sim.advance(8 * M);
    const fence = sim.all('fence')[0]!;
    const replace = sim.all('replace')[0]!;
    expect(replace.t - fence.t).toBeGreaterThanOrEqual(45 * S);
    expect(replace.t).toBeGreaterThanOrEqual(10 * S + M + 5 * M);
    expect(sim.doubles).toEqual([]);
  });

  it('two nodes isolated from one (3 nodes): the lone node fences, the pair re-places', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    sim.run(web, 'a');
    sim.advance(10 * S);
    sim.isolate('a');
    sim.advance(7 * M);
    expect(sim.all('fence').map((f) => f.node)).toEqual(['a']);
    expect(sim.all('replace').map((r) => r.node)).toEqual(['b']);
    expect(sim.running('web')).toEqual(['b']);
    expect(sim.doubles).toEqual([]);
  });

  it('two nodes never fail over (and never fence); with a third voter that runs nothing, they do', () => {
    const two = new Sim(['a', 'b'], settings(['a', 'b']));
    two.run(web, 'b');
    two.advance(10 * S);
    two.cut('a', 'b');
    two.advance(20 * M);
    expect(two.all('replace')).toEqual([]);
    expect(two.all('fence')).toEqual([]);
    expect(two.running('web')).toEqual(['b']);
    expect(two.nodes.a!.journal.join('\n')).toContain('a two-node fleet never fails over: configure a third voter');

    const witnessed = new Sim(['a', 'b', 'w'], settings(['a', 'b', 'w']), { voterOnly: ['w'] });
    witnessed.run(web, 'b');
    witnessed.advance(10 * S);
    witnessed.isolate('b');
    witnessed.advance(7 * M);
    expect(witnessed.all('fence').map((f) => f.node)).toEqual(['b']);
    expect(witnessed.all('replace').map((r) => r.node)).toEqual(['a']);
    expect(witnessed.running('web')).toEqual(['a']);
    expect(witnessed.doubles).toEqual([]);
  });

  it('a fenced copy is not restarted on a node that is still cut off itself', () => {
    const s = settings(['a', 'b', 'c', 'd', 'e']);
    const fenced = copy({ node: 'e', running: false, fenced: true });
    const input = (mode: 'majority' | 'cut-off'): FailoverInput => ({
      self: 'a', monoNowMs: 0, reachable: { b: true, c: true, e: true }, copies: [fenced], workloads: { web: workload('web') },
      views: { e: { view: { heardAgoMs: {}, mode }, receivedAgoMs: 0 } },
    });
    expect(kinds(step(null, input('cut-off'), s).decisions, 'unfence')).toEqual([]);
    expect(kinds(step(null, input('majority'), s).decisions, 'unfence')).toEqual([expect.objectContaining({ node: 'e', containerId: fenced.containerId })]);
  });

  it('the complement of fencing: a copy fenced on a node that still does not stand in a majority is re-placed after the grace, not after lost_after', () => {
    const s = settings(['a', 'b', 'c', 'd', 'e']);
    const fenced = copy({ node: 'e', running: false, fenced: true });
    const input = (t: number): FailoverInput => ({
      self: 'a', monoNowMs: t, reachable: { b: true, c: true, e: true }, copies: [fenced], workloads: { web: workload('web') },
      views: { e: { view: { heardAgoMs: { a: 20 * S, b: 20 * S, c: 20 * S }, mode: 'cut-off' }, receivedAgoMs: 0 } },
    });
    let state: FailoverState | null = null;
    const replaced: { t: number; d: Decision }[] = [];
    for (let t = 0; t <= 20 * S; t += S) {
      const r = step(state, input(t), s);
      state = r.state;
      for (const d of r.decisions) if (d.kind === 'replace') replaced.push({ t, d });
    }
    // Once, after BENCHED_GRACE_MS (12 s), avoiding the fenced copy's node; the fenced copy is not restarted.
    expect(replaced.map((x) => x.t)).toEqual([12 * S]);
    expect(replaced[0]?.d).toMatchObject({ kind: 'replace', lostNode: 'e', generation: 1, avoid: ['e'] });
    expect((replaced[0]?.d as { reason: string }).reason).toMatch(/^web was fenced on e, which stands in cut-off, and no copy runs anywhere: re-placing it/);
  });

  it('a node that comes back fenced keeps its copy stopped while the replacement runs, and every node journals it', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    const orig = sim.run(web, 'c');
    sim.advance(10 * S);
    sim.isolate('c');
    sim.advance(7 * M);
    sim.healAll();
    sim.advance(2 * M);
    expect(orig.running).toBe(false);
    expect(sim.running('web')).toEqual(['a']);
    expect(sim.all('unfence')).toEqual([]);
    expect(sim.nodes.c!.journal.some((l) => l.startsWith(`fenced copy ${orig.containerId.slice(0, 12)} of web stays stopped: generation 1 runs on a`))).toBe(true);
    expect(sim.nodes.a!.journal.some((l) => /^c is back after \d+m \d+s unreachable \(it was lost; its copies are reconciled by keep_replacement\)/.test(l))).toBe(true);
    expect(sim.doubles).toEqual([]);
  });

  it('a partition that heals between stop_after and lost_after: the deciding node restarts the fenced copy', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    const orig = sim.run(web, 'c');
    sim.advance(10 * S);
    sim.isolate('c');
    sim.advance(4.5 * M);
    expect(orig.running).toBe(false);
    sim.healAll();
    sim.advance(M);
    expect(sim.all('replace')).toEqual([]);
    expect(sim.all('unfence')).toEqual([expect.objectContaining({ node: 'a', d: expect.objectContaining({ node: 'c', containerId: orig.containerId }) })]);
    expect(orig.running).toBe(true);
    expect(isFenced(sim.nodes.c!.state!, orig.containerId)).toBe(false);
    expect(sim.doubles).toEqual([]);
  });

  it('a lost node whose agent died but whose container ran on comes back: one copy is kept, by keep_replacement', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    const orig = sim.run(web, 'c');
    sim.advance(10 * S);
    sim.nodes.c!.agentUp = false; // no fencing possible: the agent is not there to do it
    sim.advance(7 * M);
    expect(sim.running('web').sort()).toEqual(['a', 'c']);
    sim.nodes.c!.agentUp = true;
    sim.doubles.length = 0;
    sim.advance(M);
    expect(sim.running('web')).toEqual(['a']);
    expect(orig.running).toBe(false);
    const stops = sim.all('stop-duplicate');
    expect(stops.map((s) => s.node).sort()).toEqual(['a', 'c']);
    expect(stops.every((s) => (s.d as { containerId: string }).containerId === orig.containerId)).toBe(true);
    expect(sim.nodes.a!.journal.some((l) => l.includes('reconcile keep_replacement keeps the one on a (generation 1 replaces 0)'))).toBe(true);
    // The copies ran twice only while the lost node's agent was away and until the first step that saw both.
    expect(Math.max(...sim.doubles.map((d) => d.t)) - Math.min(...sim.doubles.map((d) => d.t))).toBeLessThan(10 * S);
  });

  it('the replacement\'s node is lost too: the next round re-places again', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const sim = new Sim(names, settings(names));
    sim.run(web, 'e');
    for (const n of ['a', 'b', 'c']) sim.run(workload(`filler-${n}`, 1, false), n);
    sim.advance(10 * S);
    sim.isolate('e');
    sim.advance(7 * M);
    expect(sim.running('web')).toEqual(['d']);
    sim.isolate('d');
    sim.advance(7 * M);
    const replaces = sim.all('replace').map((r) => r.d as { lostNode: string; generation: number });
    expect(replaces.map((r) => [r.lostNode, r.generation])).toEqual([['e', 1], ['d', 2]]);
    expect(sim.running('web')).toHaveLength(1);
    expect(sim.doubles).toEqual([]);
  });

  it('the deciding node itself is lost: the next lowest takes over once a majority agrees', () => {
    const sim = new Sim(['a', 'b', 'c'], settings(['a', 'b', 'c']));
    sim.run(web, 'a');
    sim.advance(10 * S);
    sim.nodes.a!.agentUp = false;
    sim.containers[0]!.running = false; // a powered off
    sim.advance(7 * M);
    expect(sim.all('replace').map((r) => r.node)).toEqual(['b']);
    expect(sim.running('web')).toHaveLength(1);
  });
});
