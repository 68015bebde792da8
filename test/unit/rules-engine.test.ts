import { describe, expect, it } from 'vitest';
import { RuleEngine, type Decision } from '../../core/rules/engine.js';
import { parseRules } from '../../core/rules/parse.js';
import { summary } from '../harness/summary.js';
import type { ContainerEvent, ContainerStats, ContainerSummary, HostMetrics } from '../../core/model/types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function container(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return summary({ created: T0 - 60_000, startedAt: T0 - 60_000, ...over });
}

function ev(action: string, at: number, over: Partial<ContainerEvent> = {}): ContainerEvent {
  return { node: 'local', id: 'id-web', name: 'web', image: 'nginx:1.25', action, timeNano: at * 1e6, attributes: {}, ...over };
}

function engineWith(yaml: string, containers: ContainerSummary[] = [container()]): RuleEngine {
  const { ruleSet, issues } = parseRules(yaml, 'rules.yaml');
  expect(issues).toEqual([]);
  const e = new RuleEngine();
  e.setRules(ruleSet);
  e.onModel({ kind: 'reset', containers }, T0);
  return e;
}

/** Drives a crash loop: the container dies `gapMs` after every start; returns every decision. */
function crashLoop(e: RuleEngine, until: number, gapMs = 1000): Decision[] {
  const out: Decision[] = [];
  let nextDie: number | null = T0;
  const take = (ds: Decision[], now: number) => {
    out.push(...ds);
    if (ds.some((d) => d.kind === 'act')) {
      e.onEvent(ev('start', now), now);
      nextDie = now + gapMs;
    }
  };
  for (let now = T0; now <= until; now += 100) {
    if (nextDie !== null && now >= nextDie) {
      nextDie = null;
      take(e.onEvent(ev('die', now, { exitCode: 1 }), now), now);
    }
    const wake = e.nextWake();
    if (wake !== null && wake <= now) take(e.tick(now), now);
  }
  return out;
}

