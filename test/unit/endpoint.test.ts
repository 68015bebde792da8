import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET, describeEndpoint, parseHostUrl, resolveEndpoint } from '../../core/docker/endpoint.js';
import { BadInputError } from '../../core/model/errors.js';

describe('resolveEndpoint', () => {
  it('uses DOCKER_HOST first', () => {
    const e = resolveEndpoint({ DOCKER_HOST: 'unix:///run/x.sock', HOME: '/nonexistent' });
    expect(e).toEqual({ kind: 'unix', socketPath: '/run/x.sock', source: 'DOCKER_HOST' });
  });

  it('falls back to the default socket', () => {
    // The default is the conventional path (never opened here: this test only resolves).
    expect(resolveEndpoint({ HOME: '/nonexistent' })).toMatchObject({ kind: 'unix', socketPath: DEFAULT_SOCKET, source: 'default' });
  });

  it('reads tcp with TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-certs-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
    const e = resolveEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    expect(e).toEqual({
      kind: 'tcp',
      host: '10.0.0.5',
      port: 2376,
      tls: { verify: true, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
      source: 'DOCKER_HOST',
    });
    expect(describeEndpoint(e)).toBe('https://10.0.0.5:2376');
  });

  it('plain tcp without TLS defaults to port 2375', () => {
    expect(parseHostUrl('tcp://box', 'DOCKER_HOST')).toMatchObject({ kind: 'tcp', port: 2375, tls: null });
  });

  it('parses ssh URLs with user and port', () => {
    expect(parseHostUrl('ssh://tech@gw-3:2222', 'DOCKER_HOST')).toEqual({ kind: 'ssh', host: 'gw-3', port: 2222, username: 'tech', source: 'DOCKER_HOST' });
  });

  it('follows the current docker context', () => {
    const home = mkdtempSync(join(tmpdir(), 'op-home-'));
    const cfg = join(home, '.docker');
    const digest = createHash('sha256').update('edge').digest('hex');
    mkdirSync(join(cfg, 'contexts', 'meta', digest), { recursive: true });
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ currentContext: 'edge' }));
    writeFileSync(join(cfg, 'contexts', 'meta', digest, 'meta.json'), JSON.stringify({ Name: 'edge', Endpoints: { docker: { Host: 'ssh://pi@edge-box' } } }));
    expect(resolveEndpoint({ HOME: home })).toMatchObject({ kind: 'ssh', host: 'edge-box', username: 'pi', source: 'context' });
    // DOCKER_CONTEXT=default wins over config.json.
    expect(resolveEndpoint({ HOME: home, DOCKER_CONTEXT: 'default' })).toMatchObject({ source: 'default' });
  });

  it('rejects malformed input with a message that names it', () => {
    expect(() => parseHostUrl('unix://relative.sock', 'DOCKER_HOST')).toThrow(/absolute socket path/);
    expect(() => parseHostUrl('ftp://x', 'DOCKER_HOST')).toThrow(/unknown scheme `ftp:`/);
    expect(() => parseHostUrl('not a url', 'DOCKER_HOST')).toThrow(BadInputError);
    expect(() => parseHostUrl('npipe:////./pipe/docker_engine', 'DOCKER_HOST')).toThrow(/named pipes/);
    expect(() => resolveEndpoint({ HOME: '/nonexistent', DOCKER_CONTEXT: 'nope' })).toThrow(/context `nope` not found/);
    const home = mkdtempSync(join(tmpdir(), 'op-home-'));
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), '{not json');
    expect(() => resolveEndpoint({ HOME: home })).toThrow(/not valid JSON/);
  });

  it('refuses a FIFO or a device as a docker config file at once, naming it', () => {
    const home = mkdtempSync(join(tmpdir(), 'op-home-'));
    mkdirSync(join(home, '.docker'));
    execFileSync('mkfifo', [join(home, '.docker', 'config.json')]);
    expect(() => resolveEndpoint({ HOME: home })).toThrow(/config\.json is not a regular file \(a FIFO\)/);
    const ctx = mkdtempSync(join(tmpdir(), 'op-home-'));
    const digest = createHash('sha256').update('edge').digest('hex');
    mkdirSync(join(ctx, '.docker', 'contexts', 'meta', digest), { recursive: true });
    symlinkSync('/dev/zero', join(ctx, '.docker', 'contexts', 'meta', digest, 'meta.json'));
    expect(() => resolveEndpoint({ HOME: ctx, DOCKER_CONTEXT: 'edge' })).toThrow(/meta\.json is not a regular file \(a device\)/);
  });
});
