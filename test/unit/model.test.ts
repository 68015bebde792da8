import { describe, expect, it } from 'vitest';
import { isStateChange, readEvents, sinceParam, toContainerEvent } from '../../core/docker/event-pump.js';
import { summaryFromInspect, summaryFromList, statusLine } from '../../core/docker/mapping.js';
import { ContainerStore } from '../../core/model/container-store.js';
import type { ModelChange } from '../../core/model/types.js';
import { PassThrough } from 'node:stream';

const inspectDoc = {
  Id: 'abc',
  Name: '/web',
  Created: '2024-05-01T10:00:00Z',
  Path: 'sh',
  Args: ['-c', 'sleep 1'],
  Image: 'sha256:1',
  State: { Status: 'running', Pid: 5, ExitCode: 0, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '0001-01-01T00:00:00Z', Health: { Status: 'unhealthy' } },
  RestartCount: 3,
  Config: { Image: 'busybox', Labels: { 'com.docker.compose.project': 'line2', 'com.docker.compose.service': 'web' } },
  HostConfig: { RestartPolicy: { Name: 'on-failure' } },
  NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '53/udp': null } },
};

describe('summaryFromInspect', () => {
  it('maps the fields the list shows', () => {
    const s = summaryFromInspect(inspectDoc, 'gw', Date.parse('2024-05-01T10:05:01Z'));
    expect(s).toMatchObject({
      id: 'abc',
      name: 'web',
      image: 'busybox',
      command: 'sh -c sleep 1',
      state: 'running',
      health: 'unhealthy',
      exitCode: null,
      restartCount: 3,
      finishedAt: null,
      composeProject: 'line2',
      composeService: 'web',
      restartPolicy: 'on-failure',
      node: 'gw',
      status: 'Up 5 minutes (unhealthy)',
    });
    expect(s.ports).toEqual([
      { privatePort: 53, protocol: 'udp' },
      { privatePort: 80, publicPort: 8080, ip: '0.0.0.0', protocol: 'tcp' },
    ]);
  });
  it('survives a nearly empty document', () => {
    const s = summaryFromInspect({ Id: 'x', State: { Status: 'weird' } }, 'n', 0);
    expect(s).toMatchObject({ id: 'x', name: '', state: 'dead', health: 'none', restartCount: 0, labels: {} });
  });
  it('writes exited status lines with the code', () => {
    expect(statusLine('exited', 'none', 137, null, 0, 5000)).toBe('Exited (137) 5 seconds ago');
  });
});

describe('summaryFromList', () => {
  it('reads health and exit code from the status line, and leaves what it cannot know as unknown', () => {
    const base = { Id: 'x', Names: ['/web'], Image: 'busybox', Created: 1700000000, Labels: { 'com.docker.compose.project': 'p' }, Ports: [{ PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' }] };
    expect(summaryFromList({ ...base, State: 'running', Status: 'Up 3 minutes (unhealthy)' }, 'n')).toMatchObject({
      name: 'web', state: 'running', health: 'unhealthy', exitCode: null, startedAt: null, restartCount: null, composeProject: 'p', created: 1700000000000,
      ports: [{ privatePort: 80, publicPort: 8080, ip: '0.0.0.0', protocol: 'tcp' }],
    });
    expect(summaryFromList({ ...base, State: 'exited', Status: 'Exited (137) 5 seconds ago' }, 'n')).toMatchObject({ state: 'exited', exitCode: 137, health: 'none' });
    expect(summaryFromList({ Id: 'y' }, 'n')).toMatchObject({ name: '', state: 'dead', labels: {}, ports: [] });
  });
});

describe('ContainerStore', () => {
  const row = (id: string, created: number, state = 'running') => ({ ...summaryFromInspect({ ...inspectDoc, Id: id, Name: `/${id}` }, 'n', 0), created, state }) as never;
  it('replays a reset to late subscribers, orders newest first, and emits only real changes', () => {
    const store = new ContainerStore();
    store.reset([row('a', 1), row('b', 2)]);
    const seen: ModelChange[] = [];
    const dispose = store.subscribe((c) => seen.push(c));
    expect(seen[0]).toMatchObject({ kind: 'reset' });
    expect(store.all().map((c) => c.id)).toEqual(['b', 'a']);
    store.upsert(row('a', 1)); // unchanged: silent
    store.upsert(row('a', 1), 'health_status: healthy'); // an event that changed nothing: silent
    store.upsert(row('a', 1, 'exited'));
    store.remove('b');
    store.remove('nope');
    expect(seen.map((c) => c.kind)).toEqual(['reset', 'upsert', 'remove']);
    dispose();
    store.upsert(row('c', 3));
    expect(seen).toHaveLength(3);
  });
  it('keeps serving other subscribers when one throws, and tells its error sink', () => {
    const errors: string[] = [];
    const store = new ContainerStore((m) => errors.push(m));
    let got = 0;
    store.subscribe(() => {
      throw new Error('bad subscriber');
    });
    store.subscribe(() => got++);
    store.reset([]);
    expect(got).toBe(1);
    expect(errors).toEqual(['a container-model subscriber threw: bad subscriber']);
  });
});

describe('event stream parsing', () => {
  it('parses events split anywhere and skips malformed lines', () => {
    const s = new PassThrough();
    const got: string[] = [];
    const bad: string[] = [];
    readEvents(s, (e) => got.push(String(e.Action)), (l) => bad.push(l));
    const text = '{"Type":"container","Action":"start","Actor":{"ID":"a"}}\n{broken\n{"Type":"container","Action":"die","Actor":{"ID":"a","Attributes":{"exitCode":"1"}}}\n';
    for (const ch of text) s.write(ch);
    expect(got).toEqual(['start', 'die']);
    expect(bad).toEqual(['{broken']);
  });
  it('drops a runaway line instead of growing without bound', () => {
    const s = new PassThrough();
    const bad: string[] = [];
    readEvents(s, () => {}, (l) => bad.push(l));
    s.write('x'.repeat(2 * 1024 * 1024));
    expect(bad).toHaveLength(1);
  });
  it('maps raw events and classifies them', () => {
    const e = toContainerEvent({ Type: 'container', Action: 'die', Actor: { ID: 'a', Attributes: { name: 'web', exitCode: '137', image: 'b' } }, timeNano: 1.5e18 }, 'n');
    expect(e).toMatchObject({ id: 'a', name: 'web', action: 'die', exitCode: 137 });
    expect(toContainerEvent({ Type: 'network', Action: 'connect' }, 'n')).toBeNull();
    expect(toContainerEvent({ Type: 'container' }, 'n')).toBeNull();
    expect(isStateChange('exec_start: sh')).toBe(false);
    expect(isStateChange('health_status: unhealthy')).toBe(true);
    expect(sinceParam(1_700_000_000_123_456_768)).toMatch(/^1700000000\.\d{9}$/);
  });
});
