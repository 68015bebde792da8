/**
 * `outpost ps` answered by the start file (tui/cli/fast-ps.ts): the same
 * rows as the full CLI's LocalNode.list on the private engine, only for the
 * plain forms, and nothing at all (the full CLI takes over) for an engine
 * that answers wrongly or not at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import type { ContainerSummary } from '../../core/model/types.js';
import { fastList } from '../../tui/cli/fast-ps.js';
import { fastPsArgs } from '../../tui/cli/ps-args.js';
import { outpost } from '../harness/cli.js';
import { docker, dockerHost, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'fastps-';
const dir = mkdtempSync(join(tmpdir(), 'op-fastps-'));
const servers: Server[] = [];

beforeAll(async () => {
  const d = docker();
  await makeContainer(d, { name: `${P}web`, cmd: 'sleep 3600', labels: { 'com.docker.compose.project': 'fastshop', 'x-note': 'a\x1b[31mred' } });
  await makeContainer(d, { name: `${P}done`, cmd: 'exit 3' });
  const done = d.getContainer(`${P}done`);
  await done.wait();
});

afterAll(async () => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
  await removeByPrefix(docker(), P);
});

/** A unix-socket "engine" that answers each request with `answer(requestLine)`. */
async function fakeEngine(name: string, answer: (sock: Socket, request: string) => void): Promise<string> {
  const path = join(dir, name);
  const srv = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', (d: Buffer) => answer(sock, d.toString('latin1').split('\r\n')[0] ?? ''));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(path, r));
  return path;
}

const ours = (rows: ContainerSummary[] | null) => (rows ?? []).filter((c) => c.name.startsWith(P));
/** Everything but the status line, which counts time ("Up 2 seconds"). */
const timeless = (rows: ContainerSummary[]) => rows.map(({ status: _status, ...rest }) => rest);

describe('fastPsArgs', () => {
  it('takes the plain forms of ps', () => {
    expect(fastPsArgs(['ps'])).toEqual({ all: false, json: false, quiet: false, wide: false });
    expect(fastPsArgs(['ps', '-a', '--json'])).toEqual({ all: true, json: true, quiet: false, wide: false });
    expect(fastPsArgs(['ps', '--quiet', '--wide', '--all'])).toEqual({ all: true, json: false, quiet: true, wide: true });
  });

  it('leaves everything else to the full CLI', () => {
    for (const args of [
      [],
      ['logs', 'web'],
      ['ps', '--node', 'n2'],
      ['ps', '--all-nodes'],
      ['ps', '-aq'],
      ['ps', '--help'],
      ['ps', 'extra'],
      ['ps', '__proto__'],
      ['ps', 'constructor'],
      ['ps', '--json='],
      ['-H', 'unix:///x', 'ps'],
      ['ps', '-H', 'unix:///x'],
    ]) {
      expect(fastPsArgs(args), JSON.stringify(args)).toBeNull();
    }
  });
});

describe('fastList on the private engine', () => {
  it('gives the rows LocalNode.list gives, with and without --all', async () => {
    const endpoint = parseHostUrl(dockerHost(), 'DOCKER_HOST');
    const node = new LocalNode({ endpoint });
    try {
      for (const all of [false, true]) {
        const fast = ours(await fastList(endpoint, all));
        const full = ours(await node.list({ all }));
        expect(fast.map((c) => c.name)).toEqual(all ? expect.arrayContaining([`${P}web`, `${P}done`]) : [`${P}web`]);
        expect(timeless(fast)).toEqual(timeless(full));
      }
      const done = ours(await fastList(endpoint, true)).find((c) => c.name === `${P}done`);
      expect(done).toMatchObject({ state: 'exited', exitCode: 3 });
      expect(done?.finishedAt).toBeGreaterThan(0);
    } finally {
      await node.close();
    }
  });

  it('through the CLI: the same JSON as the full path (`--node local` takes it)', async () => {
    const fast = await outpost(['ps', '-a', '--json']);
    const full = await outpost(['ps', '-a', '--json', '--node', 'local']);
    expect(fast.code, fast.stderr).toBe(0);
    expect(full.code, full.stderr).toBe(0);
    const mine = (text: string) => timeless(ours(JSON.parse(text) as ContainerSummary[]));
    expect(mine(fast.stdout)).toEqual(mine(full.stdout));
    expect(mine(fast.stdout).length).toBe(2);
    const table = await outpost(['ps']);
    expect(table.stdout).toMatch(new RegExp(`^[0-9a-f]{12} +${P}web +\\S+ +up `, 'm'));
    expect(table.stdout).toMatch(/fastshop/);
  });
});

