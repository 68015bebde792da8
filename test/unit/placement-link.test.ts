import { describe, expect, it } from 'vitest';
import type { PlacedCopy } from '../../core/placement/failover.js';
import { beatSchema, hear, nextBeat, nothingSaid, type Speech } from '../../core/placement/link.js';

const copy: PlacedCopy = { workload: 'web', replica: 0, node: 'a', containerId: 'abcdef012345', movable: true, singleton: true, running: true, createdAt: 1_700_000_000_000, generation: 0 };
const speech = (over: Partial<Speech> = {}): Speech => ({ seq: 1, ack: 0, view: { heardAgoMs: {}, mode: 'majority' }, voters: ['a', 'b', 'c'], copies: [copy], specs: { web: 'name: web\nimage: nginx\n' }, unfence: [], ...over });

describe('the link: beats carry only what changed', () => {
  it('the first beat on a connection says everything; an idle one after it only its number and ack', () => {
    const first = nextBeat(nothingSaid(), speech());
    expect(first.beat).toEqual({ s: 1, v: { h: {}, m: 'majority' }, q: ['a', 'b', 'c'], c: [copy], l: true, p: { web: 'name: web\nimage: nginx\n' } });
    const idle = nextBeat(first.said, speech({ seq: 2, ack: 7 }));
    expect(idle.beat).toEqual({ s: 2, a: 7 });
    // An idle beat is a few bytes: the budget of ≤ 100 B/s per peer at one beat each 2 s.
    expect(JSON.stringify(idle.beat).length).toBeLessThan(30);
  });

  it('a change is sent once: a copy that stops, a new voter, a silent voter (every beat while silent), a new spec, an unfence', () => {
    let said = nextBeat(nothingSaid(), speech()).said;
    const stopped = { ...copy, running: false };
    const b1 = nextBeat(said, speech({ seq: 2, copies: [stopped] }));
    expect(b1.beat).toEqual({ s: 2, c: [stopped], l: true });
    said = b1.said;
    const quiet = { heardAgoMs: { c: 9000 }, mode: 'majority' as const };
    const b2 = nextBeat(said, speech({ seq: 3, copies: [stopped], view: quiet }));
    expect(b2.beat.v).toEqual({ h: { c: 9000 }, m: 'majority' });
    const b3 = nextBeat(b2.said, speech({ seq: 4, copies: [stopped], view: { heardAgoMs: { c: 11000 }, mode: 'majority' } }));
    expect(b3.beat.v).toEqual({ h: { c: 11000 }, m: 'majority' });
    // Heard again: one beat says so (an empty h), then nothing.
    const b4 = nextBeat(b3.said, speech({ seq: 5, copies: [stopped] }));
    expect(b4.beat.v).toEqual({ h: {}, m: 'majority' });
    expect(nextBeat(b4.said, speech({ seq: 6, copies: [stopped] })).beat).toEqual({ s: 6 });
    const b5 = nextBeat(b4.said, speech({ seq: 7, copies: [stopped], voters: ['a', 'b', 'c', 'd'], specs: { web: 'name: web\nimage: nginx:2\n' }, unfence: ['0123456789ab'] }));
    expect(b5.beat).toEqual({ s: 7, q: ['a', 'b', 'c', 'd'], p: { web: 'name: web\nimage: nginx:2\n' }, u: ['0123456789ab'] });
  });

  it('what a listener keeps: a beat without v means nobody is silent and the mode stands; without c, the copies stand', () => {
    const first = hear(null, { s: 1, v: { h: { c: 9000 }, m: 'cut-off' }, q: ['a', 'b'], c: [copy], l: true }, 100);
    expect(first).toEqual({ at: 100, seq: 1, view: { heardAgoMs: { c: 9000 }, mode: 'cut-off' }, voters: ['a', 'b'], copies: [copy] });
    const idle = hear(first, { s: 2, a: 5 }, 2100);
    expect(idle).toEqual({ at: 2100, seq: 2, view: { heardAgoMs: {}, mode: 'cut-off' }, voters: ['a', 'b'], copies: [copy] });
  });

  it.each([
    [{ s: 0 }, 's'],
    [{ s: 1, from: 'c' }, 'from'],
    [{ s: 1, v: { h: { 'Bad Name': 1 } } }, 'v'],
    [{ s: 1, v: { h: { c: -1 } } }, 'v'],
    [{ s: 1, c: [{ ...copy, containerId: '../../etc' }] }, 'c'],
    [{ s: 1, u: ['x'] }, 'u'],
    [{ s: 1, p: { web: 'x'.repeat(33 * 1024) } }, 'p'],
    [{ s: 1, q: Array.from({ length: 300 }, (_, i) => `n${i}`) }, 'q'],
    ['{"s":1}', ''],
  ])('refuses a hostile beat %#', (beat, field) => {
    const r = beatSchema.safeParse(beat);
    expect(r.success).toBe(false);
    if (field && !r.success) expect(JSON.stringify(r.error.issues)).toContain(field);
  });
});
