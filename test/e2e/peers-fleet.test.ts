/**
 * Two real engines: the shared private engine as this machine, and a second
 * private engine added with `outpost peers add unix://…` as an engine-only
 * peer. The built `outpost` lists both (`ps --all-nodes`), the TUI's
 * all-nodes view shows both nodes' containers, the second engine stopped
 * dims its rows with "last seen", and back it is online again. The tray's
 * controller, given the fleet from the same peers file, lists both nodes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { buildFleet } from '../../core/peers/fleet-from-config.js';
import { DesktopController, type Shell } from '../../desktop/src/main/controller.js';
import type { MenuItem } from '../../desktop/src/main/tray-model.js';
import { BIN, outpost } from '../harness/cli.js';
import { startPrivateEngine, type PrivateEngine } from '../harness/engine.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { importTestImage } from '../harness/image.js';
import { Tmux } from '../harness/tmux.js';

const P = 'peerfleet-';
let home: string;
let peer: PrivateEngine;
let tmux: Tmux | null = null;
const cfgEnv = () => ({ HOME: home, XDG_CONFIG_HOME: join(home, '.config') });

beforeAll(async () => {
  if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  home = mkdtempSync(join(tmpdir(), 'op-peers-'));
  peer = await startPrivateEngine('peer');
  await importTestImage(peer.dockerHost);
  await makeContainer(docker(), { name: `${P}here`, cmd: 'sleep 3600' });
  await makeContainer(docker(peer.dockerHost), { name: `${P}there`, cmd: 'sleep 3600', restart: 'always' });
  const add = await outpost(['peers', 'add', `unix://${peer.socket}`, '--name', 'box-2'], cfgEnv());
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
}, 120_000);

afterEach(() => {
  tmux?.kill();
  tmux = null;
});

afterAll(async () => {
  await removeByPrefix(docker(), P);
  await peer?.dispose();
  rmSync(home, { recursive: true, force: true });
});

describe('a fleet of two engines from the peers file', () => {
  it('ps --all-nodes lists both nodes\' containers', async () => {
    const r = await outpost(['ps', '--all-nodes'], cfgEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^local\\s+\\S+\\s+${P}here`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^box-2\\s+\\S+\\s+${P}there`, 'm'));
  });

  it('the TUI shows both nodes in the all-nodes view; the peer down: dimmed rows, "last seen"; back: online', async () => {
    tmux = new Tmux();
    tmux.start(`${process.execPath} ${join(process.cwd(), BIN)}`, {
      cols: 140,
      rows: 30,
      env: { DOCKER_HOST: dockerHost(), ...cfgEnv(), TERM: 'xterm-256color', PATH: process.env.PATH ?? '' },
    });
    const t = tmux;
    const both = await t.waitFor((s) => s.includes(`${P}here`) && s.includes(`${P}there`), 'both nodes\' containers');
    expect(both).toMatch(/ all .*local \d+\/\d+.*box-2 \d+\/\d+/);
    expect(both).toMatch(/^NODE\s+NAME/m);
    expect(both).toMatch(new RegExp(`^local\\s+.*${P}here`, 'm'));
    expect(both).toMatch(new RegExp(`^box-2\\s+.*${P}there`, 'm'));

    // `n`: the first node alone, then the peer alone, then all again.
    t.type('n');
    await t.waitFor((s) => s.includes(`${P}here`) && !s.includes(`${P}there`), 'local alone');
    t.type('n');
    await t.waitFor((s) => !s.includes(`${P}here`) && s.includes(`${P}there`), 'box-2 alone');
    t.type(':node all');
    t.keys('Enter');
    await t.waitFor((s) => s.includes(`${P}here`) && s.includes(`${P}there`), 'all again');

    await peer.crash();
    const down = await t.waitFor((s) => /box-2 \d+\/\d+ unreachable/.test(s) && new RegExp(`${P}there.*last seen \\d+s\\b`).test(s), 'the peer unreachable, its rows last seen', 30_000);
    expect(down).toMatch(/box-2 unreachable \(last seen \d+s ago\), retrying: /);
    // This machine's rows are not dimmed nor marked.
    expect(down).not.toMatch(new RegExp(`${P}here.*last seen`));
    // The time goes on while it is down (the screen is redrawn each second, not only on changes).
    await t.waitFor((s) => new RegExp(`${P}there.*last seen [2-9]s\\b`).test(s), '"last seen" counting', 15_000);

    await peer.restart();
    await t.waitFor((s) => !/unreachable/.test(s) && s.includes(`${P}there`) && !/last seen/.test(s), 'the peer online again', 60_000);
  }, 150_000);

  it('the tray lists every node of the peers file', async () => {
    const local = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
    const fleet = await buildFleet(cfgEnv(), local);
    expect(fleet.nodes().map((n) => [n.name, n.kind, n.isThisMachine, n.rules])).toEqual([
      ['local', 'engine', true, null],
      ['box-2', 'engine', false, null],
    ]);
    for (const n of fleet.nodes()) await n.connect();
    let menu: MenuItem[] = [];
    const shell: Shell = {
      setTray: (_look, m) => (menu = m),
      notify: () => undefined,
      showWindow: () => undefined,
      send: () => undefined,
      setLoginItem: () => undefined,
      quit: () => undefined,
    };
    const controller = new DesktopController({ fleet, shell, settings: { get: () => ({ notifications: false, startAtLogin: false }), set: (p) => ({ notifications: false, startAtLogin: false, ...p }) } });
    controller.start();
    try {
      await eventually(() => menu.some((i) => i.label.startsWith('box-2')) && menu.some((i) => i.label.startsWith('local')), 10_000, 'both nodes in the menu');
      const box2 = menu.find((i) => i.label.startsWith('box-2'));
      expect(JSON.stringify(box2?.submenu)).toContain(`${P}there`);
      const state = (await controller.handle('fleet:get', {})) as { result: { nodes: { name: string; isThisMachine: boolean; containers: { name: string }[] }[] } };
      expect(state.result.nodes.map((n) => [n.name, n.isThisMachine])).toEqual([
        ['local', true],
        ['box-2', false],
      ]);
    } finally {
      controller.close();
      await fleet.close();
    }
  }, 60_000);
});
