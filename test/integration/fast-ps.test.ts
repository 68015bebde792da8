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
import { EngineTimeoutError } from '../../core/model/errors.js';
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

const ours = (rows: ContainerSummary[] | EngineTimeoutError | null) => (Array.isArray(rows) ? rows : []).filter((c) => c.name.startsWith(P));
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
        const fast = ours(await fastList(endpoint, all, 10_000));
        const full = ours(await node.list({ all }));
        expect(fast.map((c) => c.name)).toEqual(all ? expect.arrayContaining([`${P}web`, `${P}done`]) : [`${P}web`]);
        expect(timeless(fast)).toEqual(timeless(full));
      }
      const done = ours(await fastList(endpoint, true, 10_000)).find((c) => c.name === `${P}done`);
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
      const rows = await fastList(parseHostUrl(`unix://${path}`, 'DOCKER_HOST'), true, 1000);
      if (what === 'silent' || what === 'hungInspect') {
        // A hung engine is said at its deadline, as the full CLI says it.
        expect(rows, what).toBeInstanceOf(EngineTimeoutError);
        expect((rows as EngineTimeoutError).message, what).toContain(`unix://${path} did not answer GET /containers/${what === 'silent' ? 'json' : '{id}/json'} within 1 s`);
      } else {
        expect(rows, what).toBeNull();
      }
    }
    expect(await fastList(parseHostUrl('unix:///nonexistent/docker.sock', 'DOCKER_HOST'), false, 1000)).toBeNull();
    expect(await fastList(parseHostUrl('tcp://127.0.0.1:9', 'DOCKER_HOST'), false, 1000)).toBeNull();
  });

  it('leaves out a container removed between the list and its inspect, as the full path does', async () => {
    const gone = 'b'.repeat(64);
    const path = await fakeEngine('gone.sock', (s, req) =>
      s.end(req.startsWith('GET /containers/json') ? `HTTP/1.0 200 OK\r\n\r\n[{"Id":"${gone}"}]` : 'HTTP/1.0 404 Not Found\r\n\r\n{"message":"No such container"}'),
    );
    expect(await fastList(parseHostUrl(`unix://${path}`, 'DOCKER_HOST'), true, 2000)).toEqual([]);
  });

  it('hands `outpost ps` to the full CLI, which names the engine and what went wrong', async () => {
    const path = await fakeEngine('cli-garbage.sock', (s) => s.end('HTTP/1.0 200 OK\r\n\r\n[{"Id": '));
    const r = await outpost(['ps', '--json'], { DOCKER_HOST: `unix://${path}`, OUTPOST_ENGINE_TIMEOUT: '2' });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`unix://${path}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a hung engine: `ps` says so at its deadline, once (not its deadline twice over)', async () => {
    const path = await fakeEngine('cli-silent.sock', () => undefined);
    const started = Date.now();
    const r = await outpost(['ps', '--json'], { DOCKER_HOST: `unix://${path}`, OUTPOST_ENGINE_TIMEOUT: '3' });
    const took = Date.now() - started;
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`unix://${path} did not answer GET /containers/json within 3 s`);
    // Asking again in the full CLI would take at least 6 s.
    expect(took).toBeLessThan(5500);
  });

  it('an answer cut off in its body, a reply that is not HTTP, a 404 with no message: said, exit 4, never a silent exit 0', async () => {
    const cut = await fakeEngine('cli-cut.sock', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"ApiVersion":"1.4'));
    const notHttp = await fakeEngine('cli-nothttp.sock', (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
    const empty404 = await fakeEngine('cli-404.sock', (s) => s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const cases: [string, RegExp][] = [
      [cut, /did not answer GET \/version within 1 s/],
      [notHttp, /is not a Docker engine: its answer is not HTTP/],
      [empty404, /is not a Docker engine: it answered HTTP 404 with no Docker message/],
    ];
    for (const [path, message] of cases) {
      for (const args of [['ps'], ['ps', '--json'], ['info']]) {
        const r = await outpost(args, { DOCKER_HOST: `unix://${path}`, OUTPOST_ENGINE_TIMEOUT: '1' });
        expect(r.code, `${path} ${args.join(' ')}: ${r.stderr}`).toBe(4);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toContain(`unix://${path}`);
      }
    }
  });
});
