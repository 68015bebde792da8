/**
 * The behaviour of the Node interface, as one suite that every kind of node
 * must pass: LocalNode on this machine's engine now; RemoteNode (through a
 * peer's agent) and engine-only peers (ssh://) run the same suite unchanged.
 *
 * A factory gives the node under test; fixtures (containers to look at) are
 * made with dockerode on the engine behind it, outside the code under test.
 */
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../core/node.js';
import { AmbiguousContainerError, BadInputError, NoSuchContainerError } from '../../core/model/errors.js';
import type { ContainerEvent, LogLine, ModelChange, NodeStatus, RunSpec } from '../../core/model/types.js';
import { eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';
import { TEST_IMAGE } from '../harness/image.js';

export interface NodeUnderTest {
  node: Node;
  /** The engine behind the node, for fixtures. */
  engine: Docker;
  /** How the node names where it is reached (`info().endpoint`). */
  endpoint: string;
  dispose(): Promise<void>;
  /** The node can see its engine host's /dev (false for an engine reached over ssh:// or tcp://). */
  seesHostDevices?: boolean;
  /** The node reports its host's figures (false for an engine-only peer: none of its host's are reachable). */
  reportsHost?: boolean;
}

async function collect(stream: AsyncIterable<LogLine>, until?: (lines: LogLine[]) => boolean): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const l of stream) {
    lines.push(l);
    if (until?.(lines)) break;
  }
  return lines;
}

