import { runCoreBench } from './core.js';
import { runTuiBench } from './tui.js';
import { runAgentBench } from './agent.js';
import { runDevEngine } from './dev-engine.js';
import { runStartupBench } from './startup.js';
import { runCompareBench } from './compare.js';
import { runPeersBench } from './peers.js';
import { runPlacementBench } from './placement.js';
import { runFailoverBench } from './failover.js';
import { runTuiWireBench } from './tui-wire.js';
import { runSlowLinkBench } from './slow-link.js';
import { runProtocolBench } from './protocol.js';
import { runOutageBench } from './outage.js';

const which = process.argv[2] ?? 'all';
if (!['all', 'core', 'tui', 'agent', 'startup', 'peers', 'placement', 'failover', 'protocol', 'outage', 'wire', 'slow-link', 'engine', 'compare'].includes(which)) {
  console.error(`unknown benchmark \`${which}\`: use core, tui, agent, startup, peers [idle] [events] [logs] [unreachable] [list], wire (the TUI's bytes from a peer), slow-link (logs and a shell through a 300 ms, 64 kbit/s link), placement, failover, protocol (idle agents' bytes between each other), outage (a singleton's worst outage under cut, slow and flapping links; not in all: ~12 min), all, compare REV (this build against an earlier commit's), or engine [N] (a private engine left running)`);
  process.exit(2);
}
if (which === 'engine') {
  const n = Number(process.argv[3] ?? 50);
  if (!Number.isInteger(n) || n < 0 || n > 500) {
    console.error(`engine: the container count must be a whole number from 0 to 500, not \`${process.argv[3]}\``);
    process.exit(2);
  }
  await runDevEngine(n);
}
if (which === 'all' || which === 'core') await runCoreBench();
if (which === 'all' || which === 'tui') await runTuiBench(process.argv.slice(3));
if (which === 'all' || which === 'agent') await runAgentBench();
if (which === 'all' || which === 'startup') await runStartupBench();
if (which === 'all' || which === 'peers') await runPeersBench(which === 'peers' ? process.argv.slice(3) : []);
if (which === 'all' || which === 'wire') await runTuiWireBench();
if (which === 'all' || which === 'slow-link') await runSlowLinkBench();
if (which === 'all' || which === 'placement') await runPlacementBench();
// The three placement figures: the decision, then failover (also alone: `failover`).
if (which === 'all' || which === 'placement' || which === 'failover') await runFailoverBench();
if (which === 'all' || which === 'protocol') await runProtocolBench();
if (which === 'outage') await runOutageBench();
if (which === 'compare') await runCompareBench(process.argv[3]);
