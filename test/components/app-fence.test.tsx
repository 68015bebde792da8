/**
 * The terminal UI on a container that failover fenced on this machine: `s` (start) is refused by
 * the node, and the UI asks with the risk named ("may run twice … press y to start anyway");
 * any other key leaves it stopped, y starts it with the override. A real engine, a real LocalNode
 * with the agent's state directory holding placement-state.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, describe, expect, it } from 'vitest';
import { PLACEMENT_STATE_FILE } from '../../core/agent/placement-link.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { Fleet } from '../../core/fleet.js';
import { App } from '../../tui/app/app.js';
import { FleetView } from '../../tui/app/fleet-view.js';
import { DEFAULT_PREFS } from '../../tui/app/prefs.js';
import { makeTheme } from '../../tui/app/theme.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'tui-fence-';
const strip = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');
const tick = (ms = 60) => new Promise((r) => setTimeout(r, ms));
const stateDir = mkdtempSync(join(tmpdir(), 'op-tui-fence-'));

afterAll(async () => {
  await removeByPrefix(docker(), P);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the TUI on a fenced container', () => {
  it('s is refused, the question names the risk; n leaves it stopped, y starts it with the override', async () => {
    const name = `${P}web-0`;
    const id = (await makeContainer(docker(), { name, cmd: 'sleep 3600', start: false })).id;
    writeFileSync(join(stateDir, PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'local', failover: { fenced: { [id]: { workload: `${P}web`, replica: 0, atMs: 1, stopMs: 1, reason: 'cut off' } } }, specs: {} }));
    const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), stateDir });
    const fleet = new Fleet([node]);
    const view = new FleetView(fleet, { statsIntervalMs: 500, hostIntervalMs: 500 });
    view.start();
    await node.connect();
    const r = render(<App fleet={fleet} view={view} theme={makeTheme({ NO_COLOR: '1' })} readOnly={false} prefs={{ ...DEFAULT_PREFS, saveDir: '/tmp' }} onExec={async () => 0} />);
    const frame = () => strip(r.lastFrame()).replace(/\s+/g, ' ');
    const running = async () => (await docker().getContainer(id).inspect()).State.Running;
    try {
      // :containers clears any filter; the filter then selects ours.
      await eventually(() => frame().includes('local') && frame().length > 0, 10_000, 'drawn');
      r.stdin.write(':');
      await tick();
      r.stdin.write('containers\r');
      await tick(100);
      r.stdin.write('/');
      await tick();
      r.stdin.write(`${P}web\r`);
      await eventually(() => frame().includes(name), 10_000, 'listed');
      r.stdin.write('s');
      await eventually(() => frame().includes('may run twice'), 10_000, 'the question');
      expect(frame()).toContain(`${P}web replica 0`);
      expect(frame()).toContain('is fenced on local');
      expect(frame()).toContain('Press y to start anyway');
      expect(await running()).toBe(false);
      r.stdin.write('n');
      await eventually(() => frame().includes('cancelled'), 5000, 'cancelled');
      expect(await running()).toBe(false);
      r.stdin.write('s');
      await eventually(() => frame().includes('Press y to start anyway'), 10_000, 'asked again');
      r.stdin.write('y');
      await eventually(running, 10_000, 'started with the override');
      await eventually(() => frame().includes(`started local/${name}`), 10_000, 'said');
    } finally {
      r.unmount();
      view.close();
      await fleet.close();
    }
  });
});
