import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { EngineTlsError } from '../../core/model/errors.js';
import { startPrivateEngine, type PrivateEngine } from '../harness/engine.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as `docker` expects them. */
function makeCerts(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=outpost-test-ca');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server-cert.pem', '-days', '2', '-extfile', 'server.ext');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'client.csr', '-subj', '/CN=outpost-client');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'cert.pem', '-days', '2', '-extfile', 'client.ext');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('tcp:// with TLS, as DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH say', () => {
  let engine: PrivateEngine;
  let certs: string;
  let port: number;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'op-tls-'));
    makeCerts(certs);
    port = await freePort();
    engine = await startPrivateEngine('tls', [
      '-H', `tcp://127.0.0.1:${port}`,
      '--tlsverify',
      `--tlscacert=${join(certs, 'ca.pem')}`,
      `--tlscert=${join(certs, 'server-cert.pem')}`,
      `--tlskey=${join(certs, 'server-key.pem')}`,
    ]);
  });

  afterAll(async () => {
    await engine?.dispose();
  });

  it('connects with the client certificate and lists', async () => {
    const endpoint = resolveEndpoint({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs, HOME: '/nonexistent' });
    expect(endpoint).toMatchObject({ kind: 'tcp', tls: { verify: true } });
    const node = new LocalNode({ endpoint });
    try {
      const info = await node.info();
      expect(info.endpoint).toBe(`https://127.0.0.1:${port}`);
      expect(await node.list({ all: true })).toEqual([]);
    } finally {
      await node.close();
    }
  });

  it('is refused without a client certificate, with an error that says so', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'op-tls-bare-'));
    execFileSync('cp', [join(certs, 'ca.pem'), bare]);
    const node = new LocalNode({ endpoint: resolveEndpoint({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: bare, HOME: '/nonexistent' }) });
    try {
      const err = await node.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineTlsError);
      expect((err as Error).message).toMatch(new RegExp(`engine at https://127\\.0\\.0\\.1:${port} refused Outpost's client certificate`));
    } finally {
      await node.close();
    }
  });

  it('refuses a server whose certificate it cannot verify', async () => {
    const other = mkdtempSync(join(tmpdir(), 'op-tls-other-'));
    makeCerts(other); // a different CA
    const node = new LocalNode({ endpoint: resolveEndpoint({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: other, HOME: '/nonexistent' }) });
    try {
      const err = await node.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineTlsError);
      expect((err as Error).message).toMatch(/Cannot verify the certificate of the engine at https:\/\/127\.0\.0\.1/);
    } finally {
      await node.close();
    }
  });
});