describe('an engine that answers wrongly', () => {
  it('makes fastList give up (null), within its deadline, for every kind of wrong answer', async () => {
    const id = 'a'.repeat(64);
    const list = `HTTP/1.0 200 OK\r\n\r\n[{"Id":"${id}"}]`;
    const engines = {
      silent: await fakeEngine('silent.sock', () => undefined),
      error: await fakeEngine('500.sock', (s) => s.end('HTTP/1.1 500 Internal Server Error\r\n\r\n{"message":"boom"}')),
      cut: await fakeEngine('cut.sock', (s) => s.end('HTTP/1.0 200 OK\r\n\r\n[{"Id": ')),
      notList: await fakeEngine('object.sock', (s) => s.end('HTTP/1.0 200 OK\r\n\r\n{"message":"not a list"}')),
      badId: await fakeEngine('badid.sock', (s) => s.end('HTTP/1.0 200 OK\r\n\r\n[{"Id":"../../../info"}]')),
      badInspect: await fakeEngine('badinspect.sock', (s, req) => s.end(req.startsWith('GET /containers/json') ? list : 'HTTP/1.0 200 OK\r\n\r\n"a string"')),
      hungInspect: await fakeEngine('hunginspect.sock', (s, req) => (req.startsWith('GET /containers/json') ? s.end(list) : undefined)),
      failingInspect: await fakeEngine('500inspect.sock', (s, req) => s.end(req.startsWith('GET /containers/json') ? list : 'HTTP/1.0 500 Oops\r\n\r\n{}')),
    };
    for (const [what, path] of Object.entries(engines)) {
      const started = Date.now();
      const rows = await fastList(parseHostUrl(`unix://${path}`, 'DOCKER_HOST'), true);
      expect(rows, what).toBeNull();
      expect(Date.now() - started, what).toBeLessThan(5000);
    }
    expect(await fastList(parseHostUrl('unix:///nonexistent/docker.sock', 'DOCKER_HOST'), false)).toBeNull();
    expect(await fastList(parseHostUrl('tcp://127.0.0.1:9', 'DOCKER_HOST'), false)).toBeNull();
  });

  it('leaves out a container removed between the list and its inspect, as the full path does', async () => {
    const gone = 'b'.repeat(64);
    const path = await fakeEngine('gone.sock', (s, req) =>
      s.end(req.startsWith('GET /containers/json') ? `HTTP/1.0 200 OK\r\n\r\n[{"Id":"${gone}"}]` : 'HTTP/1.0 404 Not Found\r\n\r\n{"message":"No such container"}'),
    );
    expect(await fastList(parseHostUrl(`unix://${path}`, 'DOCKER_HOST'), true)).toEqual([]);
  });

  it('hands `outpost ps` to the full CLI, which names the engine and what went wrong', async () => {
    const path = await fakeEngine('cli-garbage.sock', (s) => s.end('HTTP/1.0 200 OK\r\n\r\n[{"Id": '));
    const r = await outpost(['ps', '--json'], { DOCKER_HOST: `unix://${path}`, OUTPOST_ENGINE_TIMEOUT: '2' });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`unix://${path}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
