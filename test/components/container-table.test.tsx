/**
 * The all-nodes list when two peers reach one engine (an engine-only peer
 * and the agent on the same box): the same container IDs on two nodes. Each
 * row must be its own element; with the ID alone as React's key, rows of
 * one node stayed on screen after a filter or a change of view.
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { ContainerTable } from '../../tui/app/main-screen.js';
import { makeTheme } from '../../tui/app/theme.js';
import type { FleetSnapshot } from '../../tui/app/fleet-view.js';
import type { ListRow } from '../../tui/presentation/container-list.js';
import { summary } from '../harness/summary.js';

const theme = makeTheme({ NO_COLOR: '1' });
const snapshot: FleetSnapshot = { version: 1, nodes: [], stats: new Map(), cpuHistory: new Map(), memHistory: new Map() };
const row = (node: string, name: string): ListRow => ({ kind: 'container', container: summary({ id: `id-${name}`, name, node }), grouped: false }) as ListRow;

function table(rows: ListRow[]) {
  return <ContainerTable rows={rows} top={0} height={8} selectedId={null} marked={new Set()} snapshot={snapshot} busy={new Map()} theme={theme} width={80} now={Date.now()} emptyText="none" sort="name" agent={new Map()} nodeColumn />;
}

describe('ContainerTable across nodes', () => {
  it('shows a container of the same ID on two nodes as two rows, and drops them when the rows go', () => {
    const both = [row('b-engine', 'bench-00'), row('b-join', 'bench-00'), row('b-engine', 'bench-01'), row('b-join', 'bench-01')];
    const r = render(table(both));
    const first = r.lastFrame() ?? '';
    expect(first.split('\n').filter((l) => l.includes('bench-0'))).toHaveLength(4);
    r.rerender(table([row('b-join', 'bench-01')]));
    const after = (r.lastFrame() ?? '').split('\n').filter((l) => l.includes('bench-0'));
    r.unmount();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatch(/^b-j…\s+bench-01/);
  });
});

describe('the host strip before its second sample (issue: `CPU 0.0%` on the first frame)', () => {
  it('shows no CPU figure, nor network rates, until there is one', async () => {
    const { HostStrip } = await import('../../tui/app/main-screen.js');
    const host = { node: 'n', at: 0, hostname: 'h', cpuPercent: null, cores: 2, load: [0.5, 0.4, 0.3], memTotalBytes: 4 << 30, memAvailableBytes: 2 << 30, memUsedPercent: 50, swapTotalBytes: 0, swapUsedBytes: 0, disks: [], temperatureC: null, netRxBytesPerSec: null, netTxBytesPerSec: null, uptimeSeconds: 10 } as const;
    const node = { name: 'n', status: { state: 'online', since: 0 }, containers: [], host: { ...host, load: [...host.load] as [number, number, number], disks: [] }, hostCpu: [], hostMem: [50] } as never;
    const r = render(<HostStrip node={node} theme={theme} width={120} />);
    const line = r.lastFrame() ?? '';
    r.unmount();
    expect(line).toMatch(/^CPU +… /);
    expect(line).not.toMatch(/CPU +0\.0%/);
    expect(line).toContain('NET ↓…/s ↑…/s');
    expect(line).toContain('MEM 50.0%');
  });
});

describe('advice is wrapped, not cut (issue: "Is it…" at 120 columns; ink-testing-library draws 100)', () => {
  const reason = 'Cannot connect to the Docker engine at unix:///tmp/op-edge-1/docker.sock: connect ENOENT /tmp/op-edge-1/docker.sock. Is it running? Start it with `sudo systemctl start docker`, or point DOCKER_HOST at the engine you mean.';
  async function frameOf(o: { message?: string; offline?: boolean; seenAgo?: number }) {
    const { MainView } = await import('../../tui/app/main-view.js');
    const { initialState } = await import('../../tui/app/state.js');
    const now = 1_000_000;
    const status = o.offline ? ({ state: 'offline', since: now - (o.seenAgo ?? 40_000), reason, retryInMs: 1000 } as const) : ({ state: 'online', since: 0 } as const);
    const nodeView = { name: 'edge-1', status, containers: [summary({ node: 'edge-1' })], host: null, reportsHost: true, hostCpu: [], hostMem: [] };
    const snap: FleetSnapshot = { ...snapshot, nodes: [nodeView] };
    const state = { ...initialState, ...(o.message ? { message: { text: o.message, kind: 'error' as const } } : {}) };
    const r = render(
      <MainView state={state} snapshot={snap} nodeView={nodeView} nodeName="edge-1" rows={[]} selected={null} tableTop={{ current: 0 }} busy={new Map()} agentMarks={new Map()} tail={null} details={null} rules={null} selNode={null} theme={theme} width={100} height={30} now={now} readOnly={false} />,
    );
    const f = r.lastFrame() ?? '';
    r.unmount();
    return f;
  }

  it('a long message on the status line is wrapped whole', async () => {
    const f = await frameOf({ message: `restart edge-1/web failed: ${reason}` });
    const lines = f.split('\n');
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('Is it running? Start it with `sudo systemctl start docker`, or point DOCKER_HOST at the engine you mean.');
    expect(lines.length).toBe(30);
  });

  it('an unreachable node\'s reason is wrapped whole, with when it was last seen', async () => {
    const f = await frameOf({ offline: true });
    const joined = f.split('\n').join(' ').replace(/\s+/g, ' ');
    expect(joined).toContain('edge-1 offline (last seen 40s ago), retrying (last known state below):');
    expect(joined).toContain('or point DOCKER_HOST at the engine you mean.');
    expect(f.split('\n').length).toBe(30);
  });
});
