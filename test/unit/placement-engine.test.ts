import { describe, expect, it } from 'vitest';
import {
  balancedAllocation,
  formatPlacement,
  leastAllocated,
  mostAllocated,
  parseWorkload,
  place,
  placementJson,
  type NodeSnapshot,
  type Workload,
} from '../../core/placement/index.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function node(name: string, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return {
    name,
    reachable: true,
    arch: 'x86_64',
    os: 'linux',
    hostname: name,
    labels: {},
    cpuCores: 4,
    memoryBytes: 8 * GiB,
    allocated: { cpu: 0, memoryBytes: 0 },
    devices: [],
    images: [],
    ...over,
  };
}

/** A workload from spec lines (name and image given). */
function spec(lines = ''): Workload {
  const { workload, issues } = parseWorkload(`name: web\nimage: nginx:1.27\n${lines}`, 'test.yaml');
  if (!workload) throw new Error(JSON.stringify(issues));
  return workload;
}

const verdict = (w: Workload, nodes: NodeSnapshot[], name: string) => place(w, nodes).verdicts.find((v) => v.node === name);

describe('filters: every constraint kind', () => {
  const cases: [string, string, Partial<NodeSnapshot>, boolean, string][] = [
    ['arch == arm64 on x86_64', 'arch == arm64', { arch: 'x86_64' }, false, 'rejected: arch amd64, needs arm64'],
    ['arch == arm64 on aarch64', 'arch == arm64', { arch: 'aarch64' }, true, ''],
    ['arch != arm64 on arm64', 'arch != arm64', { arch: 'arm64' }, false, 'rejected: arch arm64, must not be arm64'],
    ['os == linux on Linux', 'os == linux', { os: 'Linux' }, true, ''],
    ['os == linux on windows', 'os == linux', { os: 'windows' }, false, 'rejected: os windows, needs linux'],
    ['label == on another value', 'label.zone == line-2', { labels: { zone: 'line-1' } }, false, 'rejected: label.zone is line-1, needs line-2'],
    ['label == without the label', 'label.zone == line-2', {}, false, 'rejected: label.zone not set, needs line-2'],
    ['label == on the value', 'label.zone == line-2', { labels: { zone: 'line-2' } }, true, ''],
    ['label != on the value', 'label.gpu != true', { labels: { gpu: 'true' } }, false, 'rejected: label.gpu is true, must not be true'],
    ['label != without the label', 'label.gpu != true', {}, true, ''],
    ['label on a prototype key', 'label.constructor == x', {}, false, 'rejected: label.constructor not set, needs x'],
    ['hostname in, outside', 'hostname in (a, b)', { hostname: 'c' }, false, 'rejected: hostname is c, needs one of (a, b)'],
    ['hostname in, inside (case folded)', 'hostname in (a, b)', { hostname: 'B' }, true, ''],
    ['hostname not in, inside', 'hostname not in (a, b)', { hostname: 'a' }, false, 'rejected: hostname is a, must not be one of (a, b)'],
    ['node == by snapshot name', 'node == n1', {}, true, ''],
    ['node in, outside', 'node in (x, y)', {}, false, 'rejected: node is n1, needs one of (x, y)'],
    ['device missing', 'device /dev/ttyUSB0', { devices: ['/dev/ttyUSB1'] }, false, 'rejected: no device /dev/ttyUSB0'],
    ['device present', 'device /dev/ttyUSB0', { devices: ['/dev/ttyUSB0'] }, true, ''],
    ['image missing', 'image-present', { images: ['nginx:1.26'] }, false, 'rejected: image nginx:1.27 not present'],
    ['image present', 'image-present', { images: ['sha256:abc', 'nginx:1.27'] }, true, ''],
  ];
  it.each(cases)('%s', (_what, constraint, over, fits, text) => {
    const v = verdict(spec(`constraints: [${JSON.stringify(constraint)}]`), [node('n1', over)], 'n1');
    expect(v?.fits).toBe(fits);
    if (!fits) expect(v?.text).toBe(text);
  });

  it('rejects an unreachable node with that reason only', () => {
    const v = verdict(spec('constraints: ["arch == arm64"]\nresources: {memory: 100Gi}'), [node('n1', { reachable: false })], 'n1');
    expect(v).toMatchObject({ fits: false, text: 'rejected: unreachable', reasons: ['unreachable'] });
  });

  it('requires the devices a workload maps, as if they were constraints', () => {
    const w = spec('devices: ["/dev/ttyACM0:/dev/ttyS0"]');
    expect(verdict(w, [node('n1')], 'n1')?.text).toBe('rejected: no device /dev/ttyACM0');
    expect(verdict(w, [node('n1', { devices: ['/dev/ttyACM0'] })], 'n1')?.fits).toBe(true);
  });

  it('finds an image given without a tag as :latest, and under its Docker Hub name', () => {
    const latest = parseWorkload('name: a\nimage: redis\nconstraints: [image-present]', 'x').workload as Workload;
    expect(verdict(latest, [node('n1', { images: ['redis:latest'] })], 'n1')?.fits).toBe(true);
    const hub = parseWorkload('name: a\nimage: docker.io/library/redis:7\nconstraints: [image-present]', 'x').workload as Workload;
    expect(verdict(hub, [node('n1', { images: ['redis:7'] })], 'n1')?.fits).toBe(true);
  });

  it('names every failed check of a node', () => {
    const v = verdict(spec('constraints: ["arch == arm64", "label.zone == a"]\nresources: {memory: 16Gi}'), [node('n1')], 'n1');
    expect(v?.reasons).toEqual(['arch amd64, needs arm64', 'label.zone not set, needs a', 'needs 16 GiB, 8 GiB free']);
    expect(v?.text).toBe('rejected: arch amd64, needs arm64; label.zone not set, needs a; needs 16 GiB, 8 GiB free');
  });

  it('rejects a node where a host port is taken, unless it is this workload of its own', () => {
    const w = spec('ports: ["8080:80"]');
    expect(verdict(w, [node('n1', { portsInUse: ['tcp/8080'] })], 'n1')?.text).toBe('rejected: host port tcp/8080 in use');
    expect(verdict(w, [node('n1', { portsInUse: ['udp/8080'] })], 'n1')?.fits).toBe(true);
  });
});

