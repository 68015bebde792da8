import type { TestProject } from 'vitest/node';
import { startPrivateEngine, type PrivateEngine } from './engine.js';
import { importTestImage } from './image.js';

let engine: PrivateEngine | null = null;

/** One private engine for the whole run, shared by the integration tests. */
export async function setup(project: TestProject): Promise<void> {
  engine = await startPrivateEngine('shared');
  await importTestImage(engine.dockerHost);
  project.provide('dockerHost', engine.dockerHost);
}

export async function teardown(): Promise<void> {
  await engine?.dispose();
  engine = null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    dockerHost: string;
  }
}
