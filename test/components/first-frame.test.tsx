/**
 * The first frame painted before the UI loads (tui/app/first-frame.ts): read
 * from the private engine's list with the same request the TUI makes, laid
 * out like the Ink app's first frame row for row, safe with hostile names,
 * and silent (nothing painted) when the engine is not there.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { Fleet } from '../../core/fleet.js';
import { summaryFromList, type RawListRow } from '../../core/docker/mapping.js';
import { App } from '../../tui/app/app.js';
import { requestList } from '../../tui/app/engine-list.js';
import { firstFrameLines, paintFirstFrame, takePaintedFrame } from '../../tui/app/first-frame.js';
import { FleetView } from '../../tui/app/fleet-view.js';
import { DEFAULT_PREFS } from '../../tui/app/prefs.js';
import { makeTheme } from '../../tui/app/theme.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'ff-';
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

beforeAll(async () => {
  await makeContainer(docker(), { name: `${P}web`, cmd: 'sleep 3600', labels: { 'com.docker.compose.project': 'ffshop' } });
  await makeContainer(docker(), { name: `${P}db`, cmd: 'sleep 3600', labels: { 'com.docker.compose.project': 'ffshop' } });
  await makeContainer(docker(), { name: `${P}solo`, cmd: 'sleep 3600' });
});
afterAll(() => removeByPrefix(docker(), P));

async function engineList() {
  const raw = (await requestList(parseHostUrl(dockerHost(), 'DOCKER_HOST'), 5000)) as RawListRow[];
  return raw.map((r) => summaryFromList(r, 'local'));
}

describe('first frame', () => {
  it('lays out the engine’s containers as the Ink app’s first frame does', async () => {
    const list = await engineList();
    expect(list.map((c) => c.name)).toEqual(expect.arrayContaining([`${P}web`, `${P}db`, `${P}solo`]));
    // ink-testing-library's terminal: 100 columns, 24 rows.
    const painted = firstFrameLines(list, { columns: 100, rows: 24, readOnly: false, noColor: true, now: Date.now() }).map(strip);
    expect(painted).toHaveLength(23);

    const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST') });
    const fleet = new Fleet([node]);
    const view = new FleetView(fleet, { statsIntervalMs: 60_000, hostIntervalMs: 60_000 });
    view.start();
    await node.connect();
    const r = render(<App fleet={fleet} view={view} theme={makeTheme({ NO_COLOR: '1' })} readOnly={false} prefs={{ ...DEFAULT_PREFS }} onExec={async () => {}} />);
    try {
      await eventually(() => strip(r.lastFrame() ?? '').includes(`${P}solo`), 10_000, 'the app lists the containers');
      const ink = strip(r.lastFrame() ?? '').split('\n');
      expect(ink).toHaveLength(painted.length);
      // The table (heading and rows, group headings included), the tab line and the key hints
      // agree; the state column may differ while the app's inspects complete ("running" → "up 5s").
      const tableEnd = ink.findIndex((l) => l.startsWith(' logs '));
      expect(painted.findIndex((l) => l.startsWith(' logs '))).toBe(tableEnd);
      // So may RST (… until the inspects tell the restart count) and the age column (seconds pass).
      const withoutState = (l: string) => l.trimEnd().replace(/(running|up \S+|exited \S*|created)\s+/, '').replace(/ (…|\d+) /, ' # ').replace(/ \d+[smhd]$/, ' #');
      for (let i = 2; i < tableEnd; i++) expect(withoutState(painted[i] as string).trimEnd()).toBe(withoutState(ink[i] as string).trimEnd());
      expect(painted[tableEnd]).toBe(ink[tableEnd]);
      expect(painted.at(-1)).toBe(ink.at(-1));
      expect(painted.some((l) => l.includes('▾ ffshop  2/2 running'))).toBe(true);
    } finally {
      r.unmount();
      view.close();
      await fleet.close();
    }
  });

  it('keeps hostile names inert and cuts every line to the terminal width', () => {
    const hostile = summaryFromList({ Id: 'a'.repeat(64), Names: ['/evil\x1b]52;c;AAAA\x07\x1b[2J'], Image: 'x'.repeat(300), State: 'running', Status: 'Up 1 second' }, 'local');
    const lines = firstFrameLines([hostile], { columns: 60, rows: 20, readOnly: true, noColor: false, now: Date.now() });
    for (const l of lines) {
      expect(l).not.toMatch(/\x1b\]|\x07|\x1b\[2J/);
      expect(strip(l).length).toBeLessThanOrEqual(60);
    }
    expect(lines.some((l) => strip(l).includes('evil\\x1b]52;c;AAAA'))).toBe(true);
    expect(strip(lines[0] as string)).toContain('read-only');
  });

  it('says there are no containers when the list is empty', () => {
    const lines = firstFrameLines([], { columns: 80, rows: 24, readOnly: false, noColor: true, now: 0 }).map(strip);
    expect(lines.some((l) => l.includes('no containers on this node'))).toBe(true);
    expect(lines.some((l) => l.includes('select a container'))).toBe(true);
  });

  it('paints nothing when the engine does not answer, and nothing when the answer is not a list', async () => {
    const tty = () => {
      const out = Object.assign(new EventEmitter(), { isTTY: true, columns: 100, rows: 30, written: '', write(s: string) { this.written += s; return true; } });
      const inp = Object.assign(new EventEmitter(), { isTTY: true, raw: false, setRawMode(on: boolean) { this.raw = on; return this; } });
      return { out, inp };
    };
    // Engines that misbehave: silent, an error status, garbage, an endless answer.
    const dir = mkdtempSync(join(tmpdir(), 'op-ff-'));
    const servers: Server[] = [];
    const serve = async (name: string, onData: (sock: import('node:net').Socket) => void) => {
      const path = join(dir, name);
      const srv = createServer((sock) => sock.once('data', () => onData(sock)));
      servers.push(srv);
      await new Promise<void>((res) => srv.listen(path, res));
      return parseHostUrl(`unix://${path}`, 'DOCKER_HOST');
    };
    const silent = await serve('silent.sock', () => undefined);
    const failing = await serve('500.sock', (sock) => sock.end('HTTP/1.1 500 Internal Server Error\r\n\r\n{"message":"boom"}'));
    const garbage = await serve('garbage.sock', (sock) => sock.end('HTTP/1.0 200 OK\r\n\r\n[{"Id": '));
    const endless = await serve('endless.sock', (sock) => {
      sock.write('HTTP/1.0 200 OK\r\n\r\n[');
      const chunk = Buffer.alloc(1 << 20, 0x20);
      const pump = () => {
        while (!sock.destroyed && sock.write(chunk));
        if (!sock.destroyed) sock.once('drain', pump);
      };
      sock.on('error', () => undefined);
      pump();
    });
    for (const answer of [
      () => requestList(silent, 200),
      () => requestList(failing, 2000),
      () => requestList(garbage, 2000),
      () => requestList(endless, 5000),
      () => requestList(parseHostUrl('unix:///nonexistent/docker.sock', 'DOCKER_HOST'), 200),
      () => requestList(parseHostUrl('tcp://127.0.0.1:9', 'DOCKER_HOST'), 200),
      () => Promise.resolve({ message: 'not a list' }),
      () => Promise.resolve([{ Names: ['/no-id'] }]),
    ]) {
      const { out, inp } = tty();
      const done = await paintFirstFrame({ list: answer(), readOnly: false, env: {}, stdout: out as unknown as NodeJS.WriteStream, stdin: inp as unknown as NodeJS.ReadStream });
      expect(done).toBe(false);
      expect(out.written).toBe('');
      expect(inp.raw).toBe(false);
      expect(takePaintedFrame()).toBeNull();
    }
    for (const srv of servers) srv.close();
  });

  it('paints a frame the app then starts from', async () => {
    const out = Object.assign(new EventEmitter(), { isTTY: true, columns: 100, rows: 30, written: '', write(s: string) { this.written += s; return true; } });
    const inp = Object.assign(new EventEmitter(), { isTTY: true, raw: false, setRawMode(on: boolean) { this.raw = on; return this; } });
    const list = requestList(parseHostUrl(dockerHost(), 'DOCKER_HOST'), 5000);
    const done = await paintFirstFrame({ list, readOnly: false, env: { NO_COLOR: '1' }, stdout: out as unknown as NodeJS.WriteStream, stdin: inp as unknown as NodeJS.ReadStream });
    expect(done).toBe(true);
    expect(inp.raw).toBe(true); // keys typed before the app reads them do not echo
    expect(out.written.startsWith('\x1b[?1049h')).toBe(true);
    expect(out.written).toContain(`${P}solo`);
    const frame = takePaintedFrame();
    expect(frame?.grid).toHaveLength(29);
    expect(takePaintedFrame()).toBeNull(); // handed over once
  });
});
