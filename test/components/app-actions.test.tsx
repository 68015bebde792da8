import { render } from 'ink-testing-library';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { Fleet } from '../../core/fleet.js';
import type { JournalEntry } from '../../core/agent/journal.js';
import { App } from '../../tui/app/app.js';
import { localRules } from '../../core/agent/lazy-rules.js';
import { FleetView, type FleetSnapshot } from '../../tui/app/fleet-view.js';
import { StatsPanel } from '../../tui/app/main-screen.js';
import { DEFAULT_PREFS, type Prefs } from '../../tui/app/prefs.js';
import { JournalScreen } from '../../tui/app/journal-screen.js';
import { makeTheme } from '../../tui/app/theme.js';
import { PALETTE_WORDS } from '../../tui/app/keymap.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'act-';
const strip = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');
const tick = (ms = 60) => new Promise((r) => setTimeout(r, ms));
const theme = makeTheme({ NO_COLOR: '1' });

afterAll(() => removeByPrefix(docker(), P));

async function mount(prefs: Partial<Prefs> = {}, extra: { onRedraw?: () => void; notices?: { subscribe(l: (t: string) => void): () => void } } = {}) {
  const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), reconnectMinMs: 100, reconnectMaxMs: 200, rules: localRules(process.env) });
  const fleet = new Fleet([node]);
  const view = new FleetView(fleet, { statsIntervalMs: 500, hostIntervalMs: 500 });
  view.start();
  await node.connect();
  const r = render(<App fleet={fleet} view={view} theme={theme} readOnly={false} prefs={{ ...DEFAULT_PREFS, saveDir: '/tmp', ...prefs }} onExec={async () => 0} {...extra} />);
  const frame = () => strip(r.lastFrame());
  const title = () => /─ local\/(\S+)/.exec(frame().split('\n').find((l) => l.includes(' logs ') && l.includes('─')) ?? '')?.[1];
  const close = async () => {
    r.unmount();
    view.close();
    await fleet.close();
  };
  return { r, node, frame, title, close };
}

