/**
 * Which desktop notifications to show: when a rule acts or gives up, and
 * when a node becomes unreachable (and comes back). Rate-limited so a crash
 * loop cannot flood the desktop: one notification per container and kind
 * per quiet period, and a small burst budget overall; what is held back is
 * summed up in one notification when the budget allows again.
 */
import type { JournalEntry } from '../../../core/agent/journal.js';
import type { NodeStatus } from '../../../core/model/types.js';

export interface DesktopNotification {
  title: string;
  body: string;
  /** Where a click leads: the dashboard on this container (or node). */
  target: { node: string; container: string | null };
}

export interface PolicyOptions {
  now?: () => number;
  /** Least time between two notifications about the same container and kind (default 5 min). */
  quietMs?: number;
  /** At most this many notifications per `burstWindowMs` overall (default 5 per minute). */
  burst?: number;
  burstWindowMs?: number;
}

export class NotificationPolicy {
  #now: () => number;
  #quiet: number;
  #burst: number;
  #window: number;
  #last = new Map<string, number>();
  #sent: number[] = [];
  #held = 0;
  #lastNode = new Map<string, NodeStatus['state']>();

  constructor(options: PolicyOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#quiet = options.quietMs ?? 300_000;
    this.#burst = options.burst ?? 5;
    this.#window = options.burstWindowMs ?? 60_000;
  }

  /** How many notifications were held back since the last one shown. */
  get held(): number {
    return this.#held;
  }

  #admit(key: string): boolean {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#quiet) {
      this.#held++;
      return false;
    }
    this.#sent = this.#sent.filter((t) => now - t < this.#window);
    if (this.#sent.length >= this.#burst) {
      this.#held++;
      return false;
    }
    this.#sent.push(now);
    this.#last.set(key, now);
    if (this.#last.size > 5000) this.#last.clear();
    return true;
  }

  #withHeld(n: DesktopNotification): DesktopNotification {
    if (this.#held === 0) return n;
    const body = `${n.body}\n(${this.#held} more held back to keep quiet; see the journal)`;
    this.#held = 0;
    return { ...n, body };
  }

  /** A journal entry from a node's agent: a notification, or null. A peer's name is in the title (`… on gw-2`). */
  fromJournal(node: string, e: JournalEntry, where: { thisMachine: boolean } = { thisMachine: true }): DesktopNotification | null {
    let title: string;
    if (e.kind === 'give-up') title = `Outpost gave up on ${e.container ?? 'a container'}`;
    else if (e.kind === 'notify') title = `Outpost: ${e.container ?? node}`;
    else if (e.kind === 'act') title = `Outpost acted on ${e.container ?? 'a container'}`;
    else if (e.kind === 'outcome' && e.ok === false) title = `Outpost could not act on ${e.container ?? 'a container'}`;
    else return null;
    if (!where.thisMachine && e.kind !== 'notify') title += ` on ${node}`;
    else if (!where.thisMachine && e.container) title = `Outpost: ${e.container} on ${node}`;
    // A give-up always matters more than the acts before it: it has its own key.
    if (!this.#admit(`${node}\0${e.container ?? ''}\0${e.kind}`)) return null;
    return this.#withHeld({ title, body: e.reason, target: { node, container: e.container ?? null } });
  }

  /** A node's status change: notifies when it becomes unreachable, and when it is back after that. */
  fromStatus(node: string, status: NodeStatus): DesktopNotification | null {
    const before = this.#lastNode.get(node);
    this.#lastNode.set(node, status.state);
    if (status.state === 'offline' && before !== 'offline') {
      if (!this.#admit(`${node}\0\0offline`)) return null;
      return this.#withHeld({ title: `${node} is unreachable`, body: status.reason, target: { node, container: null } });
    }
    if (status.state === 'online' && before === 'offline') {
      if (!this.#admit(`${node}\0\0online`)) return null;
      return this.#withHeld({ title: `${node} is back`, body: 'The engine answers again.', target: { node, container: null } });
    }
    return null;
  }
}
