/**
 * The contract between the tray app's main process and its windows. Both
 * sides import this file; the preload exposes exactly these calls. Every
 * answer is core's envelope (core/model/envelope.ts): `{result}` or
 * `{error: {code, message, details?}}`, so a failure crosses the process
 * boundary as data, never as a thrown object, and the window gets the same
 * named error class back.
 */
import type { ContainerSummary, HostMetrics, LogLine, NodeStatus } from '../../../core/model/types.js';
import type { JournalEntry } from '../../../core/rules/types.js';
import { BadInputError } from '../../../core/model/errors.js';
import type { Envelope } from '../../../core/model/envelope.js';

export type { Envelope, SerializedError } from '../../../core/model/envelope.js';

export type ContainerAction = 'start' | 'stop' | 'restart';

export interface NodeState {
  name: string;
  /** How the node is reached: straight through a Docker engine, or through a peer's agent. */
  kind: 'engine' | 'agent';
  /** Whether it is this machine: the tray decides from this, never from a position. */
  isThisMachine: boolean;
  status: NodeStatus;
  containers: ContainerSummary[];
  /** Whether an agent enforces rules on this node: null when unknown (a node without a rule engine to ask). */
  agentRunning: boolean | null;
  rulesPaused: boolean;
}

export interface FleetState {
  nodes: NodeState[];
}

export interface Settings {
  /** Desktop notifications when a rule acts or gives up, or a node becomes unreachable. */
  notifications: boolean;
  startAtLogin: boolean;
}

export interface RulesCheck {
  file: string;
  missing: boolean;
  rules: string[];
  problems: string[];
}

/** Calls from a window to the main process: argument and result types per channel. */
export interface Calls {
  'fleet:get': { args: Record<string, never>; result: FleetState };
  'container:action': { args: { node: string; id: string; action: ContainerAction }; result: { done: string } };
  'logs:open': { args: { node: string; id: string; tail: number }; result: { stream: string } };
  'logs:close': { args: { stream: string }; result: { closed: boolean } };
  'host:history': { args: { node: string }; result: HostMetrics[] };
  /** The journal of a node's rule engine (default: this machine's). */
  'journal:get': { args: { limit: number; node?: string }; result: JournalEntry[] };
  'settings:get': { args: Record<string, never>; result: Settings };
  'settings:set': { args: Partial<Settings>; result: Settings };
  'rules:check': { args: { node?: string }; result: RulesCheck };
  'rules:pause': { args: { node: string; paused: boolean }; result: { paused: boolean } };
}

export type Channel = keyof Calls;
export const CHANNELS = [
  'fleet:get',
  'container:action',
  'logs:open',
  'logs:close',
  'host:history',
  'journal:get',
  'settings:get',
  'settings:set',
  'rules:check',
  'rules:pause',
] as const satisfies readonly Channel[];

/** Messages from the main process to the windows. */
export interface Events {
  'fleet:changed': FleetState;
  'logs:lines': { stream: string; lines: LogLine[] };
  'logs:ended': { stream: string; reason: string };
  'journal:entry': JournalEntry;
  'host:sample': HostMetrics;
  /** Open the dashboard on a container (a notification was clicked). */
  navigate: { node: string; container: string | null };
}

export type EventName = keyof Events;
export const EVENTS = ['fleet:changed', 'logs:lines', 'logs:ended', 'journal:entry', 'host:sample', 'navigate'] as const satisfies readonly EventName[];

/** What the preload puts on `window.outpost`. */
export interface OutpostApi {
  call<C extends Channel>(channel: C, args: Calls[C]['args']): Promise<Envelope<Calls[C]['result']>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}

/** A malformed request from a window: what was wrong, in words, and the field (`details.field`). */
export class BadRequest extends BadInputError {
  constructor(message: string, field?: string) {
    super(message, field !== undefined ? { field } : {});
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown, what: string, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new BadRequest(`${what} must be a non-empty string of at most ${max} characters`, what);
  return v;
}

function onlyKeys(v: Record<string, unknown>, keys: string[], channel: string): void {
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new BadRequest(`${channel}: unknown field \`${k.slice(0, 40)}\``, k.slice(0, 40));
}

/**
 * Checks a window's request before anything acts on it: a compromised or
 * buggy renderer gets a precise error, never a crash or an action it did not
 * spell out exactly.
 */
export function validate<C extends Channel>(channel: string, raw: unknown): { channel: C; args: Calls[C]['args'] } {
  if (!(CHANNELS as readonly string[]).includes(channel)) throw new BadRequest(`unknown channel \`${String(channel).slice(0, 40)}\``, 'channel');
  const args = raw === undefined ? {} : raw;
  if (!isObj(args)) throw new BadRequest(`${channel}: arguments must be an object`, 'args');
  const c = channel as Channel;
  switch (c) {
    case 'fleet:get':
    case 'settings:get':
      onlyKeys(args, [], c);
      break;
    case 'rules:check':
      onlyKeys(args, ['node'], c);
      if (args.node !== undefined) str(args.node, 'node', 64);
      break;
    case 'container:action':
      onlyKeys(args, ['node', 'id', 'action'], c);
      str(args.node, 'node', 64);
      if (typeof args.id !== 'string' || !/^[0-9a-f]{12,64}$/.test(args.id)) throw new BadRequest('id must be a container ID (12 to 64 hex digits)', 'id');
      if (args.action !== 'start' && args.action !== 'stop' && args.action !== 'restart') throw new BadRequest('action must be start, stop or restart', 'action');
      break;
    case 'logs:open':
      onlyKeys(args, ['node', 'id', 'tail'], c);
      str(args.node, 'node', 64);
      if (typeof args.id !== 'string' || !/^[0-9a-f]{12,64}$/.test(args.id)) throw new BadRequest('id must be a container ID (12 to 64 hex digits)', 'id');
      if (typeof args.tail !== 'number' || !Number.isInteger(args.tail) || args.tail < 0 || args.tail > 10_000) throw new BadRequest('tail must be a whole number from 0 to 10000', 'tail');
      break;
    case 'logs:close':
      onlyKeys(args, ['stream'], c);
      str(args.stream, 'stream', 64);
      break;
    case 'host:history':
      onlyKeys(args, ['node'], c);
      str(args.node, 'node', 64);
      break;
    case 'journal:get':
      onlyKeys(args, ['limit', 'node'], c);
      if (typeof args.limit !== 'number' || !Number.isInteger(args.limit) || args.limit < 1 || args.limit > 5000) throw new BadRequest('limit must be a whole number from 1 to 5000', 'limit');
      if (args.node !== undefined) str(args.node, 'node', 64);
      break;
    case 'settings:set':
      onlyKeys(args, ['notifications', 'startAtLogin'], c);
      for (const k of ['notifications', 'startAtLogin']) if (args[k] !== undefined && typeof args[k] !== 'boolean') throw new BadRequest(`${k} must be true or false`, k);
      break;
    case 'rules:pause':
      onlyKeys(args, ['node', 'paused'], c);
      str(args.node, 'node', 64);
      if (typeof args.paused !== 'boolean') throw new BadRequest('paused must be true or false', 'paused');
      break;
  }
  return { channel: c as C, args: args as Calls[C]['args'] };
}
