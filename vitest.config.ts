import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

/** The component tests render through the same Ink frame builder as the built TUI (see scripts/esbuild-plugins.mjs). */
const inkOutput: Plugin = {
  name: 'outpost-ink-output',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source === './output.js' && importer && /[\\/]ink[\\/]build[\\/]/.test(importer)) {
      return fileURLToPath(new URL('./tui/app/ink-output.ts', import.meta.url));
    }
    return null;
  },
};

export default defineConfig({
  plugins: [inkOutput],
  // Ink is an external dependency for Vite's SSR transform by default, so the plugin above would
  // never see its imports: inline it (and the testing library that loads it).
  ssr: { noExternal: ['ink', 'ink-testing-library'] },
  test: {
    include: ['test/**/*.test.{ts,tsx}', 'core/**/*.test.{ts,tsx}', 'tui/**/*.test.{ts,tsx}'],
    globalSetup: ['test/harness/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No retries: a flaky test is a bug to fix, not to hide.
    retry: 0,
    reporters: ['default', './test/harness/summary-reporter.ts'],
    server: { deps: { inline: ['ink', 'ink-testing-library'] } },
  },
});
