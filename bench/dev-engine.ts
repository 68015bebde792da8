/**
 * `npm run bench -- engine [N]`: a private engine with N (50) containers each printing a
 * line a second, the benchmarks' setup, left running for profiling by hand until Ctrl-C.
 * Prints the DOCKER_HOST to use; never touches the machine's own engine.
 */
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { runContainer } from './lib.js';

export async function runDevEngine(count: number): Promise<void> {
  const engine = await startPrivateEngine('dev');
  await importTestImage(engine.dockerHost);
  const d = new Docker({ socketPath: engine.socket });
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, k) =>
      runContainer(d, `bench-${String(i + k).padStart(2, '0')}`, ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done']),
    );
    await Promise.all(batch);
  }
  console.log(`DOCKER_HOST=${engine.dockerHost}  (${count} containers; Ctrl-C stops the engine)`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await engine.dispose();
}
