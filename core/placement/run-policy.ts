/**
 * What this node runs on anyone else's behalf: a workload placed here by a
 * peer, re-placed here by failover, moved here by a rule, or started through
 * the agent's API. Before, an admin token (and every peer held one) was root
 * on the box: a spec with `/:/host` or the Docker socket bound in, or a
 * device with `m` (mknod), ran as given.
 *
 * Default deny for what gives the host away: a bind of `/` or of a system
 * directory (/etc, /proc, /sys, /dev, /boot, /root, /var/lib/docker, …), the
 * Docker or containerd socket (and the directories holding them), and
 * device permissions with `m`. A node that means it allows more in its
 * placement.yaml (`run_policy: {allow_binds: [/srv/data], allow_mknod: true}`).
 * Pure: a spec and a policy in, the first refusal out, in words that name the
 * field and the rule.
 */
import type { RunSpec } from '../model/types.js';

export interface RunPolicy {
  /** Host paths (and what is under them) that may be bound although they are refused by default. */
  allowBinds: readonly string[];
  /** Device permissions with `m` (creating device nodes). */
  allowMknod: boolean;
  /** The socket of the engine this node drives, wherever it is (refused like the default paths). */
  engineSocket?: string | null;
}

export const DEFAULT_RUN_POLICY: RunPolicy = { allowBinds: [], allowMknod: false };

/** Host paths refused as bind sources, with everything under them; `/` alone is refused as itself. */
const SYSTEM_PATHS = ['/etc', '/proc', '/sys', '/dev', '/boot', '/root', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/var/lib/docker', '/var/lib/containerd', '/run/containerd', '/var/run/containerd'];
/** The engine's sockets: a container that reaches one controls the host. A directory holding one is refused with it. */
const ENGINE_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock', '/run/docker', '/var/run/docker'];

const normalise = (p: string) => {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return `/${parts.join('/')}`;
};
const under = (path: string, root: string) => path === root || path.startsWith(root === '/' ? '/' : `${root}/`);

/** Why this policy refuses the spec (the field, the value and the rule), or null when it may run here. */
export function runPolicyRefusal(spec: RunSpec, policy: RunPolicy = DEFAULT_RUN_POLICY): string | null {
  for (const [i, v] of spec.volumes.entries()) {
    for (const [field, value] of [['target', v.target], ['source', v.source ?? '']] as const) {
      // `/h:ro` as a target reached the engine as bind options.
      if (/[:,\0\n]/.test(value)) return `volumes[${i}].${field} \`${value.slice(0, 100)}\` holds \`:\`, \`,\` or a control character: a path may not carry bind options`;
    }
    if (v.source === null || !v.source.startsWith('/')) continue;
    const src = normalise(v.source);
    if (policy.allowBinds.some((a) => under(src, normalise(a)))) continue;
    if (src === '/') return `volumes[${i}].source \`/\`: the host's root is not bound for a workload run on another's behalf (allow it in this node's placement.yaml: run_policy.allow_binds)`;
    // The path itself is the host's, or it holds one of the host's (`/var` holds /var/lib/docker).
    const sys = SYSTEM_PATHS.find((s) => under(src, s) || under(s, src));
    if (sys) return `volumes[${i}].source \`${src}\`: ${sys} is the host's own; not bound for a workload run on another's behalf (this node's placement.yaml: run_policy.allow_binds)`;
    const sockets = policy.engineSocket ? [...ENGINE_SOCKETS, normalise(policy.engineSocket)] : ENGINE_SOCKETS;
    const sock = sockets.find((s) => under(s, src) || under(src, s));
    if (sock) return `volumes[${i}].source \`${src}\`: it holds the engine's socket (${sock}), which controls the host; not bound for a workload run on another's behalf`;
  }
  for (const [i, d] of spec.devices.entries()) {
    if (d.permissions.includes('m') && !policy.allowMknod) return `devices[${i}].permissions \`${d.permissions}\`: \`m\` lets the container create device nodes (this node's placement.yaml: run_policy.allow_mknod)`;
  }
  return null;
}