describe('filters: resource fit', () => {
  const cases: [string, string, Partial<NodeSnapshot>, string | null][] = [
    // 1 GiB total, 724 MiB allocated: 300 MiB free < 512 MiB.
    ['memory short', 'resources: {memory: 512Mi}', { memoryBytes: GiB, allocated: { cpu: 0, memoryBytes: 724 * MiB } }, 'rejected: needs 512 MiB, 300 MiB free'],
    // exactly full after placing: 512 + 512 = 1024 MiB fits.
    ['memory exactly enough', 'resources: {memory: 512Mi}', { memoryBytes: GiB, allocated: { cpu: 0, memoryBytes: 512 * MiB } }, null],
    ['cpu short', 'resources: {cpu: 1}', { cpuCores: 2, allocated: { cpu: 1.5, memoryBytes: 0 } }, 'rejected: needs 1 cpu, 0.5 free'],
    ['cpu exactly enough (float sums)', 'resources: {cpu: 0.1}', { cpuCores: 0.3, allocated: { cpu: 0.2, memoryBytes: 0 } }, null],
    ['over-committed, no requests: fits', '', { cpuCores: 1, memoryBytes: GiB, allocated: { cpu: 3, memoryBytes: 4 * GiB } }, null],
  ];
  it.each(cases)('%s', (_w, lines, over, text) => {
    const v = verdict(spec(lines), [node('n1', over)], 'n1');
    if (text === null) expect(v?.fits).toBe(true);
    else expect(v?.text).toBe(text);
  });
});

