import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_MEMORY_FLAGS } from '../../tui/cli/node-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Each case runs in its own Node (flags are per process): it allocates the way a log flood
 * does (short-lived lines, a bounded set kept) and reports its heap spaces.
 */
async function heapAfterFlood(mode: 'none' | 'runtime' | 'cli'): Promise<{ newSpace: number; total: number }> {
  const { buildSync } = await import('esbuild');
  const mod = join(dir, 'node-flags.mjs');
  buildSync({ entryPoints: [new URL('../../tui/cli/node-flags.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: mod, logLevel: 'error' });
  const script = join(dir, 'flood.mjs');
  writeFileSync(
    script,
    `import v8 from 'node:v8';
     if (process.argv[2] === 'runtime') await (await import(${JSON.stringify(mod)})).applyMemoryFlags();
     const kept = [];
     for (let round = 0; round < 150; round++) {
       for (let i = 0; i < 20000; i++) {
         const line = { text: 'line ' + i + ' of round ' + round + ' '.repeat(i % 40), seq: i };
         if (i % 50 === 0) { kept.push(line); if (kept.length > 50000) kept.shift(); }
       }
       await new Promise((r) => setImmediate(r));
     }
     const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
     console.log(JSON.stringify({ newSpace: space.space_size, total: v8.getHeapStatistics().total_heap_size }));`,
  );
  const flags = mode === 'cli' ? [...NODE_MEMORY_FLAGS] : [];
  return JSON.parse(execFileSync(process.execPath, [...flags, script, mode], { encoding: 'utf8' })) as { newSpace: number; total: number };
}

describe('memory limits set from inside the process', () => {
  it('keep the young generation at 1 MiB per semi-space, as the command-line flags do', async () => {
    const [none, runtime, cli] = [await heapAfterFlood('none'), await heapAfterFlood('runtime'), await heapAfterFlood('cli')];
    const MiB = 1024 * 1024;
    // Two semi-spaces of 1 MiB each.
    expect(runtime.newSpace).toBeLessThanOrEqual(2 * MiB);
    expect(runtime.newSpace).toBe(cli.newSpace);
    // Without them V8 grows the young generation under this load.
    expect(none.newSpace).toBeGreaterThan(4 * MiB);
    expect(runtime.total).toBeLessThan(none.total);
  });

  it('are not on the bin’s interpreter line, where they would cost every start; the start file applies them', () => {
    const bin = readFileSync(new URL('../../dist/outpost.mjs', import.meta.url), 'utf8');
    expect(bin.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(bin).toContain('--semi-space-growth-factor=1');
  });
});
