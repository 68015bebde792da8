import { runCoreBench } from './core.js';
import { runTuiBench } from './tui.js';
import { runAgentBench } from './agent.js';

const which = process.argv[2] ?? 'all';
if (!['all', 'core', 'tui', 'agent'].includes(which)) {
  console.error(`unknown benchmark \`${which}\`: use core, tui, agent or all`);
  process.exit(2);
}
if (which === 'all' || which === 'core') await runCoreBench();
if (which === 'all' || which === 'tui') await runTuiBench(process.argv.slice(3));
if (which === 'all' || which === 'agent') await runAgentBench();
