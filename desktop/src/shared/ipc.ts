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
  /** What is wrong with the running agent's state, in words (a full disk, a rules file it could not load); absent: nothing known. */
  agentProblems?: string[];
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
  /**
   * `overrideFence` (start, restart): start even a container that placement failover fenced on its
   * node; without it the node refuses one with FENCED (the window asks first, naming the risk).
   */
  'container:action': { args: { node: string; id: string; action: ContainerAction; overrideFence?: boolean }; result: { done: string } };
  'logs:open': { args: { node: string; id: string; tail: number }; result: { stream: string } };
  'logs:close': { args: { stream: string }; result: { closed: boolean } };
  'host:history': { args: { node: string }; result: HostMetrics[] };
  /** The journal of a node's rule engine (default: this machine's). */
  'journal:get': { args: { limit: number; node?: string }; result: JournalEntry[] };
  'settings:get': { args: Record<string, never>; result: Settings };
  'settings:set': { args: Partial<Settings>; result: Settings };
  'rules:check': { args: { node?: string }; result: RulesCheck };
  'rules:pause': { args: { node: string; paused: boolean }; result: { paused: boolean } };
  /** The peers file's peers (this machine is not one). */
  'peers:list': { args: Record<string, never>; result: PeerRow[] };
  /** What adding this would add, with the certificate's fingerprint to confirm (from the join code, or fetched from the agent). Writes nothing. */
  'peers:preview': { args: { target: string; name?: string; token?: string }; result: PeerPreview };
  /** Adds a peer; an agent's fingerprint must be the confirmed one (it is checked against the live agent first). */
  'peers:add': { args: { target: string; name?: string; token?: string; fingerprint?: string }; result: { name: string; warning: string | null } };
  'peers:rename': { args: { from: string; to: string }; result: { name: string } };
  'peers:remove': { args: { name: string }; result: { removed: string } };
}

export interface PeerRow {
  name: string;
  kind: 'agent' | 'engine';
  url: string;
  /** `AB:CD:…`, or null for an engine peer. */
  fingerprint: string | null;
  status: NodeStatus | null;
}

export interface PeerPreview {
  name: string;
  kind: 'agent' | 'engine';
  url: string;
  /** `AB:CD:…` to compare with what `outpost agent` printed; null for an engine peer. */
  fingerprint: string | null;
  /** Where the fingerprint came from: the join code (already what the agent printed) or the agent's answer now (compare it!). */
  fingerprintFrom: 'join code' | 'agent' | null;
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
  'peers:list',
  'peers:preview',
  'peers:add',
  'peers:rename',
  'peers:remove',
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
