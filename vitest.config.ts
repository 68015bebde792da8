import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * The component tests render through the same Ink frame builder and text measure as the built
 * TUI (see scripts/esbuild-plugins.mjs).
 */
const INK_FAMILY = /[\\/]node_modules[\\/](ink|ink-testing-library|widest-line|cli-truncate|wrap-ansi|slice-ansi)[\\/]/;
const inkOutput: Plugin = {
  name: 'outpost-ink-output',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source === './output.js' && importer && /[\\/]ink[\\/]build[\\/]/.test(importer)) {
      return fileURLToPath(new URL('./tui/app/ink-output.ts', import.meta.url));
    }
    if (source === 'string-width' && importer && INK_FAMILY.test(importer)) {
      return fileURLToPath(new URL('./tui/app/fast-string-width.ts', import.meta.url));
    }
    return null;
  },
  // The inlined packages ship source maps that point at sources they do not ship; Vite would warn
  // about each file on every run. Their code is read without the map.
  load(id) {
    if (!INK_FAMILY.test(id) || !/\.js$/.test(id)) return null;
    return readFileSync(id, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '\n');
  },
};
const INLINE = ['ink', 'ink-testing-library', 'widest-line', 'cli-truncate', 'wrap-ansi', 'slice-ansi'];

export default defineConfig({
  plugins: [inkOutput],
  // Ink is an external dependency for Vite's SSR transform by default, so the plugin above would
  // never see its imports: inline it (and the testing library that loads it).
  ssr: { noExternal: INLINE },
  test: {
    include: ['test/**/*.test.{ts,tsx}', 'core/**/*.test.{ts,tsx}', 'tui/**/*.test.{ts,tsx}'],
    globalSetup: ['test/harness/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No retries: a flaky test is a bug to fix, not to hide.
    retry: 0,
    reporters: ['default', './test/harness/summary-reporter.ts'],
    server: { deps: { inline: INLINE } },
  },
});
