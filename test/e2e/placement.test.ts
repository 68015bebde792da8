/**
 * Placement on a site of four nodes: this machine's engine (`local`) and three private engines with
 * agents on 127.0.0.2–4, whose engines carry labels as a site's would (dockerd --label). The built
 * `outpost` checks specs, explains every node's verdict, runs the workload through the chosen
 * node's agent, lists placed workloads across the fleet and removes them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, outpost } from '../harness/cli.js';
import { docker, eventually, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';
import { homeEnv, siteNode, startAgent, stopAgent, type SiteNode } from '../harness/site.js';

let home: string;
const sites: SiteNode[] = [];
const env = () => homeEnv(home);
const LABELS: Record<string, string[]> = { n2: ['--label', 'zone=line-1'], n3: ['--label', 'zone=line-2', '--label', 'gpu=true'], n4: ['--label', 'zone=line-1'] };

function spec(name: string, text: string): string {
  const file = join(home, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  home = mkdtempSync(join(tmpdir(), 'op-place-'));
  for (const [i, name] of ['n2', 'n3', 'n4'].entries()) {
    const site = await siteNode(home, name, `127.0.0.${i + 2}`, LABELS[name]);
    sites.push(site);
    const code = await startAgent(site);
    const add = await outpost(['peers', 'add', code as string, '--name', name], env());
    expect(add.code, add.stderr).toBe(0);
  }
}, 300_000);

afterAll(async () => {
  for (const s of sites) await stopAgent(s, 'SIGKILL');
  for (const s of sites) await s.engine.dispose();
  await removeByPrefix(docker(), 'pl-');
  if (home) rmSync(home, { recursive: true, force: true });
}, 120_000);

const engineOf = (name: string) => docker((sites.find((s) => s.name === name) as SiteNode).engine.dockerHost);

describe('placement across a site (local + three agents)', () => {
  it('workloads check reports every problem of a bad spec with file:line:col and the field, and exits 2', async () => {
    const file = spec('bad', 'name: Web!\nimage: 3\nreplicas: 1e999\nresources: {cpu: -1, memroy: 12Zi}\nconstraints: ["arch === arm64"]\n');
    const r = await outpost(['workloads', 'check', file], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:1:7: name:`);
    expect(r.stderr).toContain(`${file}:3:11: replicas:`);
    expect(r.stderr).toMatch(/resources\.memroy: unknown key `memroy` \(did you mean `memory`\?\)/);
    expect(r.stderr).toMatch(/constraints\[0\]:/);
    expect(r.stderr).toContain('6 problem(s)');
    const fifo = await outpost(['workloads', 'check', '/dev/zero'], env());
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toMatch(/not a regular file/);
  });

  it('place --dry-run explains every node: the one with the label fits, the others say why not', async () => {
    const file = spec('web', `name: pl-web\nimage: ${TEST_IMAGE}\ncommand: ["sh", "-c", "echo up; sleep 3600"]\nresources: {cpu: 0.25, memory: 32Mi}\nconstraints: ["label.zone == line-2"]\nmovable: true\n`);
    const r = await outpost(['place', file, '--dry-run', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { chosen: string[]; nodes: { node: string; fits: boolean; text: string }[] };
    expect(out.chosen).toEqual(['n3']);
    const by = new Map(out.nodes.map((n) => [n.node, n]));
    expect(by.get('n3')?.fits).toBe(true);
    for (const n of ['local', 'n2', 'n4']) {
      expect(by.get(n)?.fits).toBe(false);
      expect(by.get(n)?.text).toMatch(/label\.zone/);
    }
    expect(by.get('n2')?.text).toMatch(/line-1/);
    // Nothing ran.
    expect((await engineOf('n3').listContainers({ all: true, filters: { label: ['outpost.workload=pl-web'] } })).length).toBe(0);
  });

  it('place runs it on the chosen node through its agent; again, it says it runs already; workloads lists it; rm removes it', async () => {
    const file = join(home, 'web.yaml');
    const r = await outpost(['place', file], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/started pl-web replica 0 on n3/);
    const there = await engineOf('n3').listContainers({ filters: { label: ['outpost.workload=pl-web'] } });
    expect(there.map((c) => [c.Names[0], c.State])).toEqual([['/pl-web-0', 'running']]);
    const inspect = await engineOf('n3').getContainer(there[0]?.Id as string).inspect();
    expect(inspect.HostConfig.RestartPolicy?.Name).toBe('no'); // movable: fencing must hold
    expect(inspect.Config.Labels['outpost.workload.spec']).toContain('name: pl-web');
    // The node that started it journals it too, with who asked.
    const journal = await eventually(async () => {
      const j = await outpost(['journal', '--node', 'n3', '--json', '-n', '0'], env());
      return j.stdout.includes('started pl-web replica 0 (generation') ? j.stdout : undefined;
    }, 10_000, 'the journal entry on n3');
    expect(journal).toMatch(/started pl-web replica 0 \(generation \d+\) here \(container [0-9a-f]{12}\), asked by /);
    const again = await outpost(['place', file], env());
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/every replica runs already \(0 on n3\)/);
    const list = await outpost(['workloads', '--json'], env());
    const rows = JSON.parse(list.stdout) as { workload: string; node: string; replica: number; running: boolean }[];
    expect(rows.filter((w) => w.workload === 'pl-web').map((w) => [w.node, w.replica, w.running])).toEqual([['n3', 0, true]]);
    const table = await outpost(['workloads'], env());
    expect(table.stdout).toMatch(/^WORKLOAD\s+REPLICA\s+NODE/m);
    expect(table.stdout).toMatch(/pl-web\s+0\s+n3\s+pl-web-0\s+running/);
    const rm = await outpost(['workloads', 'rm', 'pl-web'], env());
    expect(rm.code, rm.stderr).toBe(0);
    expect((await engineOf('n3').listContainers({ all: true, filters: { label: ['outpost.workload=pl-web'] } })).length).toBe(0);
    const gone = await outpost(['workloads', 'rm', 'pl-web'], env());
    expect(gone.code).toBe(1);
    const hostile = await outpost(['workloads', 'rm', '../\u001b[2J'], env());
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).not.toContain('\u001b');
  });

  it('three replicas spread over the zones; a constraint nobody meets gives the summary line and each node\'s reason, exit 3', async () => {
    const file = spec('spread', `name: pl-spread\nimage: ${TEST_IMAGE}\ncommand: ["sleep", "3600"]\nreplicas: 3\nmax_per_node: 1\nconstraints: ["os == linux"]\n`);
    const r = await outpost(['place', file, '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { chosen: string[]; started: { node: string; error: string | null }[] };
    expect(new Set(out.chosen).size).toBe(3);
    expect(out.started.every((s) => s.error === null)).toBe(true);
    for (const n of out.chosen.filter((c) => c !== 'local')) expect((await engineOf(n).listContainers({ filters: { label: ['outpost.workload=pl-spread'] } })).length).toBe(1);
    await outpost(['workloads', 'rm', 'pl-spread'], env());

    const none = spec('none', `name: pl-none\nimage: ${TEST_IMAGE}\nconstraints: ["label.zone == line-9"]\n`);
    const n = await outpost(['place', none, '--dry-run'], env());
    expect(n.code).toBe(3);
    expect(n.stdout).toMatch(/^0\/4 nodes are available: 4 label\.zone != line-9\./m);
    for (const node of ['local', 'n2', 'n3', 'n4']) expect(n.stdout).toMatch(new RegExp(`^${node}\\s+rejected`, 'm'));
  });

  it("this machine's engine that is also a peer's counts once, under the peer's name (two replicas never land on one box as two nodes)", async () => {
    const n3 = sites.find((s) => s.name === 'n3') as SiteNode;
    const file = spec('twice', `name: pl-twice\nimage: ${TEST_IMAGE}\ncommand: ["sleep", "3600"]\nreplicas: 4\nmax_per_node: 1\n`);
    const r = await outpost(['place', file, '--dry-run', '--json'], { ...env(), DOCKER_HOST: n3.engine.dockerHost });
    expect(r.stderr).toContain('warning: local is the same Docker engine as n3: counted once, as n3 (');
    const out = JSON.parse(r.stdout) as { chosen: string[]; nodes: { node: string }[] };
    expect(out.nodes.map((n) => n.node).sort()).toEqual(['n2', 'n3', 'n4']);
    expect(r.code).toBe(3); // four replicas, one a node, three nodes
  });

  it('a replica whose container exited is placed again: the exited copy gives way (its name would clash)', async () => {
    const file = spec('once', `name: pl-once\nimage: ${TEST_IMAGE}\ncommand: ["sh", "-c", "sleep 1; exit 3"]\nconstraints: ["label.gpu == true"]\n`);
    expect((await outpost(['place', file], env())).code).toBe(0);
    const n3 = engineOf('n3');
    await eventually(async () => (await n3.listContainers({ all: true, filters: { label: ['outpost.workload=pl-once'], status: ['exited'] } })).length === 1, 15_000, 'the copy exited');
    const again = await outpost(['place', file], env());
    expect(again.stderr).toContain('note: pl-once replica 0 exists on n3 but is exited: it is removed and placed again');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/started pl-once replica 0 on n3/);
    expect((await n3.listContainers({ all: true, filters: { label: ['outpost.workload=pl-once'] } })).length).toBe(1);
    await outpost(['workloads', 'rm', 'pl-once'], env());
  });

  it('a node that does not answer is in the table as rejected with its reason, and the others still place', async () => {
    const n2 = sites.find((s) => s.name === 'n2') as SiteNode;
    await stopAgent(n2, 'SIGKILL');
    try {
      const file = spec('one', `name: pl-one\nimage: ${TEST_IMAGE}\ncommand: ["sleep", "3600"]\nconstraints: ["label.zone == line-1"]\n`);
      const r = await outpost(['place', file, '--dry-run', '--json'], env());
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { chosen: string[]; nodes: { node: string; fits: boolean; text: string }[] };
      expect(out.chosen).toEqual(['n4']);
      expect(out.nodes.find((x) => x.node === 'n2')?.text).toMatch(/unreachable/);
      expect(r.stderr).toMatch(/warning: n2: /);
    } finally {
      await startAgent(n2);
    }
  });
});
