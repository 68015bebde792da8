import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { outpost } from '../harness/cli.js';

let burner: ChildProcess | null = null;
afterAll(() => burner?.kill('SIGKILL'));

describe('outpost host, one shot', () => {
  it('reports CPU as a rate over two readings, not the 0.0 % of a single one', async () => {
    // One core kept busy: on any machine that is at least 1/cores of the CPU.
    burner = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end);'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const r = await outpost(['host', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as { cpuPercent: number; cores: number; netRxBytesPerSec?: number };
    expect(h.cpuPercent).toBeGreaterThanOrEqual((100 / h.cores) * 0.5);
    const text = await outpost(['host']);
    const shown = Number(/cpu:\s+(\d+(?:\.\d+)?)% of \d+ cores/.exec(text.stdout)?.[1]);
    expect(shown).toBeGreaterThanOrEqual((100 / h.cores) * 0.5);
  });
});
