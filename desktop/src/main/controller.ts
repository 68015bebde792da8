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
import { OutpostError } from '../../../core/model/errors.js';
import { loadRulesFile } from '../../../core/agent/agent.js';
import { followJournal, readJournal } from '../../../core/agent/journal.js';
import { formatIssue } from '../../../core/rules/parse.js';
import { agentStatus, defaultRulesFile, readMaintenance, setMaintenance, stateDir } from '../../../core/agent/store.js';
import { BadRequest, validate, type Calls, type Channel, type Envelope, type EventName, type Events, type FleetState, type Settings } from '../shared/ipc.js';
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
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  policy?: NotificationPolicy;
  /** Host samples for the charts (default every 5 s; an hour of them is kept). */
  hostIntervalMs?: number;
}

const HOST_HISTORY = 720;
const MAX_LOG_STREAMS = 8;
const LOG_BATCH_MS = 100;
const LOG_BATCH_LINES = 500;

export class DesktopController {
  #o: ControllerOptions;
  #now: () => number;
  #policy: NotificationPolicy;
  #stateDir: string;
  #rulesFile: string;
  #disposers: Disposer[] = [];
  #refreshTimer: NodeJS.Timeout | null = null;
  #lastTray = '';
  #hosts = new Map<string, HostMetrics[]>();
  #streams = new Map<string, LogStream>();
  #agentRunning: boolean | null = null;
  #agentTimer: NodeJS.Timeout | null = null;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#policy = options.policy ?? new NotificationPolicy({ now: this.#now });
    const env = options.env ?? process.env;
    this.#stateDir = stateDir(env);
    this.#rulesFile = defaultRulesFile(env);
  }

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
    for (const node of fleet.nodes()) {
      this.#disposers.push(
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
      );
    }
    // The local node's rule engine writes its journal here; the tray reads it, never writes it.
    const local = fleet.nodes()[0];
    if (local) {
      this.#disposers.push(
        followJournal(this.#stateDir, (e) => {
          this.#o.shell.send('journal:entry', e);
          const n = this.#policy.fromJournal(local.name, e);
          if (n) this.#notify(n);
          if (e.kind === 'agent') this.#checkAgent();
        }),
      );
    }
    this.#checkAgent();
    this.#agentTimer = setInterval(() => this.#checkAgent(), 10_000);
    this.#agentTimer.unref?.();
    this.#refresh();
  }

  #checkAgent(): void {
    const running = agentStatus(this.#stateDir).running;
    if (running !== this.#agentRunning) {
      this.#agentRunning = running;
      this.#refreshSoon();
    }
  }

  #notify(n: DesktopNotification): void {
    if (this.#o.settings.get().notifications) this.#o.shell.notify(n);
  }

  #rulesPaused(): boolean {
    const m = readMaintenance(this.#stateDir).maintenance.node;
    return !!m && (m.until === null || m.until > this.#now());
  }

  state(): FleetState {
    const nodes = this.#o.fleet.nodes();
    return {
      nodes: nodes.map((n, i) => ({
        name: n.name,
        status: n.status(),
        containers: n.containers(),
        agentRunning: i === 0 ? this.#agentRunning : null,
        rulesPaused: i === 0 ? this.#rulesPaused() : false,
      })),
    };
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
          this.#o.shell.notify({
            title: `Could not ${action.action} ${action.name}`,
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
        setMaintenance(this.#stateDir, {}, action.paused ? { pauseUntil: null } : 'resume');
        this.#refresh();
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
    try {
      const { channel: c, args } = validate(channel, raw);
      return { result: await this.#call(c, args) };
    } catch (err) {
      if (err instanceof BadRequest) return { error: { code: 'BAD_REQUEST', message: err.message } };
      if (err instanceof OutpostError) return { error: { code: err.code, message: err.message } };
      return { error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } };
    }
  }

  async #call(channel: Channel, args: unknown): Promise<unknown> {
    switch (channel) {
      case 'fleet:get':
        return this.state();
      case 'container:action': {
        const a = args as Calls['container:action']['args'];
        await this.#node(a.node)[a.action](a.id);
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
        return readJournal(this.#stateDir, { limit: a.limit }).entries;
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
        const r = loadRulesFile(this.#rulesFile);
        return { file: this.#rulesFile, missing: r.missing, rules: r.ruleSet.rules.map((x) => x.name), problems: r.issues.map(formatIssue) };
      }
      case 'rules:pause': {
        const a = args as Calls['rules:pause']['args'];
        if (a.node !== this.#o.fleet.nodes()[0]?.name) throw new BadRequest('rules can only be paused on this node for now (peers come with the agent API)');
        setMaintenance(this.#stateDir, {}, a.paused ? { pauseUntil: null } : 'resume');
        this.#refresh();
        return { paused: a.paused };
      }
    }
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
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    if (this.#agentTimer) clearInterval(this.#agentTimer);
    for (const d of this.#disposers.splice(0)) d();
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
  }
}
