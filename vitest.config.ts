import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

// A plain .mjs build helper: inkReplacement(specifier, importer) → the path that stands in, or undefined.
import { INK_PACKAGES, inkReplacement } from './scripts/esbuild-plugins.mjs';

/** The component tests render through the same Ink frame builder and text measure as the built TUI. */
const INLINE = [...INK_PACKAGES, 'ink-testing-library'];
const INLINED = new RegExp(`[\\\\/]node_modules[\\\\/](${INLINE.join('|')})[\\\\/]`);
const inkOutput: Plugin = {
  name: 'outpost-ink-output',
  enforce: 'pre',
  resolveId(source, importer) {
    return importer ? ((inkReplacement(source, importer) as string | undefined) ?? null) : null;
  },
  // The inlined packages ship source maps that point at sources they do not ship; Vite would warn
  // about each file on every run. Their code is read without the map.
  load(id) {
    if (!INLINED.test(id) || !/\.js$/.test(id)) return null;
    return readFileSync(id, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '\n');
  },
};

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
