import { runCoreBench } from './core.js';

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'core') await runCoreBench();
