// Builds the tray app: the main process and the preload with esbuild (CommonJS,
// Electron loads them), the windows' pages with Vite (React).
import { build as esbuild } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trimDockerode } from '../../scripts/esbuild-plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const started = performance.now();
await rm(out, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['electron', 'cpu-features', '*.node'],
  logLevel: 'warning',
};
await esbuild({
  ...common,
  entryPoints: [join(root, 'src/main/electron-main.ts')],
  outfile: join(out, 'main.cjs'),
  plugins: [trimDockerode],
  define: { 'process.env.NODE_ENV': '"production"', 'import.meta.url': '__outpostImportMetaUrl' },
  banner: { js: "const __outpostImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The preload runs in the sandbox: one self-contained file that only requires `electron`.
await esbuild({ ...common, entryPoints: [join(root, 'src/preload/preload.ts')], outfile: join(out, 'preload.cjs') });

const { build: vite } = await import('vite');
const { default: react } = await import('@vitejs/plugin-react');
await vite({
  root: join(root, 'src/renderer'),
  base: './',
  logLevel: 'warn',
  plugins: [react()],
  build: {
    outDir: join(out, 'renderer'),
    emptyOutDir: true,
    sourcemap: true,
    // No inline scripts or styles: the pages' Content-Security-Policy allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: { input: { dashboard: join(root, 'src/renderer/dashboard.html'), settings: join(root, 'src/renderer/settings.html') } },
  },
});
console.log(`built desktop/dist (main, preload, renderer) in ${Math.round(performance.now() - started)} ms`);
