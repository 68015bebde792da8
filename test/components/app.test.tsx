import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { Fleet } from '../../core/fleet.js';
import { App } from '../../tui/app/app.js';
import { localRules } from '../../core/agent/lazy-rules.js';
import { FleetView } from '../../tui/app/fleet-view.js';
import { DEFAULT_PREFS } from '../../tui/app/prefs.js';
import { makeTheme } from '../../tui/app/theme.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'app-';
const strip = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');
const tick = (ms = 40) => new Promise((r) => setTimeout(r, ms));

async function mount(options: { readOnly?: boolean; endpoint?: string } = {}) {
  const node = new LocalNode({ endpoint: parseHostUrl(options.endpoint ?? dockerHost(), 'DOCKER_HOST'), reconnectMinMs: 100, reconnectMaxMs: 200, rules: localRules(process.env) });
  const fleet = new Fleet([node]);
  const view = new FleetView(fleet, { statsIntervalMs: 500, hostIntervalMs: 500 });
  view.start();
  await node.connect().catch(() => undefined);
  const r = render(
    <App fleet={fleet} view={view} theme={makeTheme({ NO_COLOR: '1' })} readOnly={options.readOnly === true} prefs={{ ...DEFAULT_PREFS, saveDir: "/tmp" }} onExec={async () => {}} />,
  );
  const frame = () => strip(r.lastFrame());
  // The list row of one container, so a state check cannot be satisfied by another row or the header.
  const row = (name: string) => frame().split('\n').find((l) => l.includes(name)) ?? '';
  const close = async () => {
    r.unmount();
    view.close();
    await fleet.close();
  };
  return { r, node, frame, row, close };
}

beforeAll(async () => {
  await makeContainer(docker(), { name: `${P}web`, cmd: 'while :; do echo tick; sleep 0.2; done', labels: { 'com.docker.compose.project': 'appshop' } });
  await makeContainer(docker(), { name: `${P}other`, cmd: 'sleep 3600' });
});
afterAll(() => removeByPrefix(docker(), P));

