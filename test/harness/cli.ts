/** Runs the built `outpost` as a user would, against the private engine. */
import { spawn } from 'node:child_process';
import { dockerHost } from './fixtures.js';

export const BIN = 'dist/outpost.mjs';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` (program and arguments) with exactly `env`, collecting its output. */
export function runCommand(command: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `wrap` runs it through another command first (e.g. setpriv to drop privileges). */
export function outpost(args: string[], env: Record<string, string> = {}, wrap: string[] = []): Promise<Run> {
  return runCommand([...wrap, process.execPath, BIN, ...args], { PATH: process.env.PATH ?? '', HOME: '/nonexistent', DOCKER_HOST: dockerHost(), ...env });
}
