/**
 * A command given several containers acts on them side by side, as docker
 * does: `outpost stop a b` waited for a's whole stop timeout before it asked
 * the engine to stop b (20 s for two, docker 10 s). Read from the engine's
 * own events, not from a stopwatch: each container's SIGTERM must come
 * before either dies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outpost } from '../harness/cli.js';
import { docker, makeContainer, removeByPrefix } from '../harness/fixtures.js';

const P = 'multi-';
const names = [`${P}a`, `${P}b`, `${P}c`];

beforeAll(async () => {
  // sleep as PID 1 has no SIGTERM handler: each stop waits its whole timeout, then kills.
  for (const name of names) await makeContainer(docker(), { name, cmd: 'sleep 3600' });
});

afterAll(async () => {
  await removeByPrefix(docker(), P);
});

interface EngineEvent {
  Action: string;
  Actor: { Attributes: Record<string, string> };
  timeNano: number;
}

async function eventsBetween(since: number, until: number): Promise<EngineEvent[]> {
  // With `until` the engine ends the stream after the events of that window.
  const stream = (await docker().getEvents({ since, until, filters: { type: ['container'] } })) as NodeJS.ReadableStream;
  let raw = '';
  for await (const chunk of stream) raw += String(chunk);
  return raw
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EngineEvent)
    .filter((e) => names.includes(e.Actor.Attributes.name ?? ''));
}

describe('multi-target commands', () => {
  it('stop a b c: every container is asked to stop before any of them dies; each is printed, exit 0', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await outpost(['stop', '-t', '2', ...names]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(names);
    const events = await eventsBetween(since, Math.ceil(Date.now() / 1000) + 1);
    const terms = events.filter((e) => e.Action === 'kill' && e.Actor.Attributes.signal === '15');
    const dies = events.filter((e) => e.Action === 'die');
    expect(new Set(terms.map((e) => e.Actor.Attributes.name))).toEqual(new Set(names));
    expect(dies).toHaveLength(3);
    const lastTerm = Math.max(...terms.map((e) => e.timeNano));
    const firstDie = Math.min(...dies.map((e) => e.timeNano));
    expect(lastTerm).toBeLessThan(firstDie);
  });

  it('one bad name among good ones: the others are still acted on, the bad one is named, exit non-zero', async () => {
    const r = await outpost(['start', names[0] as string, `${P}nope\x1b[2J`, names[1] as string]);
    expect(r.code).not.toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([names[0], names[1]]);
    expect(r.stderr).toContain(`${P}nope`);
    expect(r.stderr).not.toContain('\x1b[2J');
    const states = await Promise.all([names[0], names[1]].map(async (n) => (await docker().getContainer(n as string).inspect()).State.Running));
    expect(states).toEqual([true, true]);
  });
});
