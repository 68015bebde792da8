import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { CUT_MARK, LogSession, MAX_LINE_BYTES, timeKey, type LogEntry } from '../../tui/logs/log-session.js';
import { startPrivateEngine, type PrivateEngine } from '../harness/engine.js';
import { importTestImage } from '../harness/image.js';
import { docker, dockerHost, eventually, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'logsess-';
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});
afterAll(() => removeByPrefix(docker(), P));

async function localNode(host = dockerHost()): Promise<LocalNode> {
  const node = new LocalNode({ endpoint: parseHostUrl(host, 'DOCKER_HOST'), reconnectMinMs: 100, reconnectMaxMs: 300 });
  open.push(node);
  await node.connect();
  return node;
}

function session(node: LocalNode, targets: { id: string; name: string }[], tail = 1000): LogSession {
  const s = new LogSession(targets.map((t) => ({ node, ...t })), { capacity: 10_000, tail }, 20);
  open.push(s);
  return s;
}

const entries = (s: LogSession): LogEntry[] => s.buffer.slice();
const texts = (s: LogSession) => entries(s).map((e) => e.text);
/** The number in the newest `tick N` line, or -1. */
const lastTick = (s: LogSession) => {
  const t = texts(s).filter((x) => /^tick \d+$/.test(x)).at(-1);
  return t ? Number(t.slice(5)) : -1;
};

