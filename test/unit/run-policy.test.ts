/**
 * What a node runs on anyone else's behalf (run-policy.ts): the host's root,
 * its system directories, the engine's socket and mknod devices are refused
 * by default, with the field and the rule named; placement.yaml's
 * run_policy allows what a node means to allow.
 */
import { describe, expect, it } from 'vitest';
import type { RunSpec } from '../../core/model/types.js';
import { parsePlacementConfig } from '../../core/placement/controller.js';
import { DEFAULT_RUN_POLICY, runPolicyRefusal } from '../../core/placement/run-policy.js';

const base: RunSpec = { name: 'w', image: 'x', cmd: null, env: [], labels: {}, ports: [], volumes: [], devices: [], restart: { name: 'no', maxRetries: null }, cpus: 0, memoryBytes: 0 };
const withBind = (source: string, target = '/data', readOnly = false): RunSpec => ({ ...base, volumes: [{ source, target, readOnly }] });

describe('the default run policy', () => {
  it.each([
    ['/', 'the host\'s root'],
    ['/etc', '/etc is the host\'s own'],
    ['/etc/ssh', '/etc is the host\'s own'],
    ['//etc/', '/etc is the host\'s own'],
    ['/srv/../etc', '/etc is the host\'s own'],
    ['/var', 'is the host\'s own'],
    ['/run/containerd/containerd.sock', 'is the host\'s own'],
    ['/run', 'is the host\'s own'],
    ['/var/lib/docker/volumes', 'is the host\'s own'],
    ['/proc/1/root', 'is the host\'s own'],
  ])('refuses a bind of %s', (source, words) => {
    const why = runPolicyRefusal(withBind(source));
    expect(why).toContain('volumes[0].source');
    expect(why).toContain(words);
  });

  it.each(['/srv/data', '/opt/app/config', '/home/tech/logs', '/run/dbus', '/mnt/usb'])('runs a bind of %s', (source) => {
    expect(runPolicyRefusal(withBind(source))).toBeNull();
  });

  it("refuses the socket of the engine the node drives, wherever it is, and the folder that holds it", () => {
    const policy = { ...DEFAULT_RUN_POLICY, engineSocket: '/tmp/op-engine/docker.sock' };
    expect(runPolicyRefusal(withBind('/tmp/op-engine/docker.sock'), policy)).toMatch(/engine's socket/);
    expect(runPolicyRefusal(withBind('/tmp/op-engine'), policy)).toMatch(/engine's socket/);
    expect(runPolicyRefusal(withBind('/tmp/op-other'), policy)).toBeNull();
  });

  it('a named or anonymous volume runs; a path that carries bind options does not', () => {
    expect(runPolicyRefusal({ ...base, volumes: [{ source: 'data', target: '/data', readOnly: false }, { source: null, target: '/cache', readOnly: false }] })).toBeNull();
    expect(runPolicyRefusal(withBind('/srv/data', '/h:ro'))).toMatch(/volumes\[0\]\.target .*bind options/);
    expect(runPolicyRefusal(withBind('/srv/data', '/h:rshared'))).toMatch(/bind options/);
    expect(runPolicyRefusal(withBind('/srv/a,b'))).toMatch(/volumes\[0\]\.source .*bind options/);
  });

  it('refuses mknod (m) on a device, runs rw', () => {
    expect(runPolicyRefusal({ ...base, devices: [{ host: '/dev/ttyUSB0', container: '/dev/ttyUSB0', permissions: 'rwm' }] })).toMatch(/devices\[0\]\.permissions `rwm`/);
    expect(runPolicyRefusal({ ...base, devices: [{ host: '/dev/ttyUSB0', container: '/dev/ttyUSB0', permissions: 'rw' }] })).toBeNull();
  });
});

describe("a node's own run policy (placement.yaml run_policy)", () => {
  it('allows what it names, and nothing more', () => {
    const { config, issues } = parsePlacementConfig('node: a\nrun_policy:\n  allow_binds: [/var/log]\n  allow_mknod: true\n', 'placement.yaml');
    expect(issues).toEqual([]);
    const policy = config?.runPolicy ?? DEFAULT_RUN_POLICY;
    expect(runPolicyRefusal(withBind('/var/log/app'), policy)).toBeNull();
    expect(runPolicyRefusal(withBind('/etc'), policy)).toMatch(/\/etc/);
    expect(runPolicyRefusal({ ...base, devices: [{ host: '/dev/x', container: '/dev/x', permissions: 'rwm' }] }, policy)).toBeNull();
  });

  it('is the default without run_policy, and a bad one is named at its field', () => {
    expect(parsePlacementConfig('node: a\n', 'p.yaml').config?.runPolicy).toEqual(DEFAULT_RUN_POLICY);
    const bad = parsePlacementConfig('node: a\nrun_policy:\n  allow_binds: [relative, "/a:ro"]\n  allow_mknod: yes please\n  allow_everything: true\n', 'p.yaml');
    expect(bad.config).toBeNull();
    const fields = bad.issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['run_policy.allow_binds[0]', 'run_policy.allow_binds[1]', 'run_policy.allow_mknod', 'run_policy.allow_everything']));
  });
});
