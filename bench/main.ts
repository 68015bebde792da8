import { runCoreBench } from './core.js';
import { runTuiBench } from './tui.js';

const which = process.argv[2] ?? 'all';
if (!['all', 'core', 'tui'].includes(which)) {
  console.error(`unknown benchmark \`${which}\`: use core, tui or all`);
  process.exit(2);
}
if (which === 'all' || which === 'core') await runCoreBench();
if (which === 'all' || which === 'tui') await runTuiBench(process.argv.slice(3));
