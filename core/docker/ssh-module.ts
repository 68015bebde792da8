/**
 * ssh2's Client class, loaded on first use. ssh2 is CommonJS: under Node's
 * ESM loader (the built bundle, the single executable) its exports arrive
 * on `default`; under vitest they are named. Either way, the class.
 */
import type { Client } from 'ssh2';

export async function sshClientClass(): Promise<typeof Client> {
  const mod = (await import('ssh2')) as unknown as { Client?: typeof Client; default?: { Client?: typeof Client } };
  const C = mod.Client ?? mod.default?.Client;
  if (!C) throw new Error('the ssh2 module has no Client');
  return C;
}
