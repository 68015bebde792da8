/**
 * The tray app's main-process logic, with the Electron shell behind a small
 * interface: the tray and its menu, notifications, windows, IPC answers and
 * events. The real shell (electron-shell.ts) only forwards; tests drive this
 * class with a fake shell and the real core against a real engine.
 */
import { randomBytes } from 'node:crypto';
import type { Fleet } from '../../../core/fleet.js';
import type { Disposer, HostMetrics, LogLine } from '../../../core/model/types.js';
import type { LogStream, Node } from '../../../core/node.js';
import { NotAllowedError } from '../../../core/model/errors.js';
import { envelopeOf, type Envelope } from '../../../core/model/envelope.js';
import type { RulesPort } from '../../../core/rules/port.js';
import { BadRequest, type Calls, type Channel, type EventName, type Events, type FleetState, type PeerPreview, type PeerRow, type Settings } from '../shared/ipc.js';
import { validate } from './ipc-validate.js';
import type { PeerFactory } from '../../../core/peers/fleet-from-config.js';
import { NotificationPolicy, type DesktopNotification } from './notify-policy.js';
import { buildMenu, trayLook, type MenuAction, type MenuItem, type TrayLook } from './tray-model.js';

export interface Shell {
  setTray(look: TrayLook, menu: MenuItem[]): void;
  notify(n: DesktopNotification): void;
  showWindow(kind: 'dashboard' | 'settings'): void;
  send<E extends EventName>(event: E, payload: Events[E]): void;
  setLoginItem(enabled: boolean): void;
  quit(): void;
}

export interface SettingsStore {
  get(): Settings;
  set(patch: Partial<Settings>): Settings;
}

export interface ControllerOptions {
  fleet: Fleet;
  shell: Shell;
  settings: SettingsStore;
  now?: () => number;
  policy?: NotificationPolicy;
  /** Host samples for the charts (default every 5 s; an hour of them is kept). */
  hostIntervalMs?: number;
  /**
   * Where the peers file is (its XDG variables): the settings page adds,
   * renames and removes peers there and the fleet follows. Absent: the
   * peer calls are refused.
   */
  peersEnv?: NodeJS.ProcessEnv;
  /** Builds an added agent peer's node (default: RemoteNode). */
  peerFactory?: PeerFactory;
}

const HOST_HISTORY = 720;
const MAX_LOG_STREAMS = 8;
const LOG_BATCH_MS = 100;
const LOG_BATCH_LINES = 500;

