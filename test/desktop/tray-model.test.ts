import { describe, expect, it } from 'vitest';
import type { ContainerSummary, NodeStatus } from '../../core/model/types.js';
import { actionsOf, buildMenu, iconFile, menuText, PAGE, trayLook, type MenuItem } from '../../desktop/src/main/tray-model.js';
import { NotificationPolicy } from '../../desktop/src/main/notify-policy.js';
import { BadRequest } from '../../desktop/src/shared/ipc.js';
import { validate } from '../../desktop/src/main/ipc-validate.js';
import { BadInputError } from '../../core/model/errors.js';
import { serializeError } from '../../core/model/envelope.js';
import type { FleetState, NodeState } from '../../desktop/src/shared/ipc.js';
import { summary } from '../harness/summary.js';

let n = 0;
function c(over: Partial<ContainerSummary> = {}): ContainerSummary {
  n++;
  return summary({ id: n.toString(16).padStart(64, 'a'), name: `c${n}`, image: 'busybox', command: 'sh', ...over });
}
const online: NodeStatus = { state: 'online', since: 0 };
const node = (name: string, containers: ContainerSummary[], over: Partial<NodeState> = {}): NodeState => ({
  name,
  kind: 'engine',
  isThisMachine: name === 'local',
  status: online,
  containers,
  agentRunning: true,
  rulesPaused: false,
  ...over,
});
const fleet = (...nodes: NodeState[]): FleetState => ({ nodes });
const find = (items: MenuItem[], label: RegExp): MenuItem | undefined => items.find((i) => label.test(i.label));

describe('tray look: the worst state across the fleet', () => {
  it('all running', () => {
    const look = trayLook(fleet(node('local', [c(), c({ state: 'exited', exitCode: 0 })])));
    expect(look.severity).toBe('ok');
    expect(look.tooltip).toBe('Outpost: all well (1/2 running)');
  });
  it('something unhealthy or restarting', () => {
    expect(trayLook(fleet(node('local', [c(), c({ health: 'unhealthy', name: 'web' })]))).severity).toBe('degraded');
    expect(trayLook(fleet(node('local', [c({ state: 'restarting' })]))).severity).toBe('degraded');
  });
  it('something down, or a peer unreachable', () => {
    const look = trayLook(fleet(node('local', [c({ name: 'db', state: 'exited', exitCode: 1 }), c({ health: 'unhealthy', name: 'web' })])));
    expect(look.severity).toBe('down');
    expect(look.tooltip.split('\n')).toEqual(['Outpost: 2 problems (1/2 running)', 'local/db: exited (1)', 'local/web: unhealthy']);
    const peer = trayLook(fleet(node('local', [c()]), node('gw-2', [], { status: { state: 'offline', since: 0, reason: 'connection refused', retryInMs: 1000 } })));
    expect(peer.severity).toBe('down');
    expect(peer.tooltip).toContain('gw-2: unreachable (connection refused)');
  });
  it('the local engine unreachable is the worst', () => {
    const look = trayLook(fleet(node('local', [c({ state: 'dead' })], { status: { state: 'offline', since: 0, reason: 'no socket', retryInMs: 500 } })));
    expect(look.severity).toBe('unreachable');
  });
  it('keeps the tooltip within what Windows shows', () => {
    const many = Array.from({ length: 40 }, (_, i) => c({ name: `service-with-a-long-name-${i}`, state: 'exited', exitCode: 2 }));
    const look = trayLook(fleet(node('local', many)));
    expect(look.tooltip.length).toBeLessThanOrEqual(127);
    expect(look.tooltip.startsWith('Outpost: 40 problems')).toBe(true);
  });
  it('names the icon per platform and theme', () => {
    expect(iconFile('down', 'linux', false)).toBe('tray-down.png');
    expect(iconFile('down', 'linux', true)).toBe('tray-down-dark.png');
    expect(iconFile('ok', 'darwin', false)).toBe('tray-okTemplate.png');
    expect(iconFile('degraded', 'win32', false)).toBe('tray-degraded.ico');
  });
});

