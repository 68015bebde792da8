/**
 * The host strip of an engine-only peer: its engine's API has no host
 * figures, and this machine's must never be shown under its name. The strip
 * says so, and does not wait for a sample that will not come.
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { HostStrip } from '../../tui/app/main-screen.js';
import { makeTheme } from '../../tui/app/theme.js';
import type { NodeView } from '../../tui/app/fleet-view.js';

const theme = makeTheme({ NO_COLOR: '1' });
const view = (name: string, reportsHost: boolean): NodeView => ({
  name,
  status: { state: 'online', since: 0 },
  containers: [],
  host: null,
  reportsHost,
  hostCpu: [],
  hostMem: [],
});

describe('HostStrip', () => {
  it('says an engine-only peer reports no host figures, naming it', () => {
    const r = render(<HostStrip node={view('edge-ssh', false)} theme={theme} width={120} />);
    const frame = r.lastFrame() ?? '';
    r.unmount();
    expect(frame).toContain('edge-ssh reports no host figures');
    expect(frame).not.toContain('waiting');
  });

  it('waits for the first sample of a node that reports them', () => {
    const r = render(<HostStrip node={view('a', true)} theme={theme} width={120} />);
    const frame = r.lastFrame() ?? '';
    r.unmount();
    expect(frame).toContain('waiting for the first sample');
  });

  it('makes a hostile node name inert', () => {
    const r = render(<HostStrip node={view('x\x1b]0;pwned\x07', false)} theme={theme} width={120} />);
    const frame = r.lastFrame() ?? '';
    r.unmount();
    expect(frame).not.toContain('\x1b]0;');
    expect(frame).toContain('reports no host figures');
  });
});