/** Runs the Node contract against the nodes `make` gives; `P` prefixes every fixture's name. */
export function nodeContract(kind: string, P: string, make: () => Promise<NodeUnderTest>): void {
  describe(`the Node contract: ${kind}`, () => {
    let node: Node;
    let under: NodeUnderTest;
    const d = () => under.engine;

    beforeAll(async () => {
      under = await make();
      node = under.node;
    });

    afterAll(async () => {
      await under.node.close();
      await removeByPrefix(under.engine, P);
      await under.dispose();
    });

  describe('containers', () => {
    it('negotiates the API version and describes the engine', async () => {
      const info = await node.info();
      expect(info.apiVersion).toMatch(/^1\.\d+$/);
      expect(info.endpoint).toBe(under.endpoint);
      expect(info.cpus).toBeGreaterThan(0);
    });

    it('lists running and stopped containers with labels, compose project, state and exit code', async () => {
      await makeContainer(d(), { name: `${P}web`, cmd: 'sleep 3600', labels: { 'com.docker.compose.project': 'line2', 'com.docker.compose.service': 'web' } });
      const crashed = await makeContainer(d(), { name: `${P}crash`, cmd: 'echo bye; exit 3' });
      await crashed.wait();
      const running = await node.list();
      expect(running.map((c) => c.name)).toContain(`${P}web`);
      expect(running.map((c) => c.name)).not.toContain(`${P}crash`);
      const all = await node.list({ all: true });
      const web = all.find((c) => c.name === `${P}web`);
      const crash = all.find((c) => c.name === `${P}crash`);
      expect(web).toMatchObject({ state: 'running', composeProject: 'line2', composeService: 'web', exitCode: null, health: 'none', restartCount: 0, node: 'local' });
      expect(web?.labels['outpost.test']).toBe('1');
      expect(web?.startedAt).toBeGreaterThan(Date.now() - 60_000);
      expect(crash).toMatchObject({ state: 'exited', exitCode: 3 });
      expect(crash?.status).toMatch(/^Exited \(3\)/);
    });

    it('counts restarts done by a restart policy', async () => {
      await makeContainer(d(), { name: `${P}loop`, cmd: 'exit 1', restart: 'on-failure' });
      const c = await eventually(async () => (await node.list({ all: true })).find((x) => x.name === `${P}loop` && (x.restartCount ?? 0) >= 2), 20_000, 'two policy restarts');
      expect(c.restartPolicy).toBe('on-failure');
      await node.remove(`${P}loop`, { force: true });
    });

    it('sees a container turn unhealthy from the health check in its create options', async () => {
      await makeContainer(d(), { name: `${P}sick`, cmd: 'sleep 3600', health: { cmd: 'exit 1', intervalMs: 200, retries: 1 } });
      const c = await eventually(async () => (await node.list()).find((x) => x.name === `${P}sick` && x.health === 'unhealthy'), 15_000, 'unhealthy');
      expect(c.status).toMatch(/unhealthy/);
      const details = await node.inspect(`${P}sick`);
      expect(details.healthLog.length).toBeGreaterThan(0);
      expect(details.healthLog[0]?.exitCode).toBe(1);
      // Times are milliseconds since the epoch, as everywhere in Outpost's output (docs/cli.md).
      const probe = details.healthLog[0];
      expect(probe?.start).toBeGreaterThan(Date.now() - 600_000);
      expect(probe?.end).toBeGreaterThanOrEqual(probe?.start ?? Infinity);
    });

    it('stops, starts, restarts, pauses, kills and removes', async () => {
      const name = `${P}life`;
      await makeContainer(d(), { name, cmd: 'trap "exit 0" TERM; while :; do sleep 0.1; done' });
      const before = (await node.inspect(name)).startedAt ?? 0;
      await node.restart(name, { timeoutSeconds: 5 });
      const after = await node.inspect(name);
      expect(after.state).toBe('running');
      expect(after.startedAt).toBeGreaterThan(before);

      await node.pause(name);
      expect((await node.inspect(name)).state).toBe('paused');
      await node.unpause(name);
      expect((await node.inspect(name)).state).toBe('running');

      await node.stop(name, { timeoutSeconds: 5 });
      expect((await node.inspect(name)).state).toBe('exited');
      await node.stop(name); // already stopped: not an error
      await node.start(name);
      expect((await node.inspect(name)).state).toBe('running');

      await node.kill(name, 'SIGKILL');
      const killed = await node.inspect(name);
      expect(killed.state).toBe('exited');
      expect(killed.exitCode).toBe(137);

      await node.remove(name);
      await expect(node.inspect(name)).rejects.toBeInstanceOf(NoSuchContainerError);
    });

    it('removes a running container only with force', async () => {
      const name = `${P}rmme`;
      await makeContainer(d(), { name, cmd: 'sleep 3600' });
      await expect(node.remove(name)).rejects.toThrow(/refused|running/i);
      await node.remove(name, { force: true, volumes: true });
      await expect(node.resolve(name)).rejects.toBeInstanceOf(NoSuchContainerError);
    });

    it('resolves ID prefixes and reports ambiguity with candidates', async () => {
      const a = await makeContainer(d(), { name: `${P}ida`, cmd: 'sleep 3600', start: false });
      const id = a.id;
      expect(await node.resolve(id.slice(0, 12))).toBe(id);
      expect(await node.resolve(`${P}ida`)).toBe(id);
      // 17 IDs over 16 hex digits: at least two share their first character.
      await Promise.all(Array.from({ length: 17 }, (_, i) => makeContainer(d(), { name: `${P}pigeon-${i}`, cmd: 'true', start: false })));
      const all = await node.list({ all: true });
      const counts = new Map<string, string[]>();
      for (const c of all) counts.set(c.id[0] as string, [...(counts.get(c.id[0] as string) ?? []), c.name]);
      const [prefix, names] = [...counts].find(([, n]) => n.length > 1) as [string, string[]];
      const err = await node.resolve(prefix).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AmbiguousContainerError);
      for (const n of names.slice(0, 10)) expect((err as Error).message).toContain(n);
      await expect(node.resolve('')).rejects.toBeInstanceOf(BadInputError);
      await expect(node.kill(`${P}ida`, 'SIG;rm -rf')).rejects.toBeInstanceOf(BadInputError);
    });

    it('rejects bad arguments before calling the engine', async () => {
      await expect(node.stop(`${P}ida`, { timeoutSeconds: -1 })).rejects.toThrow(/whole number of seconds/);
      await expect(node.logs(`${P}ida`, { tail: 1.5 })).rejects.toThrow(/--tail/);
      await expect(node.exec(`${P}ida`, { cmd: [] })).rejects.toBeInstanceOf(BadInputError);
    });

  });

  describe('logs', () => {
    it('keeps stdout and stderr apart for non-TTY containers, with tail and timestamps', async () => {
      // stdout and stderr are separate pipes: the pause makes the order in the log deterministic.
      const c = await makeContainer(d(), { name: `${P}logs`, cmd: 'echo one; echo two >&2; sleep 0.2; echo three' });
      await c.wait();
      const lines = await collect(await node.logs(`${P}logs`));
      expect(lines.map((l) => `${l.stream}:${l.text}`).sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
      const tail = await collect(await node.logs(`${P}logs`, { tail: 1, timestamps: true }));
      expect(tail).toHaveLength(1);
      expect(tail[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(tail[0]?.text).toBe('three');
    });

    it('reads TTY containers raw, as one stream', async () => {
      const c = await makeContainer(d(), { name: `${P}tty`, cmd: 'echo out; echo err >&2', tty: true });
      await c.wait();
      const lines = await collect(await node.logs(`${P}tty`));
      expect(lines).toEqual([
        { stream: 'tty', text: 'out' },
        { stream: 'tty', text: 'err' },
      ]);
    });

    it('follows new lines until closed', async () => {
      await makeContainer(d(), { name: `${P}follow`, cmd: 'i=0; while :; do i=$((i+1)); echo line $i; sleep 0.05; done' });
      const stream = await node.logs(`${P}follow`, { follow: true, tail: 0 });
      const lines = await collect(stream, (ls) => ls.length >= 5);
      stream.close();
      expect(lines).toHaveLength(5);
      const numbers = lines.map((l) => Number(l.text.split(' ')[1]));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    });

    it('delivers a 1 MB line whole and non-UTF-8 bytes as replacement characters', async () => {
      const c = await makeContainer(d(), {
        name: `${P}big`,
        cmd: "head -c 1000000 /dev/zero | tr '\\0' x; echo; printf 'ok\\377\\376end\\n'",
      });
      await c.wait();
      const lines = await collect(await node.logs(`${P}big`));
      expect(lines).toHaveLength(2);
      expect(lines[0]?.text.length).toBe(1_000_000);
      expect(lines[0]?.partial).toBeUndefined();
      expect(lines[1]?.text).toBe('ok\ufffd\ufffdend');
    });

    it('caps over-long lines at maxLineBytes', async () => {
      const lines = await collect(await node.logs(`${P}big`, { maxLineBytes: 300_000 }));
      expect(lines.map((l) => l.text.length)).toEqual([300_000, 300_000, 300_000, 100_000, 7]);
      expect(lines.slice(0, 3).every((l) => l.partial)).toBe(true);
    });
  });

  describe('exec', () => {
    it('runs an interactive shell with a TTY, resizes it and returns the exit code', async () => {
      await makeContainer(d(), { name: `${P}exec`, cmd: 'sleep 3600' });
      const session = await node.exec(`${P}exec`, { cmd: ['sh'], tty: true, cols: 100, rows: 30 });
      let output = '';
      session.onOutput((b) => {
        output += Buffer.from(b).toString();
      });
      await session.resize(132, 43);
      session.write('stty size; echo marker-$((6*7)); exit 5\n');
      const code = await session.wait();
      session.close();
      expect(code).toBe(5);
      expect(output).toContain('43 132');
      expect(output).toContain('marker-42');
    });

    it('keeps stdout and stderr apart without a TTY and passes stdin', async () => {
      const session = await node.exec(`${P}exec`, { cmd: ['sh', '-c', 'cat; echo err >&2'], env: ['X=1'] });
      const out: string[] = [];
      session.onOutput((b, kind) => out.push(`${kind}:${Buffer.from(b).toString()}`));
      session.write('from stdin\n');
      session.end();
      expect(await session.wait()).toBe(0);
      session.close();
      expect(out.join('')).toContain('stdout:from stdin\n');
      expect(out.join('')).toContain('stderr:err\n');
    });
  });

    describe('the live model, events, stats and status', () => {
      it('is online once connected, and says so to status listeners', async () => {
        const seen: NodeStatus[] = [];
        const off = node.onStatus((s) => seen.push(s));
        await node.connect();
        expect(node.status().state).toBe('online');
        off();
        // Connected before the listener came, or during: either way it is online now and said nothing else.
        expect(seen.every((s) => s.state === 'online')).toBe(true);
      });

      it('watch() starts with a reset, then follows a new container and its removal', async () => {
        await node.connect();
        const changes: ModelChange[] = [];
        const off = node.watch((c) => changes.push(c));
        try {
          expect(changes[0]?.kind).toBe('reset');
          const c = await makeContainer(d(), { name: `${P}watched`, cmd: 'sleep 60' });
          const info = await c.inspect();
          await eventually(() => changes.some((x) => x.kind === 'upsert' && x.container.id === info.Id && x.container.state === 'running'), 10_000, 'an upsert of the running container');
          expect(node.containers().find((x) => x.id === info.Id)?.name).toBe(`${P}watched`);
          await c.remove({ force: true });
          await eventually(() => changes.some((x) => x.kind === 'remove' && x.id === info.Id), 10_000, 'its removal');
          expect(node.containers().some((x) => x.id === info.Id)).toBe(false);
        } finally {
          off();
        }
        // Disposed: nothing more arrives.
        const before = changes.length;
        await makeContainer(d(), { name: `${P}unwatched`, cmd: 'true', start: false });
        await eventually(() => node.containers().some((x) => x.name === `${P}unwatched`), 10_000, 'the model to see it');
        expect(changes.length).toBe(before);
      });

      it('watchEvents() delivers the engine events of a container that dies, with its exit code', async () => {
        await node.connect();
        const events: ContainerEvent[] = [];
        const off = node.watchEvents((e) => events.push(e));
        try {
          const c = await makeContainer(d(), { name: `${P}dies`, cmd: 'exit 3' });
          const id = (await c.inspect()).Id;
          const die = await eventually(() => events.find((e) => e.id === id && e.action === 'die'), 10_000, 'a die event');
          expect(die.name).toBe(`${P}dies`);
          expect(die.exitCode).toBe(3);
          expect(die.node).toBe(node.name);
        } finally {
          off();
        }
      });

      it('watchEvents({sinceNano}) gives the events after that moment first, each once and in order, then live ones', async () => {
        await node.connect();
        const t0 = Date.now() * 1e6;
        const c = await makeContainer(d(), { name: `${P}past`, cmd: 'exit 4' });
        const id = (await c.inspect()).Id;
        await c.wait();
        await new Promise((r) => setTimeout(r, 200));
        const events: ContainerEvent[] = [];
        const off = node.watchEvents((e) => events.push(e), { sinceNano: t0 });
        try {
          const die = await eventually(() => events.find((e) => e.id === id && e.action === 'die'), 10_000, 'the past die event');
          expect(die.exitCode).toBe(4);
          expect(die.node).toBe(node.name);
          const mine = () => events.filter((e) => e.id === id).map((e) => e.action);
          expect(mine()).toEqual(['create', 'start', 'die']);
          expect(events.every((e) => e.timeNano > t0)).toBe(true);
          const later = await makeContainer(d(), { name: `${P}later`, cmd: 'exit 5' });
          const laterId = (await later.inspect()).Id;
          await eventually(() => events.find((e) => e.id === laterId && e.action === 'die'), 10_000, 'a live die event');
          await new Promise((r) => setTimeout(r, 300));
          expect(mine()).toEqual(['create', 'start', 'die']);
          const times = events.map((e) => e.timeNano);
          expect(times).toEqual([...times].sort((a, b) => a - b));
        } finally {
          off();
        }
      });

      it('statsOnce() and watchStats() give figures for a running container', async () => {
        await node.connect();
        const c = await makeContainer(d(), { name: `${P}busy`, cmd: 'while :; do :; done' });
        const id = (await c.inspect()).Id;
        // The model learns its pid from an inspect after the start event.
        await eventually(async () => (await node.statsOnce()).find((s) => s.id === id), 15_000, 'a sample of it');
        const once = (await node.statsOnce()).find((s) => s.id === id);
        expect(once?.name).toBe(`${P}busy`);
        expect(once?.cpuPercent).toBeGreaterThan(5);
        expect(once?.memoryBytes).toBeGreaterThan(0);
        const samples: (number | null)[] = [];
        const off = node.watchStats((all) => {
          const s = all.find((x) => x.id === id);
          if (s) samples.push(s.cpuPercent);
        }, { intervalMs: 300 });
        try {
          await eventually(() => samples.length >= 2, 10_000, 'two samples');
        } finally {
          off();
        }
        await c.remove({ force: true });
      });

      it('host() describes the machine the node runs on, or is null for an engine-only peer (never this machine\'s figures under its name)', async () => {
        const reportsHost = under.reportsHost ?? true;
        expect(node.reportsHost).toBe(reportsHost);
        if (!reportsHost) {
          expect(await node.host()).toBeNull();
          const seen: unknown[] = [];
          const off = node.watchHost((h) => seen.push(h), { intervalMs: 200 });
          await new Promise((r) => setTimeout(r, 1000));
          off();
          expect(seen).toEqual([]);
          return;
        }
        const h = await node.host();
        expect(h).not.toBeNull();
        expect(h?.node).toBe(node.name);
        expect(h?.memTotalBytes).toBeGreaterThan(0);
        expect(h?.cpuPercent).toBeGreaterThanOrEqual(0);
      });
    });

    describe('placement: images, devices, run', () => {
      it('info() names the host and the engine labels; images() holds the test image by tag and ID', async () => {
        const info = await node.info();
        expect(typeof info.hostname).toBe('string');
        expect(info.hostname.length).toBeGreaterThan(0);
        expect(info.labels).toEqual(expect.any(Object));
        const images = await node.images();
        expect(images).toContain(TEST_IMAGE);
        const id = (await d().getImage(TEST_IMAGE).inspect()).Id;
        expect(images).toContain(id);
      });

      it("devices() says which /dev paths the node's host has, or null where it cannot tell (an engine-only peer)", async () => {
        const answer = await node.devices(['/dev/null', '/dev/outpost-no-such-device']);
        if (under.seesHostDevices !== false) expect(answer).toEqual({ '/dev/null': true, '/dev/outpost-no-such-device': false });
        else expect(answer).toBeNull();
      });

      it('run() creates and starts a container with its labels, limits and restart policy; a bad spec or a taken name is refused', async () => {
        const name = `${P}placed`;
        const spec: RunSpec = {
          name,
          image: TEST_IMAGE,
          cmd: ['sh', '-c', 'echo placed; sleep 3600'],
          env: ['ZONE=line-2'],
          labels: { 'outpost.workload': 'web', 'outpost.test': '1' },
          ports: [],
          volumes: [],
          devices: [],
          restart: { name: 'no', maxRetries: null },
          cpus: 0.5,
          memoryBytes: 64 * 1024 * 1024,
        };
        const id = await node.run(spec);
        expect(id).toMatch(/^[0-9a-f]{64}$/);
        const raw = await d().getContainer(id).inspect();
        expect(raw.State.Running).toBe(true);
        expect(raw.Config.Labels['outpost.workload']).toBe('web');
        expect(raw.Config.Env).toContain('ZONE=line-2');
        expect(raw.HostConfig.NanoCpus).toBe(5e8);
        expect(raw.HostConfig.Memory).toBe(64 * 1024 * 1024);
        expect(raw.HostConfig.RestartPolicy?.Name).toBe('no');
        await expect(node.run(spec)).rejects.toThrow(/already in use|conflict|name/i);
        await expect(node.run({ ...spec, name: `${P}nope`, image: 'outpost-test/no-such-image:1' })).rejects.toThrow(/no such image|not found|pull/i);
        expect((await d().listContainers({ all: true, filters: { name: [`${P}nope`] } })).length).toBe(0);
        await d().getContainer(id).remove({ force: true });
      });
    });
  });
}
