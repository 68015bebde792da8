/**
 * `npm run bench -- engine [N]`: a private engine with N (50) containers each printing a
 * line a second, the benchmarks' setup, left running for profiling by hand until Ctrl-C.
 * Prints the DOCKER_HOST to use; never touches the machine's own engine.
 */
import Docker from 'dockerode';
import { startPrivateEngine } from '../test/harness/engine.js';
import { importTestImage } from '../test/harness/image.js';
import { runTickers } from './lib.js';

export async function runDevEngine(count: number): Promise<void> {
  const engine = await startPrivateEngine('dev');
  await importTestImage(engine.dockerHost);
  const d = new Docker({ socketPath: engine.socket });
  await runTickers(d, count);
  console.log(`DOCKER_HOST=${engine.dockerHost}  (${count} containers; Ctrl-C stops the engine)`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await engine.dispose();
}