describe('tray menu model', () => {
  it('lists nodes, their containers with enabled actions, and the fixed items', () => {
    const web = c({ name: 'web' });
    const db = c({ name: 'db', state: 'exited', exitCode: 1 });
    const menu = buildMenu(fleet(node('local', [web, db])));
    expect(menu.map((i) => i.label)).toEqual([
      'Outpost: 1 problem (1/2 running)',
      '',
      'local — 1/2 running',
      '',
      'Open dashboard',
      'Settings',
      'Pause rules on this node',
      '',
      'Quit Outpost',
    ]);
    const local = find(menu, /^local/)?.submenu ?? [];
    // Problems first.
    expect(local.map((i) => i.label)).toEqual(['✕ db — exited (1)', '● web — running']);
    const dbItems = local[0]?.submenu ?? [];
    expect(dbItems.map((i) => `${i.label}:${i.enabled}`)).toEqual(['Start:true', 'Stop:false', 'Restart:true', 'Show logs:true']);
    const webItems = local[1]?.submenu ?? [];
    expect(webItems.map((i) => `${i.label}:${i.enabled}`)).toEqual(['Start:false', 'Stop:true', 'Restart:true', 'Show logs:true']);
    expect(webItems[2]?.action).toEqual({ kind: 'container', node: 'local', id: web.id, name: 'web', action: 'restart' });
  });

  it('an unreachable node shows why, and its last known containers without actions', () => {
    const menu = buildMenu(fleet(node('local', [c({ name: 'web' })], { status: { state: 'offline', since: 0, reason: 'permission denied', retryInMs: 1000 } })));
    const items = find(menu, /^local/)?.submenu ?? [];
    expect(items[0]).toEqual({ label: 'Unreachable: permission denied', enabled: false });
    expect(items[1]).toEqual({ label: 'web (last known: running)', enabled: false });
    expect(find(menu, /^local/)?.label).toBe('local — unreachable');
    expect(actionsOf(items)).toEqual([]);
  });

  it('200 containers become pages of a usable length, every container reachable', () => {
    const many = Array.from({ length: 200 }, (_, i) => c({ name: `svc-${String(i).padStart(3, '0')}` }));
    const menu = buildMenu(fleet(node('local', many)));
    const pages = find(menu, /^local/)?.submenu ?? [];
    expect(pages).toHaveLength(200 / PAGE);
    expect(pages[0]?.label).toBe('1–25: svc-000 … svc-024');
    for (const p of pages) expect(p.submenu?.length).toBeLessThanOrEqual(PAGE);
    const restarts = actionsOf(pages).filter((a) => a.kind === 'container' && a.action === 'restart');
    expect(restarts).toHaveLength(200);
  });

  it('says when no agent enforces rules, and when rules are paused', () => {
    expect(find(buildMenu(fleet(node('local', [], { agentRunning: false }))), /^local/)?.label).toBe('local — 0/0 running, no rules agent');
    const paused = buildMenu(fleet(node('local', [], { rulesPaused: true })));
    expect(find(paused, /^local/)?.label).toBe('local — 0/0 running, rules paused');
    expect(find(paused, /Pause rules/)).toMatchObject({ type: 'checkbox', checked: true, action: { kind: 'pause-rules', paused: false } });
  });

  it("says what is wrong with the agent's state: a full disk (issue item 16)", () => {
    const full = 'the disk holding /var/lib/outpost is full (0 bytes available): the agent cannot write its journal or state';
    const menu = buildMenu(fleet(node('local', [], { agentProblems: [full] })));
    expect(find(menu, /^local/)?.label).toMatch(/^local — 0\/0 running, rules agent: the disk holding \/var\/lib\/outpost is full/);
    expect(find(menu, /^local/)?.label.length).toBeLessThanOrEqual(80);
  });

  it('labels are plain text: mnemonics and control characters are neutralised', () => {
    expect(menuText('a&b')).toBe('a&&b');
    expect(menuText('x\u001b]0;pwned\u0007')).toBe('x?]0;pwned?');
    expect(menuText('y'.repeat(100))).toHaveLength(60);
    const menu = buildMenu(fleet(node('<script>alert(1)</script>&', [])));
    expect(menu[2]?.label).toBe('<script>alert(1)</script>&& — 0/0 running');
  });
});

