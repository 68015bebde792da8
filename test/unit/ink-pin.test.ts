/**
 * Outpost replaces Ink's frame builder (ink/build/output.js, see
 * scripts/esbuild-plugins.mjs) and its key handling reads the event emitter
 * that Ink's App hands to its stdin context (tui/app/use-keys.ts). Both were
 * written against one Ink release, so Ink is pinned to it, and this test fails
 * when the files they depend on are not the ones they were written for: an
 * upgrade must re-read them, then record the new digests here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PINNED = '6.8.0';
const DIGESTS: Record<string, string> = {
  'output.js': 'de9078c7fc647c40cf9e32d6658fcbbee91dae9e3f6334e5f4ebfc5905fc401d',
  'components/App.js': '228005c346f023a152f8b0469f5e6528470ca2add3a41b69f7aea263b726ca4e',
  'components/StdinContext.js': '71332850f9602899bf7da3a696c6827aea461e05902f792443919cf8e886e7d3',
};

const build = dirname(createRequire(import.meta.url).resolve('ink'));
const root = join(import.meta.dirname, '..', '..');

describe('Ink is the release the patches were written for', () => {
  it('package.json pins Ink exactly, and that is the installed version', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.ink).toBe(PINNED);
    const installed = JSON.parse(readFileSync(join(build, '..', 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(PINNED);
  });

  it.each(Object.entries(DIGESTS))('ink/build/%s is unchanged', (file, digest) => {
    expect(createHash('sha256').update(readFileSync(join(build, file))).digest('hex')).toBe(digest);
  });

  it('the check can fail: a changed byte changes the digest', () => {
    const text = readFileSync(join(build, 'output.js'));
    text.writeUInt8((text[0] ?? 0) ^ 1, 0);
    expect(createHash('sha256').update(text).digest('hex')).not.toBe(DIGESTS['output.js']);
  });
});