describe('scoring: the formulas against hand-computed numbers', () => {
  it('LeastAllocated, MostAllocated and BalancedAllocation as functions', () => {
    // (4 − 2)·100/4 = 50; over capacity and no capacity give 0.
    expect(leastAllocated(2, 4)).toBe(50);
    expect(leastAllocated(5, 4)).toBe(0);
    expect(leastAllocated(0, 0)).toBe(0);
    // 3·100/8 = 37.5; over capacity is capped at 100.
    expect(mostAllocated(3, 8)).toBe(37.5);
    expect(mostAllocated(9, 8)).toBe(100);
    // fractions 0.5 and 0.375: std = |0.5 − 0.375| / 2 = 0.0625 → (1 − 0.0625)·100 = 93.75.
    expect(balancedAllocation([0.5, 0.375])).toBeCloseTo(93.75, 10);
    expect(balancedAllocation([0.2, 0.2])).toBe(100);
    // fractions above 1 count as 1: [1, 0] → std 0.5 → 50.
    expect(balancedAllocation([3, 0])).toBe(50);
  });

  // The node: 4 cores with 1.5 allocated, 8 GiB with 2 GiB allocated; the request: 0.5 cpu, 1 GiB.
  // After placing: cpu 2/4 = 0.5, memory 3/8 = 0.375.
  const n = node('n1', { allocated: { cpu: 1.5, memoryBytes: 2 * GiB } });
  const req = 'resources: {cpu: 0.5, memory: 1Gi}';

  it('spread: LeastAllocated ×2/3 + Balanced ×1/3', () => {
    // least-allocated: cpu (4−2)·100/4 = 50, memory (8−3)·100/8 = 62.5, mean 56.25
    // balanced: 93.75 (above)
    // score = (2·56.25 + 93.75)/3 = 206.25/3 = 68.75 → shown 69
    const v = verdict(spec(req), [n], 'n1');
    expect(v?.score).toBeCloseTo(68.75, 10);
    expect(v?.shown).toBe(69);
    expect(v?.parts).toMatchObject({ strategy: 'least-allocated', cpu: 50, memory: 62.5, fit: 56.25, balanced: 93.75 });
    expect(v?.text).toBe('score 69 = least-allocated 56 (cpu 50, memory 63) ×2/3 + balanced 94 ×1/3');
  });

  it('binpack: MostAllocated ×2/3 + Balanced ×1/3', () => {
    // most-allocated: cpu 2·100/4 = 50, memory 3·100/8 = 37.5, mean 43.75
    // score = (2·43.75 + 93.75)/3 = 181.25/3 = 60.4166… → shown 60
    const v = verdict(spec(`${req}\nstrategy: binpack`), [n], 'n1');
    expect(v?.score).toBeCloseTo(60.416666, 5);
    expect(v?.text).toBe('score 60 = most-allocated 44 (cpu 50, memory 38) ×2/3 + balanced 94 ×1/3');
  });

  it('preferences: (resources + matched weights) ×100/(100 + Σ weights)', () => {
    // weights 10 (matched by a) and 30 (matched by neither): Σ = 40
    // a: (68.75 + 10)·100/140 = 7875/140 = 56.25
    // b: (68.75 + 0)·100/140 = 49.107…
    const w = spec(`${req}\npreferences:\n  - {expr: "label.zone == line-2", weight: 10}\n  - {expr: "arch == arm64", weight: 30}`);
    const a = { ...n, name: 'a', labels: { zone: 'line-2' } };
    const b = { ...n, name: 'b', labels: { zone: 'line-1' } };
    const p = place(w, [b, a]);
    expect(p.chosen).toEqual(['a']);
    expect(p.verdicts.map((v) => [v.node, v.score])).toEqual([['a', expect.closeTo(56.25, 10)], ['b', expect.closeTo(49.107142857, 6)]]);
    expect(p.verdicts[0]?.text).toBe(
      'score 56 = (resources 69 [least-allocated 56 (cpu 50, memory 63), balanced 94] + preference label.zone == line-2 +10) ×100/140',
    );
    expect(p.verdicts[1]?.text).toMatch(/\+ no preference matched\) ×100\/140$/);
  });

  it('a workload without requests is scored on the current allocation', () => {
    // cpu 1/4 used → 75, memory 6/8 used → 25; mean 50
    // fractions 0.25 and 0.75: std 0.25 → balanced 75
    // score = (2·50 + 75)/3 = 58.33…
    const v = verdict(spec(), [node('n1', { allocated: { cpu: 1, memoryBytes: 6 * GiB } })], 'n1');
    expect(v?.score).toBeCloseTo(175 / 3, 10);
  });

  it('spreads to the emptier node and packs onto the fuller one', () => {
    const empty = node('empty');
    const busy = node('busy', { allocated: { cpu: 2, memoryBytes: 4 * GiB } });
    expect(place(spec(req), [busy, empty]).chosen).toEqual(['empty']);
    expect(place(spec(`${req}\nstrategy: binpack`), [empty, busy]).chosen).toEqual(['busy']);
  });
});

