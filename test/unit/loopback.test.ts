/**
 * Plain HTTP to an agent only on this machine's loopback, decided by the
 * address, not by how a name begins: `http://127.evil.example:8080` in a
 * peers file counted as loopback, and the token went out in clear.
 */
import { describe, expect, it } from 'vitest';
import { urlProblem } from '../../core/peers/config.js';
import { isLoopbackHost } from '../../core/shared/loopback.js';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });
  it.each(['127.evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', '10.0.0.1', '0.0.0.0', '::', '::ffff:10.0.0.1', '128.0.0.1', '', 'evil'])('%s is not', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('an agent peer over plain HTTP', () => {
  it('is refused on a name that only looks like loopback, and taken on loopback addresses', () => {
    expect(urlProblem('agent', 'http://127.evil.example:8080')).toMatch(/http:\/\/ only on loopback/);
    expect(urlProblem('agent', 'http://127.0.0.1.nip.example:8080')).toMatch(/http:\/\/ only on loopback/);
    expect(urlProblem('agent', 'http://127.0.0.1:8080')).toBeNull();
    expect(urlProblem('agent', 'http://[::1]:8080')).toBeNull();
    expect(urlProblem('agent', 'https://127.evil.example:8443')).toBeNull();
  });
});

describe('peer names the faces reserve', () => {
  it('`all` and `local` are refused as peer names, with why', async () => {
    const { nameProblem } = await import('../../core/peers/config.js');
    expect(nameProblem('all')).toMatch(/every node at once/);
    expect(nameProblem('local')).toMatch(/this machine/);
    expect(nameProblem('all-gw')).toBeNull();
  });
});
