import { describe, expect, it } from 'vitest';
import { deadlineFor, engineTimeoutFromEnv } from '../../core/docker/deadline.js';
import { EngineTimeoutError, exitCodeFor } from '../../core/model/errors.js';

describe('engine request deadlines', () => {
  it('gives plain requests and streams the base deadline', () => {
    expect(deadlineFor({ path: '/containers/json?', method: 'GET' }, 10_000)).toBe(10_000);
    expect(deadlineFor({ path: '/events?', method: 'GET', isStream: true }, 10_000)).toBe(10_000);
    expect(deadlineFor({ path: '/exec/abc/start', method: 'POST', hijack: true }, 5000)).toBe(5000);
  });

  it('adds the grace period to stop and restart, and a generous one when the engine picks it', () => {
    expect(deadlineFor({ path: '/containers/abc/stop?', method: 'POST', options: { t: 30 } }, 10_000)).toBe(40_000);
    expect(deadlineFor({ path: '/containers/abc/restart?', method: 'POST', options: {} }, 10_000)).toBe(70_000);
  });

  it('leaves uploads and waits to their caller', () => {
    expect(deadlineFor({ path: '/images/create?', method: 'POST', file: {} }, 10_000)).toBe(0);
    expect(deadlineFor({ path: '/containers/abc/wait?', method: 'POST' }, 10_000)).toBe(0);
  });

  it('reads OUTPOST_ENGINE_TIMEOUT in seconds and names it when it is bad', () => {
    expect(engineTimeoutFromEnv({})).toBe(10_000);
    expect(engineTimeoutFromEnv({ OUTPOST_ENGINE_TIMEOUT: '2.5' })).toBe(2500);
    for (const bad of ['x', '0', '-1', '1e3', '3601', 'Infinity', '1 2']) {
      expect(() => engineTimeoutFromEnv({ OUTPOST_ENGINE_TIMEOUT: bad }), bad).toThrow(/OUTPOST_ENGINE_TIMEOUT/);
    }
  });

  it('a timeout is an engine problem (exit 4) that names the engine and the request', () => {
    const e = new EngineTimeoutError('unix:///x.sock', 'GET /containers/json', 1500);
    expect(e.message).toContain('unix:///x.sock did not answer GET /containers/json within 1.5 s');
    expect(exitCodeFor(e)).toBe(4);
  });
});
