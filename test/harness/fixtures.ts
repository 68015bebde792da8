/**
 * Builds test containers on the private engine with dockerode directly:
 * fixtures are set up outside the code under test.
 */
import Docker from 'dockerode';
import { inject } from 'vitest';
import { TEST_IMAGE } from './image.js';

export function dockerHost(): string {
  return inject('dockerHost');
}

export function docker(host = dockerHost()): Docker {
  return new Docker({ socketPath: host.replace(/^unix:\/\//, '') });
}

export interface FixtureOptions {
  name: string;
  cmd: string;
  tty?: boolean;
  labels?: Record<string, string>;
  health?: { cmd: string; intervalMs: number; retries?: number };
  memoryBytes?: number;
  restart?: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  start?: boolean;
  env?: string[];
}

/** Creates (and by default starts) a busybox container running `sh -c cmd`. */
export async function makeContainer(d: Docker, o: FixtureOptions): Promise<Docker.Container> {
  const c = await d.createContainer({
    name: o.name,
    Image: TEST_IMAGE,
    Cmd: ['sh', '-c', o.cmd],
    Tty: o.tty === true,
    Labels: { 'outpost.test': '1', ...(o.labels ?? {}) },
    ...(o.env ? { Env: o.env } : {}),
    ...(o.health
      ? {
          Healthcheck: {
            Test: ['CMD-SHELL', o.health.cmd],
            Interval: o.health.intervalMs * 1e6,
            Timeout: 1e9,
            Retries: o.health.retries ?? 1,
            StartPeriod: 0,
          },
        }
      : {}),
    HostConfig: {
      NetworkMode: 'none',
      ...(o.memoryBytes ? { Memory: o.memoryBytes } : {}),
      ...(o.restart ? { RestartPolicy: { Name: o.restart } } : {}),
    },
  });
  if (o.start !== false) await c.start();
  return c;
}

/** Removes every container whose name starts with `prefix`. */
export async function removeByPrefix(d: Docker, prefix: string): Promise<void> {
  const all = await d.listContainers({ all: true });
  await Promise.all(
    all
      .filter((c) => (c.Names ?? []).some((n) => n.replace(/^\//, '').startsWith(prefix)))
      .map((c) => d.getContainer(c.Id).remove({ force: true }).catch(() => undefined)),
  );
}

/** Polls `check` until it returns a value (not undefined/false) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