describe('notification policy', () => {
  const entry = (kind: string, container: string, reason = 'x') => ({ seq: 1, ts: 0, node: 'local', kind: kind as 'act', container, reason });

  it('notifies when a rule acts or gives up, not for its bookkeeping', () => {
    const p = new NotificationPolicy({ now: () => 0 });
    expect(p.fromJournal('local', entry('act', 'web', 'restarted web: exited with code 1'))).toEqual({
      title: 'Outpost acted on web',
      body: 'restarted web: exited with code 1',
      target: { node: 'local', container: 'web' },
    });
    expect(p.fromJournal('local', entry('give-up', 'web'))?.title).toBe('Outpost gave up on web');
    // A peer's agent: its node is named, and a click leads to that node.
    expect(p.fromJournal('gw-2', entry('give-up', 'db'), { thisMachine: false })).toMatchObject({ title: 'Outpost gave up on db on gw-2', target: { node: 'gw-2', container: 'db' } });
    expect(p.fromJournal('gw-2', entry('notify', 'sensor'), { thisMachine: false })?.title).toBe('Outpost: sensor on gw-2');
    expect(p.fromJournal('local', entry('defer', 'web'))).toBeNull();
    expect(p.fromJournal('local', entry('skip', 'web'))).toBeNull();
    expect(p.fromJournal('local', { ...entry('outcome', 'web'), ok: true })).toBeNull();
  });

  it('a crash loop does not flood the desktop; what was held back is counted in the next one', () => {
    let now = 0;
    const p = new NotificationPolicy({ now: () => now, quietMs: 300_000, burst: 5, burstWindowMs: 60_000 });
    const shown = [];
    for (let i = 0; i < 100; i++) {
      now = i * 1000;
      const n = p.fromJournal('local', entry('act', 'web'));
      if (n) shown.push(n);
    }
    expect(shown).toHaveLength(1); // one per container and kind per 5 minutes
    now = 400_000;
    const next = p.fromJournal('local', entry('act', 'web'));
    expect(next?.body).toBe('x\n(99 more held back to keep quiet; see the journal)');
    // Many containers at once: at most 5 a minute overall.
    now = 1_000_000;
    const burst = Array.from({ length: 20 }, (_, i) => p.fromJournal('local', entry('act', `c${i}`))).filter(Boolean);
    expect(burst).toHaveLength(5);
  });

  it('tells when a node becomes unreachable and when it is back, once each', () => {
    const p = new NotificationPolicy({ now: () => 0 });
    const off: NodeStatus = { state: 'offline', since: 0, reason: 'refused', retryInMs: 1 };
    expect(p.fromStatus('gw', { state: 'online', since: 0 })).toBeNull();
    expect(p.fromStatus('gw', off)?.title).toBe('gw is unreachable');
    expect(p.fromStatus('gw', off)).toBeNull();
    expect(p.fromStatus('gw', { state: 'online', since: 1 })?.title).toBe('gw is back');
  });
});

