/**
 * The rest of `outpost` (CLI and terminal UI), loaded by the start file
 * (tui/main.ts) once it has done what must happen first. Built with code
 * splitting into dist/app.mjs and lazily loaded chunks.
 */
export { runCli } from './cli/program.js';
