/**
 * The input schemas every process boundary shares (zod): the agent's API
 * (core/api/routes.ts) and the tray's IPC (desktop/src/main/ipc-validate.ts)
 * check names, IDs, tails and peers with the same rules and the same words.
 */
import { z } from 'zod';
import { NAME_RULE, nameProblem, normalizeFingerprint } from '../peers/config.js';

/** A container name or ID prefix: Docker's name alphabet, so no `/`, `..`, NUL or `%` gets through. */
export const refSchema = z
  .string()
  .min(1, 'a container name or ID is required')
  .max(256, 'at most 256 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a container name or ID: letters, digits, `_`, `.` and `-`, starting with a letter or digit');

/** A full or short container ID (what a face that lists containers sends back). */
export const containerIdSchema = z.string().regex(/^[0-9a-f]{12,64}$/, 'a container ID (12 to 64 hex digits)');

/** A token's or a rule's name. */
export const nameSchema = z
  .string()
  .min(1, 'a name is required')
  .max(64, 'at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, `_`, `.` and `-`, starting with a letter or digit');

/** A node's name as the fleet knows it (this machine's, or a peer's). */
export const nodeNameSchema = z.string().min(1, 'a node name is required').max(64, 'at most 64 characters');

/** A peer's name in the peers file. */
export const peerNameSchema = z.string().superRefine((v, ctx) => {
  const why = nameProblem(v);
  if (why) ctx.addIssue({ code: 'custom', message: why.includes('not a valid name') ? NAME_RULE : why });
});

/** A SHA-256 certificate fingerprint: 64 hex digits, with or without colons. */
export const fingerprintSchema = z
  .string()
  .max(200)
  .refine((v) => normalizeFingerprint(v) !== null, 'a SHA-256 fingerprint: 64 hex digits, with or without colons');

/** How many log lines to start with. */
export const tailSchema = z.number().int('a whole number').min(0, 'from 0').max(10_000, 'at most 10000');

/** One zod failure in words: `query.tail: a number; body.signal: …`, and the first field. */
export function describeIssues(where: string, error: z.ZodError): { message: string; field: string } {
  const first = error.issues[0];
  const parts = error.issues.slice(0, 5).map((i) => {
    const path = [where, ...i.path.map(String)].filter(Boolean).join('.');
    return `${path}: ${i.message}`;
  });
  return { message: parts.join('; '), field: [where, ...(first?.path.map(String) ?? [])].filter(Boolean).join('.') };
}

/** A host path for a device, a bind mount's source or a container path: absolute, no `..` step, no NUL. */
const absPath = (what: string) =>
  z
    .string()
    .min(1, `${what} is required`)
    .max(4096, 'at most 4096 characters')
    .refine((p) => p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), `${what}: an absolute path without \`..\``);
const port = z.number().int('a whole number').min(1, 'from 1').max(65535, 'at most 65535');

/** A container to create and start (`POST /v1/containers`, what placement sends a node). */
export const runSpecSchema = z
  .object({
    name: nameSchema,
    image: z.string().min(1, 'an image is required').max(512, 'at most 512 characters'),
    cmd: z.array(z.string().max(64 * 1024)).max(1000).nullable(),
    env: z.array(z.string().max(64 * 1024).regex(/^[^=\0]+=/, 'NAME=value')).max(1000),
    labels: z.record(z.string().max(256), z.string().max(64 * 1024)),
    ports: z
      .array(z.object({ container: port, host: port.nullable(), protocol: z.enum(['tcp', 'udp', 'sctp']), ip: z.union([z.ipv4(), z.ipv6()], { message: 'an IP address' }).nullable() }).strict())
      .max(256),
    volumes: z.array(z.object({ source: z.union([absPath('source'), z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a volume name')]).nullable(), target: absPath('target'), readOnly: z.boolean() }).strict()).max(256),
    devices: z.array(z.object({ host: absPath('host'), container: absPath('container'), permissions: z.string().regex(/^[rwm]{1,3}$/, 'r, w and m') }).strict()).max(256),
    restart: z.object({ name: z.enum(['no', 'on-failure', 'always', 'unless-stopped']), maxRetries: z.number().int().min(0).max(1_000_000).nullable() }).strict(),
    cpus: z.number().min(0).max(1024),
    memoryBytes: z.number().int().min(0).max(2 ** 50),
  })
  .strict();

/** Device paths asked about (`GET /v1/devices?paths=[...]`). */
export const devicePathsSchema = z.array(absPath('a device path').refine((p) => p.startsWith('/dev/'), 'a path under /dev/')).max(64);
