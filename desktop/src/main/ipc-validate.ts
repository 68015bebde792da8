/**
 * Checks a window's request before anything acts on it: a compromised or
 * buggy renderer gets a precise error naming the field, never a crash or an
 * action it did not spell out exactly. The schemas are zod's, and the
 * pieces the agent's API also takes (container IDs, node and peer names,
 * fingerprints, log tails) are the same schemas (core/model/schemas.ts).
 */
import { z } from 'zod';
import { containerIdSchema, describeIssues, fingerprintSchema, nodeNameSchema, peerNameSchema, tailSchema } from '../../../core/model/schemas.js';
import { BadRequest, CHANNELS, type Calls, type Channel } from '../shared/ipc.js';

const bool = z.boolean({ message: 'true or false' });
const node = nodeNameSchema;
const none = z.strictObject({});

/** One schema per channel; every object is strict (an unknown field is refused by name). */
const SCHEMAS: { [C in Channel]: z.ZodType } = {
  'fleet:get': none,
  'settings:get': none,
  'peers:list': none,
  'rules:check': z.strictObject({ node: node.optional() }),
  'container:action': z
    .strictObject({ node, id: containerIdSchema, action: z.enum(['start', 'stop', 'restart'], { message: 'start, stop or restart' }), overrideFence: bool.optional() })
    .refine((a) => a.overrideFence === undefined || a.action !== 'stop', { message: 'overrideFence goes with start or restart', path: ['overrideFence'] }),
  'logs:open': z.strictObject({ node, id: containerIdSchema, tail: tailSchema }),
  'logs:close': z.strictObject({ stream: z.string().min(1, 'a stream id is required').max(64, 'at most 64 characters') }),
  'host:history': z.strictObject({ node }),
  'journal:get': z.strictObject({ limit: z.number().int('a whole number').min(1, 'from 1').max(5000, 'at most 5000'), node: node.optional() }),
  'settings:set': z.strictObject({ notifications: bool.optional(), startAtLogin: bool.optional() }),
  'rules:pause': z.strictObject({ node, paused: bool }),
  'peers:preview': z.strictObject({ target: z.string().min(1, 'paste a join code or a URL').max(8192, 'at most 8192 characters'), name: peerNameSchema.optional(), token: z.string().max(4096).optional() }),
  'peers:add': z.strictObject({
    target: z.string().min(1, 'paste a join code or a URL').max(8192, 'at most 8192 characters'),
    name: peerNameSchema.optional(),
    token: z.string().max(4096).optional(),
    fingerprint: fingerprintSchema.optional(),
  }),
  'peers:rename': z.strictObject({ from: peerNameSchema, to: peerNameSchema }),
  'peers:remove': z.strictObject({ name: peerNameSchema }),
};

export function validate<C extends Channel>(channel: string, raw: unknown): { channel: C; args: Calls[C]['args'] } {
  if (!(CHANNELS as readonly string[]).includes(channel)) throw new BadRequest(`unknown channel \`${String(channel).slice(0, 40)}\``, 'channel');
  const args = raw === undefined ? {} : raw;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new BadRequest(`${channel}: arguments must be an object`, 'args');
  const r = SCHEMAS[channel as Channel].safeParse(args);
  if (!r.success) {
    // zod names an unknown key in its message; the field is that key.
    const unknown = r.error.issues.find((i) => i.code === 'unrecognized_keys');
    if (unknown && unknown.code === 'unrecognized_keys') {
      const key = String(unknown.keys[0] ?? '').slice(0, 40);
      throw new BadRequest(`${channel}: unknown field \`${key}\``, key);
    }
    // The field leads the message (`tail: at most 10000`): a page shows it as it is.
    const { message, field } = describeIssues('', r.error);
    throw new BadRequest(message, field);
  }
  return { channel: channel as C, args: r.data as Calls[C]['args'] };
}