describe('spread key and maxSkew', () => {
  // Identical empty nodes and no requests: every score is 100, so only the spread filter and the tie-breaks decide.
  const zoned = [
    node('a', { labels: { zone: 'z1' } }),
    node('b', { labels: { zone: 'z1' } }),
    node('c', { labels: { zone: 'z2' } }),
    node('d'),
  ];

  it('max_skew 1: one replica per domain before any gets a second; nodes without the label are a domain of their own', () => {
    // round 1: all tie → a (z1). round 2: z1 would be 2 − min 0 = 2 > 1, so a and b are rejected → c (z2).
    // round 3: z1 and z2 would be 2 − 0 → d (unlabelled). round 4: every domain at 1, 2 − 1 = 1 ≤ 1 → fewest replicas: b.
    expect(place(spec('spread: label.zone\nreplicas: 4'), zoned).chosen).toEqual(['a', 'c', 'd', 'b']);
  });

  it('max_skew 2 lets a domain get ahead by two', () => {
    // round 2: z1 would be 2 − 0 = 2 ≤ 2; tie on score, b has fewer replicas than a → b.
    // round 3: z1 would be 3 − 0 = 3 > 2 → c (z2 and unlabelled tie; c before d by name).
    expect(place(spec('spread: {key: label.zone, max_skew: 2}\nreplicas: 3'), zoned).chosen).toEqual(['a', 'b', 'c']);
  });

  it('counts the replicas already running, and says why a node is rejected', () => {
    const nodes = [node('a', { labels: { zone: 'z1' }, replicasOf: { web: 2 } }), node('c', { labels: { zone: 'z2' } })];
    const p = place(spec('spread: label.zone'), nodes);
    expect(p.chosen).toEqual(['c']);
    // z1 holds 2, z2 holds 0: a third in z1 would make 3 − 0 = 3 > 1.
    expect(p.verdicts.find((v) => v.node === 'a')?.text).toBe('rejected: label.zone z1 would have 3, the least has 0: skew 3 > max_skew 1');
  });

  it('names the unlabelled group in the reason', () => {
    const p = place(spec('spread: label.zone'), [node('a', { replicasOf: { web: 1 } }), node('c', { labels: { zone: 'z2' } })]);
    expect(p.verdicts.find((v) => v.node === 'a')?.text).toBe('rejected: nodes without label.zone would have 2, the least has 0: skew 2 > max_skew 1');
  });

  it('leaves unreachable nodes and nodes that fail the constraints out of the domains', () => {
    // z2 exists only on an unreachable node and on a node of the wrong arch: it must not hold z1 back at min 0.
    const nodes = [
      node('a', { labels: { zone: 'z1' }, replicasOf: { web: 1 } }),
      node('b', { labels: { zone: 'z1' } }),
      node('lost', { labels: { zone: 'z2' }, reachable: false }),
      node('arm', { labels: { zone: 'z2' }, arch: 'arm64' }),
    ];
    expect(place(spec('spread: label.zone\nconstraints: ["arch == amd64"]'), nodes).chosen).toEqual(['b']);
  });

  it('spread: node puts one replica on each node first', () => {
    expect(place(spec('spread: node\nreplicas: 3'), [node('a'), node('b'), node('c')]).chosen).toEqual(['a', 'b', 'c']);
  });
});

