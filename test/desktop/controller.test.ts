/**
 * The tray's main-process logic with a fake Electron shell (it records what
 * the shell was asked to do), the real core and the private engine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { LocalRules } from '../../core/agent/local-rules.js';
import { PLACEMENT_STATE_FILE } from '../../core/agent/placement-link.js';
import { BadInputError, FencedError, NoSuchContainerError, NotAllowedError } from '../../core/model/errors.js';
import { fromEnvelope } from '../../core/model/envelope.js';
import { Fleet } from '../../core/fleet.js';
import { Journal } from '../../core/agent/journal.js';
import { readMaintenance } from '../../core/agent/store.js';
import { DesktopController, type Shell } from '../../desktop/src/main/controller.js';
import { actionsOf, type MenuItem } from '../../desktop/src/main/tray-model.js';
import type { Events, Settings } from '../../desktop/src/shared/ipc.js';
import type { DesktopNotification } from '../../desktop/src/main/notify-policy.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'tray-';

class FakeShell implements Shell {
  trays: { severity: string; tooltip: string; menu: MenuItem[] }[] = [];
  notes: DesktopNotification[] = [];
  windows: string[] = [];
  sent: { event: string; payload: unknown }[] = [];
  login: boolean[] = [];
  quitted = false;
  setTray(look: { severity: string; tooltip: string }, menu: MenuItem[]): void {
    this.trays.push({ ...look, menu });
  }
  notify(n: DesktopNotification): void {
    this.notes.push(n);
  }
  showWindow(kind: 'dashboard' | 'settings'): void {
    this.windows.push(kind);
  }
  send<E extends keyof Events>(event: E, payload: Events[E]): void {
    this.sent.push({ event, payload });
  }
  setLoginItem(enabled: boolean): void {
    this.login.push(enabled);
  }
  quit(): void {
    this.quitted = true;
  }
  get tray() {
    return this.trays.at(-1);
  }
}

function memorySettings(): { get(): Settings; set(p: Partial<Settings>): Settings } {
  let s: Settings = { notifications: true, startAtLogin: false };
  return { get: () => s, set: (p) => (s = { ...s, ...p }) };
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-tray-'));
  await makeContainer(docker(), { name: `${P}web`, cmd: "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo \"line $i <b>bold</b>\"; sleep 0.1; done" });
  const done = await makeContainer(docker(), { name: `${P}broken`, cmd: 'exit 3' });
  await done.wait();
});
afterAll(async () => {
  await removeByPrefix(docker(), P);
  rmSync(dir, { recursive: true, force: true });
});

function localNode(name = 'local', stateDir = join(dir, 'state', 'outpost')) {
  const paths = { rulesFile: join(dir, 'config', 'outpost', 'rules.yaml'), stateDir };
  // As electron-main.ts builds it: the fences of the agent's state directory hold.
  return new LocalNode({ name, endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), rules: (n) => new LocalRules(n, paths), stateDir });
}

async function setup() {
  const node = localNode();
  const fleet = new Fleet([node]);
  await node.connect();
  const shell = new FakeShell();
  const controller = new DesktopController({ fleet, shell, settings: memorySettings(), hostIntervalMs: 300 });
  controller.start();
  return {
    node,
    fleet,
    shell,
    controller,
    close: async () => {
      controller.close();
      await fleet.close();
    },
  };
}

describe('tray main process against the private engine', () => {
  it('shows the worst state, and clicking Restart in the menu restarts the real container', async () => {
    const { node, shell, controller, close } = await setup();
    try {
      await eventually(() => shell.tray?.menu.some((i) => i.label.startsWith('local')), 5000, 'menu');
      expect(shell.tray?.severity).toBe('down'); // tray-broken exited with 3
      expect(shell.tray?.tooltip).toContain(`local/${P}broken: exited (3)`);
      const restart = actionsOf(shell.tray?.menu ?? []).find((a) => a.kind === 'container' && a.name === `${P}web` && a.action === 'restart');
      expect(restart).toBeDefined();
      const before = (await node.inspect(`${P}web`)).startedAt ?? 0;
      await controller.onMenu(restart!);
      expect(((await node.inspect(`${P}web`)).startedAt ?? 0) > before).toBe(true);

      // Stop from the menu; the rebuilt menu then offers Start for it.
      const stop = actionsOf(shell.tray?.menu ?? []).find((a) => a.kind === 'container' && a.name === `${P}web` && a.action === 'stop');
      await controller.onMenu(stop!);
      await eventually(() => {
        const item = shell.tray?.menu.find((i) => i.label.startsWith('local'))?.submenu?.find((i) => i.label.includes(`${P}web`));
        return item?.submenu?.find((s) => s.label === 'Start')?.enabled === true;
      }, 5000, 'Start enabled after stop');
      await controller.onMenu({ kind: 'container', node: 'local', id: (await node.inspect(`${P}web`)).id, name: `${P}web`, action: 'start' });
      expect((await node.inspect(`${P}web`)).state).toBe('running');

      // A failing action is told, not thrown.
      await controller.onMenu({ kind: 'container', node: 'local', id: 'f'.repeat(64), name: 'ghost', action: 'restart' });
      expect(shell.notes.at(-1)?.title).toBe('Could not restart ghost');
    } finally {
      await close();
    }
  });

  it('answers the windows: fleet, actions, live logs in batches, host history, settings; bad requests get errors', async () => {
    const { node, shell, controller, close } = await setup();
    try {
      const fleet = (await controller.handle('fleet:get', {})) as { result: { nodes: { containers: { name: string }[] }[] } };
      expect(fleet.result.nodes[0]?.containers.map((c) => c.name)).toEqual(expect.arrayContaining([`${P}web`, `${P}broken`]));
      const web = await node.inspect(`${P}web`);
      const opened = (await controller.handle('logs:open', { node: 'local', id: web.id, tail: 5 })) as { result: { stream: string } };
      await eventually(() => shell.sent.filter((s) => s.event === 'logs:lines').length >= 3, 5000, 'log batches');
      const batches = shell.sent.filter((s) => s.event === 'logs:lines').map((s) => s.payload as Events['logs:lines']);
      expect(batches.every((b) => b.stream === opened.result.stream)).toBe(true);
      // Container output is data: the window shows it as text (its own test checks that).
      expect(batches.flatMap((b) => b.lines).some((l) => /^line \d+ <b>bold<\/b>$/.test(l.text))).toBe(true);
      expect(await controller.handle('logs:close', { stream: opened.result.stream })).toEqual({ result: { closed: true } });

      const restarted = await controller.handle('container:action', { node: 'local', id: web.id, action: 'restart' });
      expect(restarted).toEqual({ result: { done: 'restart' } });
      await eventually(async () => ((await controller.handle('host:history', { node: 'local' })) as { result: unknown[] }).result.length > 0, 5000, 'host samples');

      expect(await controller.handle('settings:set', { startAtLogin: true })).toEqual({ result: { notifications: true, startAtLogin: true } });
      expect(shell.login).toEqual([true]);

      // Every error is core's envelope: a code of the table, the details kept; the window gets the named class back.
      const refused = await controller.handle('container:action', { node: 'local', id: web.id, action: 'remove' });
      expect(refused).toEqual({ error: { code: 'BAD_INPUT', message: 'action: start, stop or restart', details: { field: 'action' } } });
      expect(() => fromEnvelope(JSON.parse(JSON.stringify(refused)))).toThrow(BadInputError);
      expect(await controller.handle('container:action', { node: 'nowhere', id: web.id, action: 'stop' })).toMatchObject({ error: { code: 'BAD_INPUT' } });
      const missing = await controller.handle('container:action', { node: 'local', id: 'e'.repeat(64), action: 'stop' });
      expect(missing).toMatchObject({ error: { code: 'NO_SUCH_CONTAINER', details: { ref: 'e'.repeat(64) } } });
      const back = (() => {
        try {
          fromEnvelope(structuredClone(missing));
        } catch (e) {
          return e;
        }
        throw new Error('expected an error');
      })();
      expect(back).toBeInstanceOf(NoSuchContainerError);
      expect((back as NoSuchContainerError).details.ref).toBe('e'.repeat(64));
      expect(await controller.handle('eval', 'process.exit()')).toMatchObject({ error: { code: 'BAD_INPUT', details: { field: 'channel' } } });
      expect(await controller.handle('journal:get', { limit: 10 })).toEqual({ result: [] });
      expect(await controller.handle('rules:check', {})).toMatchObject({ result: { missing: true, rules: [], problems: [] } });
    } finally {
      await close();
    }
  });

  it('pauses rules on this node from the menu, and turns journal entries into rate-limited notifications that open the dashboard', async () => {
    const { shell, controller, close } = await setup();
    try {
      await eventually(() => shell.tray !== undefined, 5000, 'tray');
      const pause = actionsOf(shell.tray?.menu ?? []).find((a) => a.kind === 'pause-rules');
      expect(pause).toEqual({ kind: 'pause-rules', node: 'local', paused: true });
      await controller.onMenu(pause!);
      expect(readMaintenance(join(dir, 'state', 'outpost')).maintenance.node).toEqual({ until: null });
      expect(shell.tray?.menu.find((i) => i.label === 'Pause rules on this node')?.checked).toBe(true);
      await controller.onMenu({ kind: 'pause-rules', node: 'local', paused: false });
      expect(readMaintenance(join(dir, 'state', 'outpost')).maintenance.node).toBeNull();

      const { journal } = Journal.open(join(dir, 'state', 'outpost'));
      try {
        for (let i = 0; i < 10; i++) journal.append({ ts: Date.now(), node: 'local', kind: 'act', container: `${P}web`, rule: 'crash', reason: `restarted ${P}web (${i})` });
        journal.append({ ts: Date.now(), node: 'local', kind: 'give-up', container: `${P}web`, rule: 'crash', reason: `gave up on ${P}web` });
        await eventually(() => shell.notes.some((n) => n.title === `Outpost gave up on ${P}web`), 5000, 'give-up notification');
        expect(shell.notes.filter((n) => n.title === `Outpost acted on ${P}web`)).toHaveLength(1);
        expect(shell.sent.filter((s) => s.event === 'journal:entry')).toHaveLength(11);
      } finally {
        journal.close();
      }
      const note = shell.notes.find((n) => n.title === `Outpost gave up on ${P}web`)!;
      controller.onNotificationClick(note);
      expect(shell.windows.at(-1)).toBe('dashboard');
      expect(shell.sent.at(-1)).toEqual({ event: 'navigate', payload: { node: 'local', container: `${P}web` } });
      await controller.onMenu({ kind: 'quit' });
      expect(shell.quitted).toBe(true);
    } finally {
      await close();
    }
  });

  it('a node added after start shows up in the tray with its own rules; removed, it is let go; a node without rules is told', async () => {
    const { fleet, shell, controller, close } = await setup();
    const otherState = join(dir, 'state-other');
    try {
      await eventually(() => shell.tray !== undefined, 5000, 'tray');
      const other = localNode('other', otherState);
      await other.connect();
      fleet.add(other);
      await eventually(() => shell.tray?.menu.some((i) => i.label.startsWith('other —')), 5000, 'the added node in the menu');
      const state = controller.state();
      expect(state.nodes.map((n) => [n.name, n.kind, n.isThisMachine])).toEqual([
        ['local', 'engine', true],
        ['other', 'engine', true],
      ]);
      await eventually(() => controller.state().nodes.find((n) => n.name === 'other')?.agentRunning === false, 5000, 'the added node\'s agent status');
      // Its rules are its own: pausing them writes its state directory, not the first node's.
      expect(await controller.handle('rules:pause', { node: 'other', paused: true })).toEqual({ result: { paused: true } });
      expect(readMaintenance(otherState).maintenance.node).toEqual({ until: null });
      expect(readMaintenance(join(dir, 'state', 'outpost')).maintenance.node ?? null).toBeNull();
      expect(controller.state().nodes.find((n) => n.name === 'other')?.rulesPaused).toBe(true);
      // Its journal is followed too.
      const { journal } = Journal.open(otherState);
      try {
        journal.append({ ts: Date.now(), node: 'other', kind: 'give-up', container: `${P}x`, rule: 'crash', reason: `gave up on ${P}x` });
        await eventually(() => shell.notes.some((n) => n.title === `Outpost gave up on ${P}x` && n.target.node === 'other'), 5000, 'notification from the added node');
      } finally {
        journal.close();
      }
      await fleet.remove('other');
      await eventually(() => !shell.tray?.menu.some((i) => i.label.startsWith('other —')), 5000, 'the removed node gone from the menu');
      expect(await controller.handle('rules:pause', { node: 'other', paused: false })).toMatchObject({ error: { code: 'BAD_INPUT' } });

      const bare = new LocalNode({ name: 'bare', endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
      fleet.add(bare);
      const refused = await controller.handle('rules:pause', { node: 'bare', paused: true });
      expect(refused).toMatchObject({ error: { code: 'NOT_ALLOWED', details: { node: 'bare' } } });
      expect(() => fromEnvelope(refused)).toThrow(NotAllowedError);
      expect(controller.state().nodes.find((n) => n.name === 'bare')?.agentRunning).toBeNull();
    } finally {
      await close();
      rmSync(otherState, { recursive: true, force: true });
    }
  });

  it('a peer through its agent: its journal becomes notifications that name it, its rules pause over the API, its containers are in the tray', async () => {
    const { startTestAgent } = await import('../api/harness.js');
    const { RemoteNode } = await import('../../core/remote/remote-node.js');
    const agent = await startTestAgent();
    const { fleet, shell, controller, close } = await setup();
    try {
      const peer = new RemoteNode({ name: 'gw-2', url: agent.url, fingerprint: agent.identity.fingerprint, token: agent.tokens.operator });
      fleet.add(peer);
      await peer.connect();
      await eventually(() => (controller.state().nodes.find((n) => n.name === 'gw-2')?.containers.length ?? 0) > 0, 10_000, 'the peer\'s containers in the tray');
      expect(controller.state().nodes.find((n) => n.name === 'gw-2')).toMatchObject({ kind: 'agent', isThisMachine: false });
      // The peer's agent journals under its own name for its node (`local`); the tray says gw-2.
      const { journal } = Journal.open(agent.stateDir);
      try {
        // The journal stream is open once the first entry of a probe arrives.
        await eventually(async () => {
          journal.append({ ts: Date.now(), node: 'local', kind: 'give-up', container: `${P}db`, rule: 'crash', reason: `gave up on ${P}db after 5 restarts` });
          await new Promise((r) => setTimeout(r, 300));
          return shell.notes.some((n) => n.title === `Outpost gave up on ${P}db on gw-2`);
        }, 15_000, 'a notification from the peer\'s agent');
      } finally {
        journal.close();
      }
      const note = shell.notes.find((n) => n.title === `Outpost gave up on ${P}db on gw-2`);
      expect(note?.target).toEqual({ node: 'gw-2', container: `${P}db` });
      expect(shell.sent.some((m) => m.event === 'journal:entry' && (m.payload as { node: string }).node === 'gw-2')).toBe(true);
      expect(await controller.handle('rules:pause', { node: 'gw-2', paused: true })).toEqual({ result: { paused: true } });
      expect(readMaintenance(agent.stateDir).maintenance.node).toEqual({ until: null });
      await eventually(() => controller.state().nodes.find((n) => n.name === 'gw-2')?.rulesPaused === true, 5000, 'paused shown');
    } finally {
      await close();
      await agent.close();
    }
  });
  it('a container failover fenced: Start in the menu is refused with a notification that says why (it opens the dashboard on it); the window may override', async () => {
    const { shell, controller, close } = await setup();
    const name = `${P}fenced-0`;
    const id = (await makeContainer(docker(), { name, cmd: 'sleep 3600', start: false })).id;
    mkdirSync(join(dir, 'state', 'outpost'), { recursive: true });
    writeFileSync(join(dir, 'state', 'outpost', PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'local', failover: { fenced: { [id]: { workload: `${P}fenced`, replica: 0, atMs: 1, stopMs: 1 } } }, specs: {} }));
    const running = async () => (await docker().getContainer(id).inspect()).State.Running;
    try {
      await controller.onMenu({ kind: 'container', node: 'local', id, name, action: 'start' });
      expect(await running()).toBe(false);
      const note = shell.notes.at(-1);
      expect(note?.title).toBe(`${name} is fenced: not started`);
      expect(note?.body).toMatch(/is fenced on local: placement failover stopped it .* may run it twice/);
      expect(note?.target).toEqual({ node: 'local', container: name });
      const refused = await controller.handle('container:action', { node: 'local', id, action: 'start' });
      expect(refused).toMatchObject({ error: { code: 'FENCED', details: { containerId: id } } });
      expect(() => fromEnvelope(structuredClone(refused))).toThrow(FencedError);
      expect(await controller.handle('container:action', { node: 'local', id, action: 'start', overrideFence: true })).toEqual({ result: { done: 'start' } });
      expect(await running()).toBe(true);
    } finally {
      await close();
      rmSync(join(dir, 'state', 'outpost', PLACEMENT_STATE_FILE), { force: true });
    }
  });
});