describe('App on the private engine', () => {
  it('shows the compose group and containers, filters, and opens logs', async () => {
    const { r, frame, close } = await mount();
    try {
      await eventually(() => frame().includes(`${P}web`) && frame().includes('appshop'), 10_000, 'containers on screen');
      // Typed right after '/', before any re-render: the keys must still reach the prompt.
      r.stdin.write('/');
      r.stdin.write(`${P}oth`);
      await eventually(() => frame().includes(`${P}other`) && !frame().includes(`${P}web`), 5000, 'list filtered as typed');
      r.stdin.write('\x1b'); // esc: leave the prompt, clearing the filter
      await tick(100);
      r.stdin.write(':');
      await tick();
      r.stdin.write(`logs ${P}web`);
      await tick();
      r.stdin.write('\r');
      await eventually(() => frame().includes(`logs ${P}web`) && frame().includes('tick'), 10_000, 'logs screen with lines');
      r.stdin.write('q');
      await eventually(() => frame().includes('NAME'), 5000, 'back to the list');
    } finally {
      await close();
    }
  });

  it('restarts with r, stops and starts with s, removes with d after y', async () => {
    const { r, node, frame, row, close } = await mount();
    try {
      await makeContainer(docker(), { name: `${P}target`, cmd: 'trap "exit 0" TERM; sleep 3600 & wait' });
      await eventually(() => frame().includes(`${P}target`), 10_000, 'target listed');
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}target\r`);
      await tick(100);
      const before = (await node.inspect(`${P}target`)).startedAt ?? 0;
      r.stdin.write('r');
      await eventually(async () => ((await node.inspect(`${P}target`)).startedAt ?? 0) > before, 15_000, 'restarted');
      await eventually(() => frame().includes(`restarted local/${P}target`), 5000, 'outcome shown');
      // `s` stops what the screen shows running and starts what it shows stopped; the restart's
      // events may still be on their way, so wait for the row to say running as a person would.
      await eventually(() => / up \d/.test(row(`${P}target`)), 10_000, 'running on screen after the restart');

      r.stdin.write('s');
      await eventually(async () => (await node.inspect(`${P}target`)).state === 'exited', 15_000, 'stopped');
      await eventually(() => /exited \(\d+\)/.test(row(`${P}target`)), 10_000, 'exited on screen');
      r.stdin.write('s');
      await eventually(async () => (await node.inspect(`${P}target`)).state === 'running', 15_000, 'started');
      await eventually(() => / up \d/.test(row(`${P}target`)), 10_000, 'running on screen');

      r.stdin.write('d');
      await eventually(() => frame().includes(`Remove local/${P}target (running: it will be killed)? y/N`), 5000, 'confirmation');
      r.stdin.write('n');
      await tick(200);
      expect((await node.inspect(`${P}target`)).state).toBe('running');
      r.stdin.write('d');
      await eventually(() => frame().includes('y/N'), 5000, 'confirmation again');
      r.stdin.write('y');
      await eventually(async () => !(await node.list({ all: true })).some((c) => c.name === `${P}target`), 15_000, 'removed');
    } finally {
      await close();
    }
  });

  it('in read-only mode hides the actions and refuses them', async () => {
    const { r, node, frame, close } = await mount({ readOnly: true });
    try {
      await eventually(() => frame().includes(`${P}other`), 10_000, 'listed');
      expect(frame()).toContain('read-only');
      expect(frame()).not.toContain('r restart');
      const before = (await node.inspect(`${P}other`)).startedAt;
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}other\r`);
      await tick(100);
      r.stdin.write('r');
      await eventually(() => frame().includes('read-only: restart is off'), 5000, 'refusal');
      r.stdin.write('?');
      await eventually(() => frame().includes('Keys — main view (read-only)'), 5000, 'help');
      expect(frame()).not.toMatch(/\bremove\b/);
      expect((await node.inspect(`${P}other`)).startedAt).toBe(before);
    } finally {
      await close();
    }
  });

  it('says why when the engine cannot be reached', async () => {
    const { frame, close } = await mount({ endpoint: 'unix:///tmp/op-nowhere.sock' });
    try {
      // The reason wraps (its remedy is at its end): read as one text.
      const text = () => frame().replace(/\s+/g, ' ');
      await eventually(() => text().includes('Cannot reach the Docker engine at unix:///tmp/op-nowhere.sock'), 10_000, 'offline reason');
      expect(text()).toContain('retrying');
      expect(text()).toMatch(/Is it running\? Start it .*DOCKER_HOST/);
    } finally {
      await close();
    }
  });
});

describe('selection across a re-creation (a real engine)', () => {
  it('after the followed container is re-created under its name, back on the list the selection is on it, not a neighbour', async () => {
    const d = docker();
    const cmd = 'while :; do echo recr; sleep 0.2; done';
    const c = await makeContainer(d, { name: `${P}recr`, cmd });
    const { r, frame, close } = await mount();
    try {
      await eventually(() => frame().includes(`${P}recr`), 10_000, 'listed');
      r.stdin.write('G'); // the last row: recr, after other in the group of no compose project
      await eventually(() => frame().includes(`─ local/${P}recr`), 5000, 'recr selected');
      r.stdin.write('\r');
      await eventually(() => frame().includes(`logs ${P}recr`) && frame().includes('recr'), 10_000, 'the logs view');
      await c.remove({ force: true });
      const again = await makeContainer(d, { name: `${P}recr`, cmd });
      await eventually(() => frame().includes('container re-created'), 15_000, 'the re-creation followed');
      r.stdin.write('\x1b');
      await eventually(() => frame().includes('NAME'), 5000, 'back on the list');
      await eventually(() => frame().includes(`─ local/${P}recr`), 5000, 'the re-created container selected');
      expect(frame()).not.toMatch(new RegExp(`─ local/${P}(web|other)`));
      await again.remove({ force: true });
    } finally {
      await close();
    }
  });
});