describe('tie-breaks and replicas', () => {
  it('equal scores: fewer replicas of this workload first, then the name', () => {
    const nodes = [node('c'), node('b', { replicasOf: { web: 1, other: 9 } }), node('a', { replicasOf: { web: 1 } })];
    const p = place(spec(), nodes);
    expect(p.chosen).toEqual(['c']);
    expect(p.verdicts.map((v) => v.node)).toEqual(['c', 'a', 'b']);
  });

  it('is deterministic whatever the order of the snapshots', () => {
    const nodes = Array.from({ length: 20 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, { allocated: { cpu: i % 3, memoryBytes: (i % 4) * GiB } }));
    const w = spec('resources: {cpu: 0.5, memory: 1Gi}\nreplicas: 6');
    const forward = place(w, nodes);
    const backward = place(w, [...nodes].reverse());
    expect(backward.chosen).toEqual(forward.chosen);
    expect(backward.verdicts.map((v) => v.node)).toEqual(forward.verdicts.map((v) => v.node));
  });

  it('places replicas one at a time, each seeing the allocation of the ones before', () => {
    // a: 4 cores, 1 used; b: 4 cores, 0 used; each replica asks 1 core and 0 memory.
    // r1: a → cpu (4−2)/4·100 = 50, b → 75: b. r2: a 50, b now (4−2)/4 = 50; equal cpu, memory equal, balanced equal → fewer replicas: a.
    const nodes = [node('a', { allocated: { cpu: 1, memoryBytes: 0 } }), node('b')];
    expect(place(spec('resources: {cpu: 1}\nreplicas: 2'), nodes).chosen).toEqual(['b', 'a']);
  });

  it('respects max_per_node and explains the replica that could not be placed', () => {
    const p = place(spec('replicas: 3\nmax_per_node: 1'), [node('a'), node('b')]);
    expect(p.chosen).toEqual(['a', 'b']);
    expect(p.summary).toBe('2 of 3 replicas placed; for replica 3, 0/2 nodes are available: 2 at max_per_node 1.');
    expect(p.verdicts.map((v) => [v.node, v.placed, v.text])).toEqual([
      ['a', 1, 'rejected: already 1 of web here, max_per_node 1'],
      ['b', 1, 'rejected: already 1 of web here, max_per_node 1'],
    ]);
  });

  it('counts running replicas against max_per_node', () => {
    expect(place(spec('max_per_node: 2'), [node('a', { replicasOf: { web: 2 } }), node('b', { allocated: { cpu: 3.9, memoryBytes: 0 } })]).chosen).toEqual(['b']);
  });

  it('puts one replica per node when a host port is fixed', () => {
    const p = place(spec('ports: ["8080:80"]\nreplicas: 2'), [node('a')]);
    expect(p.chosen).toEqual(['a']);
    expect(p.verdicts[0]?.text).toBe('rejected: host port tcp/8080 taken by a replica of web');
  });

  it('options.count places that many new replicas', () => {
    expect(place(spec('replicas: 5'), [node('a'), node('b')], { count: 2 }).chosen).toEqual(['a', 'b']);
    const none = place(spec('replicas: 5'), [node('a')], { count: 0 });
    expect(none).toMatchObject({ chosen: [], summary: null });
    expect(none.verdicts).toHaveLength(1);
  });
});

describe('the summary line and the table', () => {
  it('counts per reason kind, fewest first: the Kubernetes-like line', () => {
    const w = spec('resources: {memory: 512Mi}\nconstraints: ["label.zone == line-2"]');
    const nodes = [
      node('n1', { labels: { zone: 'line-2' }, memoryBytes: GiB, allocated: { cpu: 0, memoryBytes: 724 * MiB } }),
      node('n2', { labels: { zone: 'line-1' } }),
      node('n3'),
    ];
    const p = place(w, nodes);
    expect(p.chosen).toEqual([]);
    expect(p.summary).toBe('0/3 nodes are available: 1 insufficient memory, 2 label.zone != line-2.');
    const out = formatPlacement(p, w);
    expect(out.split('\n')).toEqual([
      '0/3 nodes are available: 1 insufficient memory, 2 label.zone != line-2.',
      'NODE  VERDICT   REPLICAS  REASON',
      'n1    rejected  0         needs 512 MiB, 300 MiB free',
      'n2    rejected  0         label.zone is line-1, needs line-2',
      'n3    rejected  0         label.zone not set, needs line-2',
      '',
    ]);
  });

  it('a node with two reasons counts in both; kinds of equal count sort by name', () => {
    const p = place(spec('constraints: ["arch == arm64", "os == linux"]'), [node('a', { os: 'windows' }), node('b', { reachable: false })]);
    expect(p.summary).toBe('0/2 nodes are available: 1 arch != arm64, 1 os != linux, 1 unreachable.');
  });

  it('no summary when every replica is placed; fits ranked above rejected', () => {
    const p = place(spec('constraints: ["os == linux"]\nreplicas: 2'), [node('w', { os: 'windows' }), node('b'), node('a', { allocated: { cpu: 2, memoryBytes: 0 } })]);
    expect(p.summary).toBeNull();
    expect(p.verdicts.map((v) => [v.node, v.fits])).toEqual([['b', true], ['a', true], ['w', false]]);
    expect(formatPlacement(p, spec('replicas: 2')).split('\n')[0]).toBe('web: 2 replicas on b, b');
  });

  it('makes hostile node names and labels inert in the table, and keeps --json plain data', () => {
    const p = place(spec('constraints: ["label.zone == a"]'), [node('evil\u001b]0;pwned\u0007', { labels: { zone: 'x\u001b[2J' } })]);
    const out = formatPlacement(p);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('evil\\x1b]0;pwned\\x07');
    const json = placementJson(p, spec());
    expect(json).toMatchObject({ workload: 'web', chosen: [], nodes: [{ fits: false, rejections: [{ kind: 'label.zone != a' }] }] });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    // The words are built lazily on the verdict; the JSON carries them as plain strings.
    expect(json.nodes[0]?.text).toBe('rejected: label.zone is x\u001b[2J, needs a');
    expect(json.nodes[0]?.rejections[0]?.text).toBe('label.zone is x\u001b[2J, needs a');
  });
});

