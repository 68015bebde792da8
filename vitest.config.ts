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

/** The docs as text, as the builds' esbuild text loader gives them (`outpost docs`). */
const markdownText: Plugin = {
  name: 'outpost-markdown-text',
  enforce: 'pre',
  load(id) {
    return id.endsWith('.md') ? `export default ${JSON.stringify(readFileSync(id, 'utf8'))};` : null;
  },
};

const ALL = ['test/**/*.test.{ts,tsx}'];
/** The tests that touch no engine: pure code, and components and tray logic on fakes of what is outside them. */
const UNIT = ['test/unit/**/*.test.{ts,tsx}', 'test/components/logs-screen.test.tsx', 'test/components/rules-panel.test.tsx', 'test/components/container-table.test.tsx', 'test/components/host-strip.test.tsx', 'test/desktop/tray-model.test.ts'];

export default defineConfig({
  plugins: [inkOutput, markdownText],
  // Ink is an external dependency for Vite's SSR transform by default, so the plugin above would
  // never see its imports: inline it (and the testing library that loads it).
  ssr: { noExternal: INLINE },
  test: {
    // Two projects: `unit` needs no Docker engine and runs in seconds (`npm run test:unit`); `engine`
    // is every other test, against one private engine that its global setup starts and stops.
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'engine', include: ALL, exclude: UNIT, globalSetup: ['test/harness/global-setup.ts'] } },
    ],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No retries: a flaky test is a bug to fix, not to hide.
    retry: 0,
    reporters: ['default', './test/harness/summary-reporter.ts'],
    server: { deps: { inline: INLINE } },
  },
});