describe('Rules tab and Journal view', () => {
  it('shows which rules apply to the selected container, their state, the agent status, and the journal', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Journal } = await import('../../core/agent/journal.js');
    const dir = mkdtempSync(join(tmpdir(), 'outpost-tui-rules-'));
    const saved = { c: process.env.XDG_CONFIG_HOME, s: process.env.XDG_STATE_HOME };
    process.env.XDG_CONFIG_HOME = join(dir, 'config');
    process.env.XDG_STATE_HOME = join(dir, 'state');
    mkdirSync(join(dir, 'config', 'outpost'), { recursive: true });
    writeFileSync(
      join(dir, 'config', 'outpost', 'rules.yaml'),
      `rules:\n  - {name: crash, match: {name: "${P}ru*"}, when: {exit: nonzero}, then: restart, budget: 2/10m}\n  - {name: shout, match: {name: "${P}ru*"}, when: {log: "<script>"}, then: notify}\n`,
    );
    const { journal } = Journal.open(join(dir, 'state', 'outpost'));
    const now = Date.now();
    for (const [i, kind] of (['act', 'act', 'give-up'] as const).entries()) {
      journal.append({ ts: now - 5000 + i, node: 'local', kind, rule: 'crash', container: `${P}rules`, level: i + 1, reason: `${kind} number ${i} <img src=x onerror=alert(1)>\x1b[2J` });
    }
    await makeContainer(docker(), { name: `${P}rules`, cmd: 'sleep 3600' });
    const { r, frame, close } = await mount();
    try {
      await eventually(() => frame().includes(`${P}rules`), 10_000, 'listed');
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}rules\r`);
      await tick(100);
      r.stdin.write('\t\t\t'); // logs → stats → inspect → rules
      await eventually(() => frame().includes('GAVE UP') && frame().includes('shout'), 10_000, 'rules tab');
      expect(frame()).toContain('no agent enforces rules on local');
      expect(frame()).toContain('no rules agent');
      expect(frame()).toMatch(/GAVE UP\s+crash gave up \d+s ago after 2 restarts/);
      expect(frame()).toMatch(/armed\s+shout armed: would notify on a line matching \/<script>\//);
      // Hostile text in the journal stays text: the escape sequence is shown, not obeyed.
      expect(frame()).toContain('give-up number 2 <img src=x onerror=alert(1)>\\x1b[2J');
      // A new decision appears while the tab is open.
      journal.append({ ts: Date.now(), node: 'local', kind: 'notify', rule: 'shout', container: `${P}rules`, reason: 'fresh entry' });
      await eventually(() => frame().includes('fresh entry'), 5000, 'followed entry');
      // A notification from the agent reaches the status line too.
      await eventually(() => frame().includes('⚑ local: fresh entry'), 10_000, 'notice');
      r.stdin.write('P');
      await eventually(() => frame().includes(`rules paused for local/${P}rules (P resumes)`) && /paused\s+crash silenced: rules are paused for app-rules/.test(frame()), 5000, 'paused');
      r.stdin.write('P');
      await eventually(() => frame().includes(`rules resumed for local/${P}rules`), 5000, 'resumed');
      r.stdin.write('R');
      await eventually(() => frame().includes(`re-arm of local/${P}rules requested (no agent runs: the next one applies it)`), 5000, 're-arm');
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(join(dir, 'state', 'outpost')).filter((f) => f.startsWith('reset-request.'))).toHaveLength(1);
      r.stdin.write('J');
      await eventually(() => frame().includes('Journal of local ('), 5000, 'journal view');
      expect(frame()).toContain('act     act number 0');
      r.stdin.write('c');
      await eventually(() => frame().includes(`Journal of local/${P}rules`), 5000, 'only this container');
      r.stdin.write('\x1b');
      await eventually(() => frame().includes('NAME'), 5000, 'back to the list');
    } finally {
      journal.close();
      await close();
      process.env.XDG_CONFIG_HOME = saved.c;
      process.env.XDG_STATE_HOME = saved.s;
      if (saved.c === undefined) delete process.env.XDG_CONFIG_HOME;
      if (saved.s === undefined) delete process.env.XDG_STATE_HOME;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
