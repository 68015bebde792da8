// Bundles the `outpost` command. Bundling is what keeps startup cheap: a few
// files to read and compile instead of hundreds of modules. Two builds:
// - dist/outpost.mjs, the start file (tui/main.ts), self-contained: for the
//   terminal UI it paints the first frame before anything else loads;
// - dist/app.mjs (tui/app-entry.ts) with code splitting: the CLI and the UI,
//   whose dynamic imports stay lazy chunks.
import { build } from 'esbuild';
import { readFile, writeFile, chmod, mkdir, rm } from 'node:fs/promises';
import { inkFastPaths, trimDockerode } from './esbuild-plugins.mjs';
import { buildCommit } from './build-commit.mjs';

await rm('dist', { recursive: true, force: true });
await mkdir('dist', { recursive: true });
const started = performance.now();
const common = {
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // react-devtools-core: Ink imports it only when DEV=true; it is not installed.
  external: ['cpu-features', '*.node', 'react-devtools-core'],
  // React's production build: no development checks on every render.
  define: {
    'process.env.NODE_ENV': '"production"',
    OUTPOST_BUILD: JSON.stringify({ version: JSON.parse(await readFile('package.json', 'utf8')).version, sea: false, commit: buildCommit() }),
  },
  // CommonJS dependencies (dockerode, ssh2) call require and read __dirname.
  banner: {
    js: [
      "import { createRequire as __outpostRequire } from 'node:module';",
      "import { fileURLToPath as __outpostPath } from 'node:url';",
      'const require = __outpostRequire(import.meta.url);',
      "const __filename = __outpostPath(import.meta.url), __dirname = __outpostPath(new URL('.', import.meta.url));",
    ].join(''),
  },
  plugins: [trimDockerode, inkFastPaths],
  // The docs ride inside the build as text (`outpost docs`).
  loader: { '.md': 'text' },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { app: 'tui/app-entry.ts' }, splitting: true, chunkNames: 'chunks/[name]-[hash]' });
await build({ ...common, entryPoints: { outpost: 'tui/main.ts' }, splitting: false, external: [...common.external, './app.mjs'] });
// A plain interpreter line: V8 flags given at launch would cost 15–25 ms of every start (V8 then
// refuses the code cache Node ships for its own modules). The start file sets the TUI's memory
// limits from inside once the first frame is up (tui/cli/node-flags.ts).
await writeFile('dist/outpost.mjs', `#!/usr/bin/env node\n${await readFile('dist/outpost.mjs', 'utf8')}`);
await chmod('dist/outpost.mjs', 0o755);
console.log(`built dist/outpost.mjs in ${Math.round(performance.now() - started)} ms`);