describe('main view actions (a real engine)', () => {
  it('after d and y, selects the neighbour of the removed container, not the top row', async () => {
    for (const n of ['a', 'b', 'c']) await makeContainer(docker(), { name: `${P}sel-${n}`, cmd: 'sleep 3600' });
    const { r, frame, title, close } = await mount();
    try {
      await eventually(() => frame().includes(`${P}sel-c`), 10_000, 'listed');
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}sel-\r`);
      await eventually(() => title() === `${P}sel-a`, 5000, 'first selected');
      r.stdin.write('j');
      await eventually(() => title() === `${P}sel-b`, 5000, 'b selected');
      r.stdin.write('d');
      await eventually(() => frame().includes(`Remove local/${P}sel-b`), 5000, 'question');
      r.stdin.write('y');
      await eventually(() => !frame().includes(`${P}sel-b `) && frame().includes(`removed local/${P}sel-b`), 15_000, 'removed');
      expect(title()).toBe(`${P}sel-c`);
    } finally {
      await close();
    }
  });

  it('K asks before it kills, as d does; confirmKill: false kills at once', async () => {
    await makeContainer(docker(), { name: `${P}victim`, cmd: 'sleep 3600' });
    const { r, node, frame, close } = await mount();
    try {
      await eventually(() => frame().includes(`${P}victim`), 10_000, 'listed');
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}victim\r`);
      await tick(150);
      r.stdin.write('K');
      await eventually(() => frame().includes(`Kill local/${P}victim (SIGKILL)? y/N`), 5000, 'the question');
      r.stdin.write('n');
      await eventually(() => frame().includes('cancelled'), 5000, 'cancelled');
      expect((await node.inspect(`${P}victim`)).state).toBe('running');
      r.stdin.write('K');
      await eventually(() => frame().includes('y/N'), 5000, 'asked again');
      r.stdin.write('y');
      await eventually(async () => (await node.inspect(`${P}victim`)).state === 'exited', 10_000, 'killed');
    } finally {
      await close();
    }
    await docker().getContainer(`${P}victim`).start();
    const quick = await mount({ confirmKill: false });
    try {
      await eventually(() => quick.frame().includes(`${P}victim`), 10_000, 'listed');
      quick.r.stdin.write('/');
      await tick();
      quick.r.stdin.write(`${P}victim\r`);
      await eventually(async () => (await quick.node.inspect(`${P}victim`)).state === 'running' && / up \d/.test(quick.frame()), 10_000, 'running on screen');
      quick.r.stdin.write('K');
      await eventually(async () => (await quick.node.inspect(`${P}victim`)).state === 'exited', 10_000, 'killed without a question');
      expect(quick.frame()).not.toContain('y/N');
    } finally {
      await quick.close();
    }
  });

  it('Ctrl-L redraws and does not open the logs; Ctrl-R, Ctrl-K and Ctrl-D do nothing', async () => {
    await makeContainer(docker(), { name: `${P}ctrl`, cmd: 'sleep 3600' });
    let redraws = 0;
    const { r, node, frame, close } = await mount({}, { onRedraw: () => redraws++ });
    try {
      await eventually(() => frame().includes(`${P}ctrl`), 10_000, 'listed');
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}ctrl\r`);
      await tick(150);
      const started = (await node.inspect(`${P}ctrl`)).startedAt;
      r.stdin.write('\x0c'); // Ctrl-L
      await eventually(() => redraws === 1, 2000, 'a redraw');
      r.stdin.write('\x12'); // Ctrl-R
      r.stdin.write('\x0b'); // Ctrl-K
      r.stdin.write('\x04'); // Ctrl-D
      await tick(300);
      expect(frame()).not.toMatch(/^logs /);
      expect(frame()).toContain('STATE');
      expect(frame()).not.toContain('y/N');
      expect(frame()).not.toMatch(/restarting|killing/);
      expect((await node.inspect(`${P}ctrl`)).startedAt).toBe(started);
    } finally {
      await close();
    }
  });

  it('shows every preferences problem and the palette commands, wrapped, not cut', async () => {
    const listeners = new Set<(t: string) => void>();
    const notices = { subscribe: (l: (t: string) => void) => (listeners.add(l), () => listeners.delete(l)) };
    const { r, frame, close } = await mount({}, { notices });
    try {
      await eventually(() => frame().includes('STATE'), 10_000, 'up');
      const problems = [
        '/home/tech/.config/outpost/tui.json: `logBufferLines` must be a whole number from 100 to 1000000, got -5',
        '/home/tech/.config/outpost/tui.json: `statsIntervalMs` must be a whole number from 500 to 60000, got "fast"',
        '/home/tech/.config/outpost/tui.json: unknown preference `colour` \x1b[2J',
      ];
      for (const l of listeners) l(problems.join('\n'));
      await eventually(() => frame().replace(/\s+/g, ' ').includes('got "fast"'), 5000, 'problems shown');
      const flat = frame().replace(/\n/g, ' ').replace(/\s+/g, ' ');
      for (const p of problems) expect(flat).toContain(p.replace('\x1b', '\\x1b').split(': ')[1]?.slice(0, 40));
      expect(frame()).not.toContain('\x1b[2J');
      r.stdin.write(':');
      await eventually(() => frame().includes('commands:'), 5000, 'palette');
      const palette = frame().replace(/\s+/g, ' ');
      for (const w of PALETTE_WORDS) expect(palette).toMatch(new RegExp(`\\b${w}\\b`));
      r.stdin.write('re');
      await eventually(() => /commands: restart\s*$/m.test(frame()), 5000, 'the list narrowed as typed');
    } finally {
      await close();
    }
  });
});

describe('help (a real engine)', () => {
  it('lists every key: a help longer than the screen scrolls instead of cutting the list', async () => {
    const { r, frame, close } = await mount();
    try {
      await eventually(() => frame().includes('STATE'), 10_000, 'up');
      r.stdin.write('?');
      await eventually(() => frame().includes('Keys — main view'), 5000, 'help');
      for (let i = 0; i < 40 && !/^\s+q \/ Ctrl-C\s+quit\s*$/m.test(frame()); i++) {
        r.stdin.write('j');
        await tick(40);
      }
      expect(frame()).toMatch(/^\s+q \/ Ctrl-C\s+quit\s*$/m);
      expect(frame()).toMatch(/Ctrl-L\s+redraw the screen/);
      expect(frame()).toContain('Keys — main view');
      r.stdin.write('x');
      await eventually(() => frame().includes('STATE'), 5000, 'closed by another key');
    } finally {
      await close();
    }
  });
});

describe('FleetView (a real engine)', () => {
  it('clears a container\'s CPU and memory when it stops, not at the next sample', async () => {
    const c = await makeContainer(docker(), { name: `${P}stopper`, cmd: 'sleep 3600' });
    const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
    const fleet = new Fleet([node]);
    const view = new FleetView(fleet, { statsIntervalMs: 8000, hostIntervalMs: 8000 });
    view.start();
    try {
      await node.connect();
      await eventually(() => view.getSnapshot().stats.has(c.id), 10_000, 'a first sample');
      await c.kill();
      const killed = Date.now();
      await eventually(() => !view.getSnapshot().stats.has(c.id), 3000, 'the figures cleared');
      expect(Date.now() - killed).toBeLessThan(3000);
    } finally {
      view.close();
      await fleet.close();
    }
  });
});

describe('panes', () => {
  const snapshot = (cpu: number[], mem: number[]): FleetSnapshot => ({
    version: 1,
    nodes: [],
    stats: new Map([['x', { id: 'x', name: 'x', at: 0, cpuPercent: cpu.at(-1) ?? 0, memoryBytes: mem.at(-1) ?? 0, memoryLimitBytes: 1024 * 1024 * 1024, memoryPercent: 0, netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, pids: 1, source: 'cgroup-v2' }]]),
    cpuHistory: new Map([['x', cpu]]),
    memHistory: new Map([['x', mem]]),
  });
  const c = { id: 'x', name: 'x', state: 'running' } as never;
  it('scales the CPU sparkline to 100 % (or the CPU limit), not to its own maximum', () => {
    const r = render(<StatsPanel c={c} snapshot={snapshot([0.6, 0.6, 0.6, 0.3], [1e6, 1e6])} height={4} width={80} theme={theme} />);
    const cpuLine = strip(r.lastFrame()).split('\n').find((l) => l.startsWith('CPU')) ?? '';
    expect(cpuLine).toContain('▁▁▁▁');
    expect(cpuLine).not.toContain('█');
    const limited = render(<StatsPanel c={c} snapshot={snapshot([50, 25], [1e6])} cpuLimit={0.5} height={4} width={80} theme={theme} />);
    const l2 = strip(limited.lastFrame()).split('\n').find((l) => l.startsWith('CPU')) ?? '';
    expect(l2).toMatch(/█▄/);
    const memLine = strip(r.lastFrame()).split('\n').find((l) => l.startsWith('MEM')) ?? '';
    expect(memLine).not.toContain('█');
  });

  it('the journal wraps long reasons and shows every field of the selected entry', () => {
    const reason = 'restarted web: unhealthy for 30s; 2nd restart in 10m; next allowed in 40s; the budget of 3 restarts within 10m has 1 left <b>\x1b]0;t\x07';
    const entries: JournalEntry[] = [
      { seq: 1, ts: Date.parse('2024-05-01T10:00:00Z'), node: 'local', kind: 'act', rule: 'heal', container: 'web', containerId: 'abc', action: { kind: 'restart' }, level: 2, attempt: 2, reason, nextAllowedAt: Date.parse('2024-05-01T10:00:40Z') },
    ];
    let r = render(<JournalScreen entries={entries} agent={null} node="local" thisMachine back={0} only={null} height={12} width={50} theme={theme} />);
    let body = strip(r.lastFrame());
    expect(body.replace(/\s+/g, ' ')).toContain('has 1 left <b>\\x1b]0;t\\x07');
    expect(body.split('\n').every((l) => l.length <= 50)).toBe(true);
    r = render(<JournalScreen entries={entries} agent={null} node="local" thisMachine back={0} only={null} height={20} width={50} theme={theme} detail />);
    body = strip(r.lastFrame());
    expect(body).toMatch(/rule: +heal/);
    expect(body).toMatch(/action: +\{"kind":"restart"\}/);
    expect(body).toMatch(/next allowed: /);
    expect(body).not.toContain('\x1b]0;');
  });
});