describe('100 nodes × 5,000 containers', () => {
  const zones = ['line-1', 'line-2', 'line-3', 'line-4'];
  // 100 nodes; 50 replicas of each of 100 workloads spread over them (5,000 containers), each asking 0.1 cpu and 64 MiB.
  const nodes: NodeSnapshot[] = Array.from({ length: 100 }, (_, i) => {
    const replicasOf: Record<string, number> = {};
    let containers = 0;
    for (let k = 0; k < 100; k++) {
      const n = (i * 7 + k * 13) % 4 === 0 ? 2 : 0;
      if (n > 0) {
        replicasOf[`app-${k}`] = n;
        containers += n;
      }
    }
    return node(`node-${String(i).padStart(3, '0')}`, {
      arch: i % 5 === 0 ? 'x86_64' : 'aarch64',
      labels: { zone: zones[i % 4] as string, ...(i % 10 === 0 ? {} : { rack: `r${i % 3}` }) },
      cpuCores: 8,
      memoryBytes: 16 * GiB,
      allocated: { cpu: containers * 0.1, memoryBytes: containers * 64 * MiB },
      devices: i % 2 === 0 ? ['/dev/ttyUSB0'] : [],
      images: ['nginx:1.27', `sha256:${i}`],
      replicasOf,
    });
  });

  it('holds 5,000 containers in the snapshots', () => {
    expect(nodes.reduce((a, n) => a + Object.values(n.replicasOf ?? {}).reduce((x, y) => x + y, 0), 0)).toBe(5000);
  });

  it('places 12 replicas that meet every constraint, spread within max_skew, best-first', () => {
    const w = parseWorkload(
      `name: app-7\nimage: nginx:1.27\nresources: {cpu: 0.5, memory: 512Mi}\nconstraints: ["arch == arm64", "device /dev/ttyUSB0", image-present]\npreferences: [{expr: "label.rack == r1", weight: 20}]\nspread: label.zone\nreplicas: 12\nmax_per_node: 1\n`,
      'x',
    ).workload as Workload;
    const p = place(w, nodes);
    expect(p.summary).toBeNull();
    expect(p.chosen).toHaveLength(12);
    expect(new Set(p.chosen).size).toBe(12);
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const perZone = new Map<string, number>();
    for (const name of nodes.map((n) => n.name)) {
      const n = byName.get(name) as NodeSnapshot;
      const eligible = n.arch === 'aarch64' && n.devices.includes('/dev/ttyUSB0');
      if (eligible) perZone.set(n.labels.zone as string, (perZone.get(n.labels.zone as string) ?? 0) + (n.replicasOf?.['app-7'] ?? 0));
    }
    for (const c of p.chosen) {
      const n = byName.get(c) as NodeSnapshot;
      expect(n.arch).toBe('aarch64');
      expect(n.devices).toContain('/dev/ttyUSB0');
      perZone.set(n.labels.zone as string, (perZone.get(n.labels.zone as string) ?? 0) + 1);
    }
    const counts = [...perZone.values()];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // Every node has a verdict; the rejected ones say why, in words.
    expect(p.verdicts).toHaveLength(100);
    for (const v of p.verdicts) expect(v.text).toMatch(v.fits ? /^score \d+ = / : /^rejected: \S/);
    // The first replica went to the best-scored node of the first round.
    const first = place(w, nodes, { count: 1 });
    expect(p.chosen[0]).toBe(first.chosen[0]);
    expect(first.verdicts[0]?.node).toBe(first.chosen[0]);
    const fitting = first.verdicts.filter((v) => v.fits);
    for (let i = 1; i < fitting.length; i++) expect((fitting[i - 1] as { score: number }).score).toBeGreaterThanOrEqual((fitting[i] as { score: number }).score - 1e-6);
  });
});