export class DesktopController {
  #o: ControllerOptions;
  #now: () => number;
  #policy: NotificationPolicy;
  #disposers: Disposer[] = [];
  #refreshTimer: NodeJS.Timeout | null = null;
  #lastTray = '';
  #hosts = new Map<string, HostMetrics[]>();
  #streams = new Map<string, LogStream>();
  /** Per node with a rule engine: whether an agent runs and whether its rules are paused (asked through `node.rules`). */
  #rules = new Map<string, { agentRunning: boolean | null; problems: string[]; paused: boolean }>();
  #agentTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#policy = options.policy ?? new NotificationPolicy({ now: this.#now });
  }

  /** Subscribes to the fleet; nodes added later are followed too (the Fleet's subscriptions are live). */
  start(): void {
    const { fleet } = this.#o;
    this.#disposers.push(fleet.watch(() => this.#refreshSoon()));
    this.#disposers.push(
      fleet.watchStatus((name, status) => {
        this.#refreshSoon();
        const n = this.#policy.fromStatus(name, status);
        if (n) this.#notify(n);
      }),
    );
    this.#disposers.push(fleet.onNodesChanged(() => this.#refreshSoon()));
    this.#disposers.push(
      fleet.each((node) =>
        node.watchHost(
          (h) => {
            const list = this.#hosts.get(node.name) ?? [];
            list.push(h);
            if (list.length > HOST_HISTORY) list.splice(0, list.length - HOST_HISTORY);
            this.#hosts.set(node.name, list);
            this.#o.shell.send('host:sample', h);
          },
          { intervalMs: this.#o.hostIntervalMs ?? 5000 },
        ),
      ),
    );
    // Each node's rule engine, through its port: its journal becomes events and notifications.
    this.#disposers.push(
      fleet.each((node) => {
        const rules = node.rules;
        if (!rules) return () => undefined;
        void this.#checkRules(node.name, rules);
        const stop = rules.followJournal((raw) => {
          // A peer's agent calls its own node by its own name (often `local`): here it is the fleet's name for it.
          const e = { ...raw, node: node.name };
          this.#o.shell.send('journal:entry', e);
          const n = this.#policy.fromJournal(node.name, e, { thisMachine: node.isThisMachine });
          if (n) this.#notify(n);
          if (e.kind === 'agent') void this.#checkRules(node.name, rules);
        });
        return () => {
          stop();
          this.#rules.delete(node.name);
          this.#hosts.delete(node.name);
        };
      }),
    );
    this.#agentTimer = setInterval(() => {
      for (const node of fleet.nodes()) if (node.rules) void this.#checkRules(node.name, node.rules);
    }, 10_000);
    this.#agentTimer.unref?.();
    this.#refresh();
  }

  /** Asks a node's rule engine whether its agent runs and its rules are paused; refreshes the tray when that changed. */
  async #checkRules(name: string, rules: RulesPort): Promise<void> {
    let next: { agentRunning: boolean | null; problems: string[]; paused: boolean };
    try {
      const [agent, paused] = await Promise.all([rules.agent(), rules.paused({})]);
      next = { agentRunning: agent.running, problems: agent.problems ?? [], paused };
    } catch {
      next = { agentRunning: null, problems: [], paused: false };
    }
    if (this.#closed || !this.#o.fleet.nodes().some((n) => n.name === name)) return;
    const old = this.#rules.get(name);
    this.#rules.set(name, next);
    if (old?.agentRunning !== next.agentRunning || old?.paused !== next.paused || old?.problems.join('\n') !== next.problems.join('\n')) this.#refreshSoon();
  }

  #notify(n: DesktopNotification): void {
    if (this.#o.settings.get().notifications) this.#o.shell.notify(n);
  }

  state(): FleetState {
    return {
      nodes: this.#o.fleet.nodes().map((n) => {
        const r = this.#rules.get(n.name);
        return {
          name: n.name,
          kind: n.kind,
          isThisMachine: n.isThisMachine,
          status: n.status(),
          containers: n.containers(),
          agentRunning: n.rules ? (r?.agentRunning ?? null) : null,
          agentProblems: r?.problems ?? [],
          rulesPaused: r?.paused ?? false,
        };
      }),
    };
  }

  /** A node's rule engine; a node without one is told, not guessed at. */
  #rulesOf(name: string | undefined): { node: Node; rules: RulesPort } {
    const node = name !== undefined ? this.#node(name) : this.#o.fleet.thisMachine();
    if (!node) throw new BadRequest('no node is this machine; name the node', 'node');
    if (!node.rules) throw new NotAllowedError(`The node ${node.name} has no rule engine Outpost can reach (an engine-only peer has no agent).`, { node: node.name });
    return { node, rules: node.rules };
  }

  async #setPaused(name: string, paused: boolean): Promise<void> {
    const { node, rules } = this.#rulesOf(name);
    if (paused) await rules.pause({});
    else await rules.resume({});
    await this.#checkRules(node.name, rules);
    this.#refresh();
  }

  #refreshSoon(): void {
    if (this.#refreshTimer) return;
    // Model changes come in bursts (a compose up, a resync): one menu rebuild for the burst.
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      this.#refresh();
    }, 50);
  }

  #refresh(): void {
    const state = this.state();
    const look = trayLook(state);
    const menu = buildMenu(state);
    const key = JSON.stringify([look, menu]);
    if (key !== this.#lastTray) {
      this.#lastTray = key;
      this.#o.shell.setTray(look, menu);
    }
    this.#o.shell.send('fleet:changed', state);
  }

  #node(name: string): Node {
    return this.#o.fleet.get(name);
  }

  /** A click in the tray menu. */
  async onMenu(action: MenuAction): Promise<void> {
    switch (action.kind) {
      case 'container': {
        const node = this.#node(action.node);
        try {
          await node[action.action](action.id);
        } catch (err) {
          // A fenced container: the notification says why; clicking it opens the dashboard on it, where Start asks to override.
          this.#o.shell.notify({
            title: (err as { code?: unknown } | null)?.code === 'FENCED' ? `${action.name} is fenced: not started` : `Could not ${action.action} ${action.name}`,
            body: err instanceof Error ? err.message : String(err),
            target: { node: action.node, container: action.name },
          });
        }
        return;
      }
      case 'logs':
        this.#o.shell.showWindow('dashboard');
        this.#o.shell.send('navigate', { node: action.node, container: action.name });
        return;
      case 'dashboard':
        this.#o.shell.showWindow('dashboard');
        if (action.node) this.#o.shell.send('navigate', { node: action.node, container: action.container ?? null });
        return;
      case 'settings':
        this.#o.shell.showWindow('settings');
        return;
      case 'pause-rules':
        try {
          await this.#setPaused(action.node, action.paused);
        } catch (err) {
          this.#o.shell.notify({
            title: `Could not ${action.paused ? 'pause' : 'resume'} the rules on ${action.node}`,
            body: err instanceof Error ? err.message : String(err),
            target: { node: action.node, container: null },
          });
        }
        return;
      case 'quit':
        this.#o.shell.quit();
        return;
    }
  }

  /** A click on a notification: the dashboard, on what it was about. */
  onNotificationClick(n: DesktopNotification): void {
    this.#o.shell.showWindow('dashboard');
    this.#o.shell.send('navigate', n.target);
  }

  /** A window's call: validated, carried out, answered as an envelope. Never throws. */
  async handle(channel: string, raw: unknown): Promise<Envelope<unknown>> {
    return envelopeOf(() => {
      const { channel: c, args } = validate(channel, raw);
      return this.#call(c, args);
    });
  }

  async #call(channel: Channel, args: unknown): Promise<unknown> {
    switch (channel) {
      case 'fleet:get':
        return this.state();
      case 'container:action': {
        const a = args as Calls['container:action']['args'];
        const n = this.#node(a.node);
        const override = a.overrideFence === true ? { overrideFence: true } : {};
        // A container failover fenced is refused (FENCED) unless the window asked and the person confirmed.
        if (a.action === 'start') await n.start(a.id, override);
        else if (a.action === 'restart') await n.restart(a.id, override);
        else await n.stop(a.id);
        return { done: a.action };
      }
      case 'logs:open': {
        const a = args as Calls['logs:open']['args'];
        if (this.#streams.size >= MAX_LOG_STREAMS) throw new BadRequest(`at most ${MAX_LOG_STREAMS} log streams at once; close one first`);
        const stream = await this.#node(a.node).logs(a.id, { follow: true, tail: a.tail, timestamps: false });
        const id = randomBytes(8).toString('hex');
        this.#streams.set(id, stream);
        void this.#pump(id, stream);
        return { stream: id };
      }
      case 'logs:close': {
        const a = args as Calls['logs:close']['args'];
        const s = this.#streams.get(a.stream);
        s?.close();
        this.#streams.delete(a.stream);
        return { closed: s !== undefined };
      }
      case 'host:history': {
        const a = args as Calls['host:history']['args'];
        this.#node(a.node);
        return this.#hosts.get(a.node) ?? [];
      }
      case 'journal:get': {
        const a = args as Calls['journal:get']['args'];
        return [...(await this.#rulesOf(a.node).rules.journal({ limit: a.limit }))];
      }
      case 'settings:get':
        return this.#o.settings.get();
      case 'settings:set': {
        const a = args as Calls['settings:set']['args'];
        const next = this.#o.settings.set(a);
        if (a.startAtLogin !== undefined) this.#o.shell.setLoginItem(next.startAtLogin);
        return next;
      }
      case 'rules:check': {
        const a = args as Calls['rules:check']['args'];
        const f = await this.#rulesOf(a.node).rules.rulesFile();
        return { file: f.path, missing: f.missing ?? f.text === null, rules: f.rules ?? [], problems: f.problems ?? [] };
      }
      case 'rules:pause': {
        const a = args as Calls['rules:pause']['args'];
        await this.#setPaused(a.node, a.paused);
        return { paused: a.paused };
      }
      case 'peers:list':
        return this.#peers();
      case 'peers:preview':
        return this.#previewPeer(args as Calls['peers:preview']['args']);
      case 'peers:add': {
        const a = args as Calls['peers:add']['args'];
        const book = await import('../../../core/peers/book.js');
        const env = this.#peersEnv();
        const plan = await book.planPeer(env, a, book.formLabel);
        let warning: string | null = null;
        if (plan.kind === 'agent') {
          // The page shows the fingerprint and sends back the one the person confirmed; nothing is pinned unseen.
          if (!plan.fingerprint) throw new BadRequest('fingerprint: confirm the agent\'s fingerprint first (it is shown when the join code or URL is checked)', 'fingerprint');
          await book.redeemJoinCode(env, plan, book.formLabel);
          ({ warning } = await book.verifyAgentPeer(plan.url, plan.fingerprint, plan.token as string, book.formLabel));
        }
        const peer = book.savePeer(env, plan);
        await this.#syncPeers();
        return { name: peer.name, warning };
      }
      case 'peers:rename': {
        const a = args as Calls['peers:rename']['args'];
        const book = await import('../../../core/peers/book.js');
        book.renamePeer(this.#peersEnv(), a.from, a.to, { from: 'from', to: 'to' });
        await this.#syncPeers();
        return { name: a.to };
      }
      case 'peers:remove': {
        const a = args as Calls['peers:remove']['args'];
        const book = await import('../../../core/peers/book.js');
        book.removePeer(this.#peersEnv(), a.name, 'name');
        await this.#syncPeers();
        return { removed: a.name };
      }
    }
  }

  #peersEnv(): NodeJS.ProcessEnv {
    const env = this.#o.peersEnv;
    if (!env) throw new NotAllowedError('Peers cannot be changed from this window (no peers file is in use).');
    return env;
  }

  async #peers(): Promise<PeerRow[]> {
    const { readPeers } = await import('../../../core/peers/config.js');
    const { showFingerprint } = await import('../../../core/peers/book.js');
    return readPeers(this.#peersEnv()).map((p) => {
      const node = this.#o.fleet.nodes().find((n) => n.name === p.name);
      return { name: p.name, kind: p.kind, url: p.url, fingerprint: p.fingerprint ? showFingerprint(p.fingerprint) : null, status: node ? node.status() : null };
    });
  }

  async #previewPeer(a: Calls['peers:preview']['args']): Promise<PeerPreview> {
    const book = await import('../../../core/peers/book.js');
    const plan = await book.planPeer(this.#peersEnv(), a, book.formLabel);
    if (plan.kind === 'engine') return { name: plan.name, kind: plan.kind, url: plan.url, fingerprint: null, fingerprintFrom: null };
    if (plan.fingerprint) return { name: plan.name, kind: plan.kind, url: plan.url, fingerprint: book.showFingerprint(plan.fingerprint), fingerprintFrom: 'join code' };
    let fp: string;
    try {
      fp = await book.fetchFingerprint(plan.url);
    } catch (err) {
      throw new BadRequest(`target: cannot fetch the certificate of ${plan.url} (${err instanceof Error ? err.message : String(err)}); check the address`, 'target');
    }
    return { name: plan.name, kind: plan.kind, url: plan.url, fingerprint: book.showFingerprint(fp), fingerprintFrom: 'agent' };
  }

  /** The fleet follows the peers file at once (the page and the tray show the change). */
  async #syncPeers(): Promise<void> {
    const { syncFleet } = await import('../../../core/peers/fleet-from-config.js');
    await syncFleet(this.#o.fleet, this.#peersEnv(), this.#o.peerFactory ? { factory: this.#o.peerFactory } : {});
    this.#refresh();
  }

  /** Sends a stream's lines in batches (≤ 10 a second), so a flood cannot swamp the window. */
  async #pump(id: string, stream: LogStream): Promise<void> {
    let batch: LogLine[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      if (batch.length === 0) return;
      const lines = batch.length > LOG_BATCH_LINES ? batch.slice(-LOG_BATCH_LINES) : batch;
      batch = [];
      this.#o.shell.send('logs:lines', { stream: id, lines });
    };
    let reason = 'the container stopped';
    try {
      for await (const line of stream) {
        batch.push(line);
        if (batch.length > LOG_BATCH_LINES * 4) batch.splice(0, batch.length - LOG_BATCH_LINES);
        if (!timer) timer = setTimeout(flush, LOG_BATCH_MS);
      }
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    } finally {
      if (timer) clearTimeout(timer);
      flush();
      if (this.#streams.has(id)) {
        this.#streams.delete(id);
        this.#o.shell.send('logs:ended', { stream: id, reason });
      }
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    if (this.#agentTimer) clearInterval(this.#agentTimer);
    for (const d of this.#disposers.splice(0)) d();
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
  }
}