describe('LogSession follows through restarts (a real engine)', () => {
  it('goes on after kill and start, restart, and re-creation under the same name, marking each gap', async () => {
    const node = await localNode();
    const d = docker();
    const cmd = 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done';
    const c = await makeContainer(d, { name: `${P}ticker`, cmd });
    const s = session(node, [{ id: c.id, name: `${P}ticker` }]);
    await eventually(() => lastTick(s) >= 2, 10_000, 'first lines');

    await c.kill();
    await eventually(() => s.states()[0] === 'waiting', 10_000, 'the session to see the container stopped');
    const before = entries(s).length;
    await c.start();
    await eventually(() => entries(s).slice(before).some((e) => e.stream === 'meta' && /^— container restarted \d\d:\d\d:\d\d —$/.test(e.text)), 10_000, 'the restart marked');
    await eventually(() => entries(s).slice(before).filter((e) => /^tick \d+$/.test(e.text)).length >= 2, 10_000, 'lines after the start');
    expect(s.states()[0]).toBe('streaming');

    const n = entries(s).length;
    await c.restart({ t: 0 });
    await eventually(() => entries(s).slice(n).some((e) => e.stream === 'meta' && e.text.startsWith('— container restarted')), 15_000, 'the docker restart marked');
    await eventually(() => entries(s).slice(n).filter((e) => /^tick \d+$/.test(e.text)).length >= 2, 10_000, 'lines after the restart');

    const m = entries(s).length;
    await c.remove({ force: true });
    const again = await makeContainer(d, { name: `${P}ticker`, cmd: 'i=100; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done' });
    await eventually(() => entries(s).slice(m).some((e) => e.stream === 'meta' && e.text.startsWith('— container re-created')), 15_000, 're-creation marked');
    await eventually(() => lastTick(s) > 101, 10_000, 'lines of the new container');
    // Nothing from before a gap came twice: the engine's times only go up.
    const keys = entries(s).filter((e) => e.stream !== 'meta').map((e) => timeKey(e.timestamp));
    expect(keys.every((k, i) => i === 0 || (keys[i - 1] as string) < k)).toBe(true);
    await again.remove({ force: true });
  });

  it('a target that does not exist yet says so, and is followed once a container of that name starts', async () => {
    const node = await localNode();
    const s = session(node, [{ id: 'f'.repeat(64), name: `${P}later` }]);
    await eventually(() => s.errors.some((e) => e.startsWith(`${P}later: `) && /No container named/.test(e)) && s.states()[0] === 'waiting', 10_000, 'the problem named');
    const c = await makeContainer(docker(), { name: `${P}later`, cmd: 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done' });
    await eventually(() => lastTick(s) >= 2, 15_000, 'lines of the new container');
    expect(s.errors).toEqual([]);
    await c.remove({ force: true });
  });

  it('goes on after the engine went away and came back', async () => {
    const engine: PrivateEngine = await startPrivateEngine('logsess');
    open.push({ close: () => engine.dispose() });
    await importTestImage(engine.dockerHost);
    const d = docker(engine.dockerHost);
    const c = await makeContainer(d, { name: `${P}survivor`, cmd: 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.3; done', restart: 'always' });
    const node = await localNode(engine.dockerHost);
    const s = session(node, [{ id: c.id, name: `${P}survivor` }]);
    await eventually(() => lastTick(s) >= 2, 10_000, 'first lines');
    await engine.crash();
    await eventually(() => s.states()[0] !== 'streaming', 10_000, 'the session to notice');
    const before = entries(s).length;
    await engine.restart();
    await eventually(() => entries(s).slice(before).some((e) => e.stream === 'meta'), 30_000, 'the gap marked');
    await eventually(() => entries(s).slice(before).filter((e) => /^tick \d+$/.test(e.text)).length >= 2, 20_000, 'lines after the engine came back');
  });
});

describe('merged logs (a real engine)', () => {
  it('orders the backlog and the live part of two containers by the engine time, ties stable', async () => {
    const node = await localNode();
    const d = docker();
    // Two containers that print in alternation: A at even tenths, B at odd ones.
    const a = await makeContainer(d, { name: `${P}a`, cmd: 'i=0; while :; do i=$((i+1)); echo "a $i"; sleep 0.2; done' });
    await new Promise((r) => setTimeout(r, 100));
    const b = await makeContainer(d, { name: `${P}b`, cmd: 'i=0; while :; do i=$((i+1)); echo "b $i"; sleep 0.2; done' });
    // A backlog of a few lines each.
    await eventually(async () => (await node.inspect(`${P}b`)).state === 'running', 5000, 'b running');
    await new Promise((r) => setTimeout(r, 1500));
    const s = session(node, [
      { id: a.id, name: `${P}a` },
      { id: b.id, name: `${P}b` },
    ]);
    await eventually(() => texts(s).filter((t) => t.startsWith('b ')).length >= 12 && texts(s).filter((t) => t.startsWith('a ')).length >= 12, 15_000, 'backlog and live lines');
    const keys = entries(s).map((e) => timeKey(e.timestamp));
    expect(keys.every((k) => k !== '')).toBe(true);
    expect(keys.every((k, i) => i === 0 || (keys[i - 1] as string) <= k)).toBe(true);
    // Both sources are interleaved from the start, not one block after the other.
    const sources = entries(s).slice(0, 8).map((e) => e.source);
    expect(new Set(sources).size).toBe(2);
  });

  it('keeps lines of the same instant in arrival order', () => {
    const s = new LogSession([{ node: null as never, id: 'x', name: 'x' }, { node: null as never, id: 'y', name: 'y' }], { capacity: 5, tail: 0, follow: false });
    open.push(s);
    const at = (sec: number) => `2024-05-01T10:00:${String(sec).padStart(2, '0')}.5Z`;
    s.push({ source: 0, stream: 'stdout', timestamp: at(1), text: 'x1' });
    s.push({ source: 0, stream: 'stdout', timestamp: at(3), text: 'x3' });
    s.push({ source: 1, stream: 'stdout', timestamp: at(3), text: 'y3' });
    s.push({ source: 1, stream: 'stdout', timestamp: '2024-05-01T10:00:02.25Z', text: 'y2' });
    s.push({ source: 1, stream: 'stdout', timestamp: at(1), text: 'y1' });
    expect(texts(s)).toEqual(['x1', 'y1', 'y2', 'x3', 'y3']);
    // Full: an older line than everything held falls off at once; a newer one pushes the oldest out.
    s.push({ source: 1, stream: 'stdout', timestamp: '2024-05-01T10:00:00Z', text: 'y0' });
    expect(texts(s)).toEqual(['x1', 'y1', 'y2', 'x3', 'y3']);
    s.push({ source: 0, stream: 'stdout', timestamp: '2024-05-01T10:00:02.5Z', text: 'x2' });
    expect(texts(s)).toEqual(['y1', 'y2', 'x2', 'x3', 'y3']);
    // The engine trims trailing zeros: .1 is later than .09.
    expect(timeKey('2024-05-01T10:00:05.1Z') > timeKey('2024-05-01T10:00:05.09Z')).toBe(true);
    expect(timeKey('2024-05-01T12:00:05+02:00')).toBe(timeKey('2024-05-01T10:00:05Z'));
    expect(timeKey('not a time')).toBe('');
  });
});

describe('long lines (a real engine)', () => {
  /** One cut long line of `ch`: nearly 16 KiB of it (the engine's stamp counts towards the cap) and the mark. */
  const isCut = (t: string, ch: string) => t.endsWith(CUT_MARK) && t.length - CUT_MARK.length > MAX_LINE_BYTES - 64 && t.length - CUT_MARK.length <= MAX_LINE_BYTES && [...t.slice(0, -CUT_MARK.length)].every((c) => c === ch);

  it('keeps a line over 16 KiB as one entry, cut with a mark, with no engine timestamps inside', async () => {
    const node = await localNode();
    const c = await makeContainer(docker(), { name: `${P}long`, cmd: "head -c 40000 /dev/zero | tr '\\0' x; echo; echo after; sleep 3600" });
    const s = session(node, [{ id: c.id, name: `${P}long` }]);
    await eventually(() => texts(s).includes('after'), 10_000, 'the lines');
    expect(texts(s)).toHaveLength(2);
    expect(isCut(texts(s)[0] as string, 'x')).toBe(true);
    expect(texts(s)[1]).toBe('after');
    expect(entries(s).every((e) => timeKey(e.timestamp) !== '')).toBe(true);
  });

  it('the same for a TTY container (no frames: the pieces are found by their size)', async () => {
    const node = await localNode();
    const c = await makeContainer(docker(), { name: `${P}longtty`, tty: true, cmd: "head -c 40000 /dev/zero | tr '\\0' y; echo; echo after; sleep 3600" });
    const s = session(node, [{ id: c.id, name: `${P}longtty` }]);
    await eventually(() => texts(s).includes('after'), 10_000, 'the lines');
    expect(texts(s)).toHaveLength(2);
    expect(isCut(texts(s)[0] as string, 'y')).toBe(true);
    expect(texts(s)[1]).toBe('after');
  });

  it('merged with a chatty container: one entry per long line, each with its stamp, in engine-time order', async () => {
    const node = await localNode();
    const d = docker();
    const long = await makeContainer(d, {
      name: `${P}mlong`,
      cmd: 'i=0; while :; do i=$((i+1)); if [ $((i%4)) = 0 ]; then head -c 20000 /dev/zero | tr "\\0" x; echo; else echo small $i; fi; sleep 0.1; done',
    });
    const chatty = await makeContainer(d, { name: `${P}mchat`, cmd: 'i=0; while :; do i=$((i+1)); echo "chat $i"; sleep 0.03; done' });
    const s = session(node, [
      { id: long.id, name: `${P}mlong` },
      { id: chatty.id, name: `${P}mchat` },
    ]);
    await eventually(() => texts(s).filter((t) => t.startsWith('x')).length >= 3, 20_000, 'three long lines');
    await eventually(() => texts(s).filter((t) => t.startsWith('small ')).length >= 8, 10_000, 'small lines after them');
    const mine = entries(s).filter((e) => e.source === 0);
    // Every line of the long container is either "small N" or one cut long line: no pieces.
    for (const e of mine) expect(/^small \d+$/.test(e.text) || isCut(e.text, 'x')).toBe(true);
    const keys = entries(s).map((e) => timeKey(e.timestamp));
    expect(keys.every((k) => k !== '')).toBe(true);
    expect(keys.every((k, i) => i === 0 || (keys[i - 1] as string) <= k)).toBe(true);
    // The long lines sit where their number says: after small 4k-1, before small 4k+1.
    const nums = mine.map((e) => (e.text.startsWith('small ') ? Number(e.text.slice(6)) : 0));
    for (let i = 1; i + 1 < nums.length; i++) if (nums[i] === 0) expect((nums[i + 1] as number) - (nums[i - 1] as number)).toBe(2);
  });
});
