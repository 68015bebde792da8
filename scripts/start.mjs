// `npm start`: installs and builds what is missing or stale, then runs
// `outpost` (the terminal UI on the local engine) with the given arguments.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Where the person started: npm runs scripts in the package's folder (INIT_CWD is theirs), and so
// does the chdir below. The TUI saves logs there (tui/app/logs-screen.tsx saveFolder).
process.env.OUTPOST_START_DIR ||= process.env.INIT_CWD || process.cwd();
process.chdir(root);
execFileSync('bash', ['scripts/ensure-node-deps.sh'], { stdio: 'inherit' });

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const bin = 'dist/outpost.mjs';
const sources = Math.max(newest('core'), newest('tui'), statSync('package-lock.json').mtimeMs, statSync('scripts/build.mjs').mtimeMs);
if (!existsSync(bin) || statSync(bin).mtimeMs < sources) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

// Run the bin itself, so its interpreter line (and the flags in it) apply as for an installed `outpost`.
const r = spawnSync(join(root, bin), process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status ?? 1);