describe('IPC requests from a window are validated', () => {
  const id = 'ab'.repeat(32);
  it('accepts well-formed requests', () => {
    expect(validate('container:action', { node: 'local', id, action: 'restart' }).args).toEqual({ node: 'local', id, action: 'restart' });
    expect(validate('container:action', { node: 'local', id, action: 'start', overrideFence: true }).args).toEqual({ node: 'local', id, action: 'start', overrideFence: true });
    expect(validate('fleet:get', undefined).args).toEqual({});
    expect(validate('journal:get', { limit: 100 }).args).toEqual({ limit: 100 });
  });
  it('refuses hostile or malformed ones with a precise message', () => {
    const bad: [string, unknown, RegExp][] = [
      ['shell:exec', {}, /unknown channel `shell:exec`/],
      ['container:action', { node: 'local', id, action: 'rm' }, /action: start, stop or restart/],
      ['container:action', { node: 'local', id: '../../etc', action: 'stop' }, /id: a container ID \(12 to 64 hex digits\)/],
      ['container:action', { node: 'local', id, action: 'stop', force: true }, /unknown field `force`/],
      ['container:action', [1, 2], /arguments must be an object/],
      ['container:action', { node: 'local', id, action: 'start', overrideFence: 'yes' }, /overrideFence: true or false/],
      ['container:action', { node: 'local', id, action: 'stop', overrideFence: true }, /overrideFence: overrideFence goes with start or restart/],
      ['logs:open', { node: 'local', id, tail: 1e9 }, /tail: at most 10000/],
      ['journal:get', { limit: -1 }, /limit: from 1/],
      ['settings:set', { notifications: 'yes' }, /notifications: true or false/],
      ['settings:set', { __proto__: { polluted: true }, constructor: 1 }, /unknown field `constructor`/],
      ['rules:pause', { node: 'x'.repeat(1000), paused: true }, /node: at most 64 characters/],
      ['logs:open', { node: 'local', id, tail: 2.5 }, /tail: a whole number/],
      ['peers:add', { target: '' }, /target: paste a join code or a URL/],
      ['peers:add', { target: 'x'.repeat(9000) }, /target: at most 8192 characters/],
      ['peers:add', { target: 'https://gw:7443', fingerprint: 'zz' }, /fingerprint: a SHA-256 fingerprint/],
      ['peers:add', { target: 'https://gw:7443', name: 'Bad Name!' }, /name: 1–63 characters/],
      ['peers:add', { target: 'https://gw:7443', name: 'local' }, /name: `local` is this machine's node/],
      ['peers:rename', { from: 'gw-1', to: '../x' }, /to: 1–63 characters/],
      ['peers:remove', { name: 42 }, /name: /],
      ['peers:preview', { target: 'https://gw:7443', pin: true }, /unknown field `pin`/],
    ];
    for (const [channel, args, message] of bad) {
      expect(() => validate(channel, args)).toThrow(BadRequest);
      expect(() => validate(channel, args)).toThrow(message);
    }
  });
  it('a refusal is a BadInputError naming the field, so it crosses the envelope with its code and field', () => {
    const fields: [string, unknown, string][] = [
      ['container:action', { node: 'local', id, action: 'rm' }, 'action'],
      ['container:action', { node: 'local', id, action: 'start', overrideFence: 1 }, 'overrideFence'],
      ['logs:open', { node: 'local', id: 'zz', tail: 1 }, 'id'],
      ['journal:get', { limit: 0 }, 'limit'],
      ['journal:get', { limit: 1, node: '' }, 'node'],
      ['rules:check', { file: '/etc/passwd' }, 'file'],
      ['settings:set', { startAtLogin: 1 }, 'startAtLogin'],
      ['peers:add', { target: 'https://gw:7443', fingerprint: '00' }, 'fingerprint'],
      ['peers:rename', { from: 'gw-1', to: 'A B' }, 'to'],
    ];
    for (const [channel, args, field] of fields) {
      const err = (() => {
        try {
          validate(channel, args);
        } catch (e) {
          return e;
        }
        throw new Error(`${channel} accepted ${JSON.stringify(args)}`);
      })();
      expect(err).toBeInstanceOf(BadInputError);
      expect(serializeError(err)).toMatchObject({ code: 'BAD_INPUT', details: { field } });
    }
  });
});

describe('the tray decides from each node\'s own state, not its position', () => {
  it('this machine listed after a peer: its engine unreachable is still the worst, and the pause item is for it', () => {
    const off = { state: 'offline', since: 0, reason: 'no socket', retryInMs: 500 } as const;
    const peerFirst = fleet(node('gw-2', [c()], { isThisMachine: false, kind: 'agent' }), node('local', [], { status: off }));
    expect(trayLook(peerFirst).severity).toBe('unreachable');
    expect(find(buildMenu(peerFirst), /Pause rules/)?.action).toEqual({ kind: 'pause-rules', node: 'local', paused: true });
    // A peer unreachable, this machine fine: down, not unreachable.
    const peerDown = fleet(node('gw-2', [], { isThisMachine: false, status: off }), node('local', [c()]));
    expect(trayLook(peerDown).severity).toBe('down');
  });
  it('no node is this machine: no pause item to guess at', () => {
    const peers = fleet(node('gw-2', [c()], { isThisMachine: false }), node('gw-3', [c()], { isThisMachine: false }));
    expect(find(buildMenu(peers), /Pause rules/)).toBeUndefined();
  });
});

describe('tray icons in assets/', () => {
  it('exist for every state, platform and theme, at the sizes each platform wants', async () => {
    const { readFileSync } = await import('node:fs');
    const pngSize = (file: string) => {
      const b = readFileSync(`assets/${file}`);
      expect(b.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      return [b.readUInt32BE(16), b.readUInt32BE(20)];
    };
    for (const s of ['ok', 'degraded', 'down', 'unreachable'] as const) {
      expect(pngSize(iconFile(s, 'linux', false))).toEqual([24, 24]);
      expect(pngSize(iconFile(s, 'linux', true))).toEqual([24, 24]);
      expect(pngSize(iconFile(s, 'linux', true).replace('.png', '@2x.png'))).toEqual([48, 48]);
      expect(pngSize(iconFile(s, 'darwin', false))).toEqual([16, 16]);
      expect(pngSize(iconFile(s, 'darwin', false).replace('.png', '@2x.png'))).toEqual([32, 32]);
      const ico = readFileSync(`assets/${iconFile(s, 'win32', false)}`);
      expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
      const sizes = Array.from({ length: ico.readUInt16LE(4) }, (_, i) => ico.readUInt8(6 + 16 * i));
      expect(sizes).toEqual([16, 24, 32, 48, 64]);
    }
    expect(pngSize('icon.png')).toEqual([512, 512]);
  });
});