describe('RuleEngine: crash loops, back-off and budget', () => {
  const rules = 'rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: 10s-5m, budget: 4/10m}\n';

  it('restarts at once, then after 10 s, 20 s, 40 s; then gives up and says so', () => {
    const e = engineWith(rules);
    const ds = crashLoop(e, T0 + 200_000);
    const acts = ds.filter((d) => d.kind === 'act');
    expect(acts.map((d) => d.ts - T0)).toEqual([0, 10_000, 30_000, 70_000]);
    // Each wait is back-off after the previous restart, not after the crash.
    expect(acts[1]?.reason).toBe('restarted web: exited with code 1; 2nd restart in 10m (budget 4); next allowed after 20s');
    const defers = ds.filter((d) => d.kind === 'defer');
    expect(defers[0]?.reason).toBe('will restart web in 9s: exited with code 1; back-off 10s after the 1st restart');
    const giveUp = ds.filter((d) => d.kind === 'give-up');
    expect(giveUp).toHaveLength(1);
    expect(giveUp[0]?.ts).toBe(T0 + 71_000);
    expect(giveUp[0]?.reason).toBe('gave up on web: exited with code 1; 4 restarts within 10m already (budget 4/10m)');
    const st = e.explain(T0 + 80_000, 'web')[0];
    expect(st?.state).toBe('given-up');
  });

  it('an operator reset re-arms a given-up container, and replays from the journal', () => {
    const e = engineWith(rules);
    const ds = crashLoop(e, T0 + 200_000);
    expect(e.reset('web')).toEqual(['crash']);
    expect(e.reset('nobody')).toEqual([]);
    const after = e.onEvent(ev('die', T0 + 201_000, { exitCode: 1 }), T0 + 201_000);
    expect(after[0]?.kind === 'act' && after[0].level).toBe(1);
    const replayed = engineWith(rules);
    replayed.restore([...ds, { kind: 'reset', ts: T0 + 200_500, rule: 'crash', container: 'web' }]);
    expect(replayed.explain(T0 + 200_600, 'web')[0]?.state).toBe('armed');
  });

  it('caps the back-off at its maximum', () => {
    const e = engineWith('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: 1s-4s}\n');
    const acts = crashLoop(e, T0 + 40_000, 100).filter((d) => d.kind === 'act');
    const gaps = acts.slice(1).map((d, i) => d.ts - (acts[i] as Decision).ts);
    expect(gaps.slice(0, 5)).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it('resets the back-off after the container ran long enough', () => {
    const e = engineWith('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: {min: 10s, max: 5m, reset-after: 1m}}\n');
    expect(e.onEvent(ev('die', T0, { exitCode: 1 }), T0)[0]?.kind).toBe('act');
    e.onEvent(ev('start', T0 + 10), T0 + 10);
    // Crashes again 2 s later: back-off applies.
    expect(e.onEvent(ev('die', T0 + 2000, { exitCode: 1 }), T0 + 2000)[0]?.kind).toBe('defer');
    const acted = e.tick(T0 + 10_000);
    expect(acted[0]?.kind).toBe('act');
    e.onEvent(ev('start', T0 + 10_000), T0 + 10_000);
    // Runs 2 minutes (longer than reset-after), then crashes: restarted at once, as a 1st restart.
    const later = e.onEvent(ev('die', T0 + 130_000, { exitCode: 1 }), T0 + 130_000);
    expect(later[0]?.kind).toBe('act');
    expect(later[0]?.kind === 'act' && later[0].level).toBe(1);
  });

  it('keeps its back-off and give-up across a restart of the agent (state rebuilt from the journal)', () => {
    const e1 = engineWith(rules);
    const ds = crashLoop(e1, T0 + 200_000);
    const journal = ds.map((d) => ({ ...d }));
    const e2 = engineWith(rules);
    e2.restore(journal);
    // A new crash right after: still given up, no restart storm.
    const after = e2.onEvent(ev('die', T0 + 201_000, { exitCode: 1 }), T0 + 201_000);
    expect(after.map((d) => d.kind)).toEqual(['skip']);
    expect(after[0]?.reason).toContain('gave up');

    // Half-way through a back-off: the new engine waits the rest of it.
    const e3 = engineWith(rules);
    const partial = crashLoop(e3, T0 + 12_000); // acts at 0 and 10 s, dies at 11 s, deferred to 30 s
    const e4 = engineWith(rules);
    e4.restore(partial);
    expect(e4.nextWake()).toBe(T0 + 30_000);
    expect(e4.tick(T0 + 29_999)).toEqual([]);
    e4.onModel({ kind: 'upsert', container: container({ state: 'exited', exitCode: 1 }) }, T0 + 29_000);
    const due = e4.tick(T0 + 30_000);
    expect(due[0]?.kind === 'act' && due[0].level).toBe(3);
  });

  it('drops a deferred restart when the container came back by itself', () => {
    const e = engineWith(rules);
    e.onEvent(ev('die', T0, { exitCode: 1 }), T0);
    e.onEvent(ev('start', T0 + 5), T0 + 5);
    expect(e.onEvent(ev('die', T0 + 1000, { exitCode: 1 }), T0 + 1000)[0]?.kind).toBe('defer');
    e.onEvent(ev('start', T0 + 2000), T0 + 2000); // someone started it
    const ds = e.tick(T0 + 10_000);
    expect(ds.map((d) => d.kind)).toEqual(['skip']);
    expect(ds[0]?.reason).toContain('recovered by itself');
  });

  it('leaves exits alone after a requested stop (kill before die), and exit code 0 for exit-nonzero', () => {
    const e = engineWith(rules);
    e.onEvent(ev('kill', T0, { attributes: { signal: '15' } }), T0);
    expect(e.onEvent(ev('die', T0 + 300, { exitCode: 143 }), T0 + 300)).toEqual([]);
    e.onEvent(ev('start', T0 + 1000), T0 + 1000);
    expect(e.onEvent(ev('die', T0 + 2000, { exitCode: 0 }), T0 + 2000)).toEqual([]);
  });

  it("does not fight Docker's restart policy, and says so once", () => {
    const e = engineWith(rules, [container({ restartPolicy: 'always' })]);
    const first = e.onEvent(ev('die', T0, { exitCode: 1 }), T0);
    expect(first.map((d) => d.kind)).toEqual(['skip']);
    expect(first[0]?.reason).toBe('left to Docker: its restart policy `always` restarts web after this exit');
    expect(e.onEvent(ev('die', T0 + 1000, { exitCode: 1 }), T0 + 1000)).toEqual([]); // not journaled again
    expect(e.explain(T0, 'web')[0]?.state).toBe('left-to-docker');
  });

  it('treats OOM kills as their own condition', () => {
    const e = engineWith('rules:\n  - {name: oom, when: {oom: true}, then: restart}\n');
    expect(e.onEvent(ev('die', T0, { exitCode: 137 }), T0)).toEqual([]); // a plain 137 is not an OOM kill
    e.onEvent(ev('start', T0 + 10), T0 + 10);
    e.onEvent(ev('oom', T0 + 1000), T0 + 1000);
    const ds = e.onEvent(ev('die', T0 + 1001, { exitCode: 137 }), T0 + 1001);
    expect(ds[0]?.kind).toBe('act');
    expect(ds[0]?.trigger.detail).toBe('was OOM-killed (exit code 137)');
  });
});

describe('RuleEngine: conditions', () => {
  it('restarts an unhealthy container after it stayed unhealthy for the configured time', () => {
    const e = engineWith('rules:\n  - {name: h, when: {unhealthy: 30s}, then: restart}\n', [container({ health: 'healthy' })]);
    expect(e.onEvent(ev('health_status: unhealthy', T0), T0)).toEqual([]);
    expect(e.nextWake()).toBe(T0 + 30_000);
    expect(e.tick(T0 + 29_000)).toEqual([]);
    const ds = e.tick(T0 + 30_000);
    expect(ds[0]?.kind).toBe('act');
    expect(ds[0]?.reason).toBe('restarted web: unhealthy for 30s; 1st restart in 10m; next allowed after 10s');
  });

  it('does not restart when health came back in time', () => {
    const e = engineWith('rules:\n  - {name: h, when: {unhealthy: 30s}, then: restart}\n');
    e.onEvent(ev('health_status: unhealthy', T0), T0);
    e.onEvent(ev('health_status: healthy', T0 + 10_000), T0 + 10_000);
    expect(e.tick(T0 + 40_000)).toEqual([]);
    expect(e.nextWake()).toBeNull();
  });

  const stat = (cpu: number, mem = 10 * 1048576, pct = 5): ContainerStats => ({
    id: 'id-web',
    name: 'web',
    at: 0,
    cpuPercent: cpu,
    memoryBytes: mem,
    memoryLimitBytes: 1 << 30,
    memoryPercent: pct,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    pids: 1,
    source: 'cgroup-v2',
  });

  it('CPU above N % for N consecutive samples; a dip starts the count again', () => {
    const e = engineWith('rules:\n  - {name: hot, when: {cpu: {above: 80, samples: 3}}, then: restart}\n');
    expect(e.onStats([stat(95)], T0)).toEqual([]);
    expect(e.onStats([stat(95)], T0 + 5000)).toEqual([]);
    expect(e.onStats([stat(10)], T0 + 10_000)).toEqual([]);
    expect(e.onStats([stat(95)], T0 + 15_000)).toEqual([]);
    expect(e.onStats([stat(95)], T0 + 20_000)).toEqual([]);
    const ds = e.onStats([stat(99)], T0 + 25_000);
    expect(ds[0]?.kind).toBe('act');
    expect(ds[0]?.trigger.detail).toBe('CPU 99% above 80% for 3 samples');
  });

  it('CPU above N % for a duration', () => {
    const e = engineWith('rules:\n  - {name: hot, when: {cpu: {above: 80, for: 10s}}, then: notify}\n');
    expect(e.onStats([stat(90)], T0)).toEqual([]);
    expect(e.onStats([stat(90)], T0 + 5000)).toEqual([]);
    expect(e.onStats([stat(90)], T0 + 10_000)[0]?.kind).toBe('act');
  });

  it('memory above a size and above a share of the limit', () => {
    const e = engineWith('rules:\n  - {name: big, when: {memory: {above: 100MiB}}, then: restart}\n');
    expect(e.onStats([stat(1, 99 * 1048576)], T0)).toEqual([]);
    expect(e.onStats([stat(1, 101 * 1048576)], T0 + 1)[0]?.kind).toBe('act');
    const p = engineWith('rules:\n  - {name: big, when: {memory: {above: 90%}}, then: restart}\n');
    expect(p.onStats([stat(1, 0, 89)], T0)).toEqual([]);
    expect(p.onStats([stat(1, 0, 91)], T0 + 1)[0]?.kind).toBe('act');
  });

  it('a log line matching a regex, on the right stream', () => {
    const e = engineWith('rules:\n  - {name: panic, when: {log: {match: "^panic:", stream: stderr}}, then: restart}\n');
    expect(e.onLog('id-web', { stream: 'stdout', text: 'panic: on stdout' }, T0)).toEqual([]);
    expect(e.onLog('id-web', { stream: 'stderr', text: 'all good' }, T0)).toEqual([]);
    const ds = e.onLog('id-web', { stream: 'stderr', text: 'panic: nil map' }, T0);
    expect(ds[0]?.trigger.detail).toBe('logged "panic: nil map"');
  });

  it('more than N starts in a window', () => {
    const e = engineWith('rules:\n  - {name: flap, when: {restarts: {more-than: 2, within: 1m}}, then: notify}\n');
    expect(e.onEvent(ev('start', T0), T0)).toEqual([]);
    expect(e.onEvent(ev('start', T0 + 1000), T0 + 1000)).toEqual([]);
    const ds = e.onEvent(ev('start', T0 + 2000), T0 + 2000);
    expect(ds[0]?.trigger.detail).toBe('started 3 times within 1m');
    expect(ds[0]?.kind === 'act' && ds[0].notify).toBe(true);
  });

  it('host conditions shed the lowest-priority container first, one at a time', () => {
    const low = container({ id: 'id-low', name: 'batch', labels: { 'outpost.priority': '1', shed: '' } });
    const high = container({ id: 'id-high', name: 'db', labels: { 'outpost.priority': '9', shed: '' } });
    const other = container({ id: 'id-o', name: 'web' });
    const e = engineWith('rules:\n  - {name: disk, match: {label: shed}, when: {host: {disk-above: 90}}, then: stop, cooldown: 1m}\n', [high, low, other]);
    const host = (pct: number): HostMetrics => ({
      node: 'local', at: 0, hostname: 'h', cpuPercent: 0, cores: 1, load: [0, 0, 0], memTotalBytes: 1, memAvailableBytes: 1, memUsedPercent: 0,
      swapTotalBytes: 0, swapUsedBytes: 0, disks: [{ mount: '/', fs: 'ext4', sizeBytes: 100, usedBytes: pct, usePercent: pct }],
      temperatureC: null, netRxBytesPerSec: 0, netTxBytesPerSec: 0, uptimeSeconds: 1,
    });
    expect(e.onHost(host(50), T0)).toEqual([]);
    const first = e.onHost(host(95), T0 + 1);
    expect(first.map((d) => d.container)).toEqual(['batch']);
    e.onModel({ kind: 'upsert', container: { ...low, state: 'exited' } }, T0 + 2);
    const second = e.onHost(host(95), T0 + 5000);
    expect(second.map((d) => d.container)).toEqual(['db']);
  });
});

describe('RuleEngine: precedence, maintenance, labels', () => {
  it('when two rules fire on one container, the higher priority decides alone', () => {
    const e = engineWith(`
rules:
  - {name: restart-all, when: {exit: nonzero}, then: restart}
  - {name: web-notify, match: {name: "web*"}, when: {exit: nonzero}, then: notify, priority: 5}
`);
    const ds = e.onEvent(ev('die', T0, { exitCode: 3 }), T0);
    expect(ds.map((d) => `${d.kind}:${d.rule}`)).toEqual(['act:web-notify']);
    // Same priority: the file's order decides.
    const f = engineWith(`
rules:
  - {name: first, when: {exit: nonzero}, then: notify}
  - {name: second, when: {exit: nonzero}, then: restart}
`);
    expect(f.onEvent(ev('die', T0, { exitCode: 3 }), T0).map((d) => d.rule)).toEqual(['first']);
  });

  it("a container's own label rule wins a tie with the rules file", () => {
    const e = engineWith('rules:\n  - {name: file, when: {exit: nonzero}, then: notify}\n', [container({ labels: { 'outpost.restart-on': 'exit-nonzero' } })]);
    expect(e.onEvent(ev('die', T0, { exitCode: 1 }), T0).map((d) => d.rule)).toEqual(['label:web']);
  });

  it('maintenance silences a container or the node, and lifts at its end', () => {
    const e = engineWith('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart}\n');
    e.setMaintenance({ containers: { web: { until: T0 + 60_000 } } });
    const ds = e.onEvent(ev('die', T0, { exitCode: 1 }), T0);
    expect(ds[0]?.kind).toBe('skip');
    expect(ds[0]?.reason).toContain('rules are paused for web until');
    e.onEvent(ev('start', T0 + 61_000), T0 + 61_000);
    expect(e.onEvent(ev('die', T0 + 62_000, { exitCode: 1 }), T0 + 62_000)[0]?.kind).toBe('act');
    e.setMaintenance({ node: { until: null } });
    e.onEvent(ev('start', T0 + 63_000), T0 + 63_000);
    expect(e.explain(T0 + 63_000, 'web')[0]?.state).toBe('maintenance');
  });

  it('explains what each rule would do now', () => {
    const e = engineWith('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, budget: 3/10m}\n');
    expect(e.explain(T0, 'web')[0]?.detail).toBe('armed: would restart on an exit with a non-zero code; budget 0/3 used in 10m');
    e.onEvent(ev('die', T0, { exitCode: 1 }), T0);
    e.onEvent(ev('start', T0 + 10), T0 + 10);
    const st = e.explain(T0 + 2000, 'web')[0];
    expect(st?.state).toBe('backing-off');
    expect(st?.detail).toBe('backing off: would restart in 8s at the earliest (1st in 10m so far)');
  });
});

describe('deferred actions and re-created containers (defect 6)', () => {
  const rules = 'rules:\n  - {name: panics, when: {log: "panic"}, then: {notify: "it panicked"}}\n';
  const line = (text: string) => ({ stream: 'stderr' as const, text });

  for (const how of ['destroy event', 'model only'] as const) {
    it(`a deferred notify is dropped (and journaled so) when its container is re-created under the same name (${how})`, () => {
      const e = engineWith(rules);
      expect(e.onLog('id-web', line('panic: first'), T0).map((d) => d.kind)).toEqual(['act']);
      const deferred = e.onLog('id-web', line('panic: old container'), T0 + 1000);
      expect(deferred.map((d) => d.kind)).toEqual(['defer']);
      const dropped: Decision[] = [];
      if (how === 'destroy event') dropped.push(...e.onEvent(ev('destroy', T0 + 2000), T0 + 2000));
      // compose re-creates it: same name, new ID
      e.onModel({ kind: 'reset', containers: [container({ id: 'id-web2', startedAt: T0 + 3000 })] }, T0 + 3000);
      const wake = e.nextWake();
      if (wake !== null) dropped.push(...e.tick(Math.max(wake, T0 + 3000)));
      dropped.push(...e.tick(T0 + 120_000));
      expect(dropped.filter((d) => d.kind === 'act')).toEqual([]);
      const skip = dropped.find((d) => d.kind === 'skip');
      expect(skip?.reason).toMatch(/^dropped the deferred notify of web: the container it was about \(id-web\) was (destroyed|re-created)/);
      expect(skip?.containerId).toBe('id-web');
      // The new container's own lines are acted on as usual.
      expect(e.onLog('id-web2', line('panic: new container'), T0 + 130_000).map((d) => d.kind)).toEqual(['act']);
    });
  }
});

describe("the agent's own action in flight (defect 1)", () => {
  const stats = (cpu: number): ContainerStats[] => [{ id: 'id-web', cpuPercent: cpu, memoryBytes: 1, memoryPercent: 1 } as ContainerStats];

  it('no trigger of the container counts or fires while its restart runs; unhealthy counts from the new start', () => {
    const yaml = `interval: 1s
rules:
  - {name: sick, when: {unhealthy: 10s}, then: restart, backoff: 5s-30s, budget: 2/10m}
  - {name: crash, when: {exit: any}, then: restart}
  - {name: hot, when: {cpu: {above: 50}}, then: {kill: SIGTERM}}
  - {name: log, when: {log: "x"}, then: {exec: "true"}}
`;
    // Unhealthy for 18 minutes by the health log, which outlives restarts; this run started 1 minute ago.
    const e = engineWith(yaml, [container({ health: 'unhealthy', unhealthySince: T0 - 18 * 60_000, startedAt: T0 - 60_000 })]);
    const first = e.tick(T0);
    expect(first.map((d) => d.kind)).toEqual(['act']);
    expect(first[0]?.reason).toMatch(/^restarted web: unhealthy for 1m; 1st restart/);
    e.beginAction('id-web', { kind: 'restart' }, T0);
    const during: Decision[] = [];
    for (let now = T0 + 500; now < T0 + 10_000; now += 500) {
      during.push(...e.tick(now));
      during.push(...e.onStats(stats(99), now));
      during.push(...e.onLog('id-web', { stream: 'stdout', text: 'x' }, now));
      const w = e.nextWake();
      if (w !== null) expect(w).toBeGreaterThan(now);
    }
    during.push(...e.onEvent(ev('kill', T0 + 10_000), T0 + 10_000));
    during.push(...e.onEvent(ev('die', T0 + 10_000, { exitCode: 137 }), T0 + 10_000));
    // A listing taken before the restart still says unhealthy, with the old run's start.
    e.onModel({ kind: 'upsert', container: container({ health: 'unhealthy', unhealthySince: T0 - 18 * 60_000, startedAt: T0 - 60_000 }) }, T0 + 10_050);
    during.push(...e.tick(T0 + 10_050));
    e.endAction('id-web', T0 + 10_100);
    during.push(...e.tick(T0 + 10_150));
    expect(during).toEqual([]);
    expect(e.onEvent(ev('start', T0 + 10_200), T0 + 10_200)).toEqual([]);
    // Unhealthy again 3 s into the new run (the log still holds the old streak): 10 s count from the new start.
    e.onModel({ kind: 'upsert', container: container({ health: 'unhealthy', unhealthySince: T0 - 18 * 60_000, startedAt: T0 + 10_200 }) }, T0 + 13_200);
    expect(e.tick(T0 + 19_000)).toEqual([]);
    const again = e.tick(T0 + 20_300);
    expect(again.map((d) => d.kind)).toEqual(['act']);
    expect(again[0]?.reason).toMatch(/^restarted web: unhealthy for 10s; 2nd restart/);
  });

  it('a deferred action waits for the action in flight; a failed action frees the container at once', () => {
    const e = engineWith('rules:\n  - {name: crash, when: {exit: nonzero}, then: restart, backoff: 1s-1m}\n');
    expect(e.onEvent(ev('die', T0, { exitCode: 1 }), T0).map((d) => d.kind)).toEqual(['act']);
    e.beginAction('id-web', { kind: 'restart' }, T0);
    expect(e.onEvent(ev('die', T0 + 100, { exitCode: 1 }), T0 + 100)).toEqual([]);
    e.endAction('id-web', T0 + 200, false);
    e.onEvent(ev('start', T0 + 250), T0 + 250);
    expect(e.onEvent(ev('die', T0 + 300, { exitCode: 1 }), T0 + 300).map((d) => d.kind)).toEqual(['defer']);
    e.beginAction('id-web', { kind: 'exec', command: ['true'] }, T0 + 400);
    expect(e.tick(T0 + 1500)).toEqual([]);
    expect(e.nextWake()).toBeNull();
    e.endAction('id-web', T0 + 2000);
    expect(e.nextWake()).toBe(T0 + 1000);
    expect(e.tick(T0 + 2000).map((d) => d.kind)).toEqual(['act']);
  });
});
