/**
 * An agent API for the tests: a real LocalNode on the private engine (with
 * its rules port on a fresh state directory) served in-process on
 * 127.0.0.1 at a random port, and raw HTTPS requests to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRules } from '../../core/agent/local-rules.js';
import { ApiServer, type ApiServerOptions } from '../../core/api/server.js';
import { loadOrCreateIdentity, type TlsIdentity } from '../../core/api/tls.js';
import { createToken } from '../../core/api/tokens.js';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { dockerHost } from '../harness/fixtures.js';

export interface TestAgent {
  dir: string;
  stateDir: string;
  node: LocalNode;
  server: ApiServer;
  identity: TlsIdentity;
  tokens: { admin: string; operator: string; viewer: string; peer: string };
  url: string;
  close: () => Promise<void>;
}

export async function startTestAgent(o: Partial<ApiServerOptions> = {}): Promise<TestAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-api-'));
  const stateDir = join(dir, 'state');
  // As `outpost agent --listen` builds it: the node respects the fences of its state directory.
  const node = new LocalNode({ endpoint: parseHostUrl(dockerHost(), 'DOCKER_HOST'), rules: (n) => new LocalRules(n, { rulesFile: join(dir, 'rules.yaml'), stateDir }), stateDir });
  await node.connect();
  const identity = await loadOrCreateIdentity(stateDir);
  const tokens = { admin: createToken(stateDir, 'admin', 'admin'), operator: createToken(stateDir, 'op', 'operator'), viewer: createToken(stateDir, 'view', 'viewer'), peer: createToken(stateDir, 'peer-b', 'peer') };
  const server = await ApiServer.start({ node, stateDir, host: '127.0.0.1', port: 0, identity, authFailures: { max: 1_000_000, windowMs: 60_000 }, ...o });
  return {
    dir,
    stateDir,
    node,
    server,
    identity,
    tokens,
    url: server.url,
    close: async () => {
      await server.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawAnswer {
  status: number;
  text: string;
  json: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** One request as any client could send it (the agent's certificate trusted, nothing else checked). */
export function raw(agent: { url: string; identity: TlsIdentity }, method: string, path: string, o: { token?: string; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RawAnswer> {
  const u = new URL(agent.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        method,
        path,
        ca: agent.identity.cert,
        checkServerIdentity: () => undefined,
        agent: false,
        headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
