/**
 * `outpost start|restart NAME` on a container that placement failover fenced on this machine
 * (placement-state.json in the agent's state directory, $XDG_STATE_HOME/outpost): refused with
 * the error (which workload, why, the risk, the override) and exit 5, nothing started;
 * `--override-fence` starts it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PLACEMENT_STATE_FILE } from '../../core/agent/placement-link.js';
import { outpost } from '../harness/cli.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'cli-fence-';
const FENCED = `${P}web-0`;
const FREE = `${P}free`;
const home = mkdtempSync(join(tmpdir(), 'op-cli-fence-'));
const env = { XDG_STATE_HOME: join(home, 'state'), XDG_CONFIG_HOME: join(home, 'config') };
let id = '';
const running = async (name: string) => (await docker().getContainer(name).inspect()).State.Running;

beforeAll(async () => {
  await removeByPrefix(docker(), P);
  id = (await makeContainer(docker(), { name: FENCED, cmd: 'sleep 600', start: false })).id;
  await makeContainer(docker(), { name: FREE, cmd: 'sleep 600', start: false });
  const dir = join(env.XDG_STATE_HOME, 'outpost');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, PLACEMENT_STATE_FILE), JSON.stringify({ version: 1, self: 'local', failover: { fenced: { [id]: { workload: `${P}web`, replica: 0, atMs: 1, stopMs: 1, reason: 'cut off' } } }, specs: {} }));
});

afterAll(async () => {
  await removeByPrefix(docker(), P);
  rmSync(home, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const n of [FENCED, FREE]) await docker().getContainer(n).stop({ t: 0 }).catch(() => undefined);
});

describe('outpost start|restart on a fenced container', () => {
  it.each([['start'], ['restart', '-t', '1']])('%s: refused with what, why and how to override; exit 5; not started', async (...args) => {
    const r = await outpost([...args, FENCED], env);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Error: ${FENCED}: ${P}web replica 0 (container ${id.slice(0, 12)}) is fenced on local`);
    expect(r.stderr).toMatch(/cut off from a majority/);
    expect(r.stderr).toMatch(/may run it twice/);
    expect(r.stderr).toMatch(/--override-fence/);
    expect(await running(FENCED)).toBe(false);
  });

  it('with other containers: the others start, the fenced one is refused, exit 5', async () => {
    const r = await outpost(['start', FREE, FENCED], env);
    expect(r.code).toBe(5);
    expect(r.stdout.trim()).toBe(FREE);
    expect(r.stderr).toMatch(/is fenced on local/);
    expect(await running(FREE)).toBe(true);
    expect(await running(FENCED)).toBe(false);
  });

  it.each([['start'], ['restart', '-t', '1']])('%s --override-fence starts it', async (...args) => {
    const r = await outpost([...args, '--override-fence', FENCED], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(FENCED);
    expect(await running(FENCED)).toBe(true);
  });

  it('--help names the flag and its risk', async () => {
    const r = await outpost(['start', '--help'], env);
    expect(r.stdout).toMatch(/--override-fence\s+start even a container that placement failover fenced/);
  });
});
