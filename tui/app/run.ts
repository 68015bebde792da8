/**
 * Composition root of the terminal UI: one Fleet (this machine's node and the peers of the peers file),
 * preferences, and the Ink app. The engine connection starts before Ink and
 * React are even loaded, so the two overlap; the first frame waits (briefly)
 * for the first container list rather than drawing "connecting…" first.
 */
import type { Endpoint } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { Fleet } from '../../core/fleet.js';
import { localRules } from '../../core/agent/lazy-rules.js';
import { stateDir } from '../../core/agent/store.js';
import { thisNodeName } from '../../core/peers/node-name.js';

export interface TuiOptions {
  endpoint: Endpoint;
  readOnly: boolean;
}

/** How long the first frame waits for the engine before showing "connecting…". */
const FIRST_FRAME_WAIT_MS = 400;

export async function runTui(options: TuiOptions): Promise<number> {
  const { stdin, stdout } = process;
  if (!stdin.isTTY || !stdout.isTTY) {
    process.stderr.write('Error: the terminal UI needs a terminal; for scripts use `outpost ps`, `outpost logs`, … (see --help).\n');
    return 2;
  }
  // Problems reported before the UI is up wait for its status line; stderr would land mid-screen.
  const pending: string[] = [];
  let sink: ((text: string) => void) | null = null;
  const onError = (text: string) => (sink ? sink(text) : pending.push(text));
  // The node's rule engine (LocalRules on the agent's files), loaded after the first frame.
  // With the agent's state directory: a start of a container failover fenced here asks first.
  const node = new LocalNode({ name: thisNodeName(process.env), endpoint: options.endpoint, onError, rules: localRules(process.env), stateDir: stateDir(process.env) });
  // Connect in the background: when the engine is down the UI says so and keeps retrying.
  const connected = node.connect().catch(() => undefined);
  // Ink and React load while the peers file is read.
  const mount = import('./mount.js');
  // The peers (a damaged peers file: this machine alone, and the status line says why).
  let fleet: Fleet;
  const peers = await import('../../core/peers/fleet-from-config.js');
  try {
    fleet = await peers.buildFleet(process.env, node, { onError });
  } catch (err) {
    onError(`peers: ${err instanceof Error ? err.message : String(err)}`);
    fleet = new Fleet([node]);
  }
  // Peers added, renamed or removed while the UI runs (`outpost peers` in another terminal) join or leave it.
  const stopFollowing = peers.followPeersFile(fleet, process.env, {
    onError,
    onChange: (r) => onError(`peers: ${[...r.added.map((n) => `${n} added`), ...r.removed.map((n) => `${n} removed`)].join(', ')}`),
  });
  for (const peer of fleet.nodes()) if (peer !== node) peer.connect().catch(() => undefined);
  // The first container list (from one request) is enough for the first frame.
  let stopWaiting: () => void = () => {};
  const firstList = new Promise<void>((resolve) => {
    stopWaiting = node.watch(() => resolve());
  });
  const { mountTui } = await mount;
  await Promise.race([firstList, connected, new Promise((r) => setTimeout(r, FIRST_FRAME_WAIT_MS))]);
  stopWaiting();
  try {
    return await mountTui(fleet, options.readOnly, (s) => {
      sink = s;
      for (const text of pending.splice(0)) s(text);
    });
  } finally {
    stopFollowing();
  }
}
