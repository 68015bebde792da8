/**
 * A generated fuzz of the agent API: a few thousand requests built from the
 * route table with hostile paths, queries, bodies and headers, in a bounded
 * time. Every answer is a 4xx or a 2xx with an envelope (never a 5xx, a
 * hang or a crash), and the agent still answers a good request afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pathFor, ROUTES, type RouteDef } from '../../core/api/routes.js';
import { raw, startTestAgent, type TestAgent } from './harness.js';

let agent: TestAgent;
beforeAll(async () => {
  agent = await startTestAgent();
});
afterAll(async () => {
  await agent.close();
});

const defs = Object.values(ROUTES) as RouteDef[];
const SEGMENTS = ['..', '.', '%2e%2e', '%2F', '%00', 'a%00', '%', '%zz', 'x'.repeat(300), '%F0%9F%99%82', '-rf', 'a%20b', '$(id)', '%5C..%5C', 'nosuch'];
const VALUES = ['', 'true', '-1', '1e999', 'NaN', '[]', '["sh"]', '{"a":1}', 'x'.repeat(5000), '%00', '0x10', '1.5', 'all', 'null'];
const BODIES = ['', '{', '[]', 'null', '"x"', '{"timeoutSeconds":"a"}', '{"__proto__":{"admin":true}}', '{"signal":"SIGKILL","x":1}', JSON.stringify({ container: '../x' }), '{"name":"a","role":"root"}', '\u0000', '{"until":-5}', '[' .repeat(5000)];
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'];

it('answers ten thousand hostile requests with 4xx, in bounded time, and stays up', async () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const started = Date.now();
  const statuses = new Map<number, number>();
  const N = 10_000;
  const one = async () => {
    const def = pick(defs);
    let path = pathFor(def, { ref: 'nosuch-fuzz', name: 'nosuch' });
    const mode = rnd(4);
    if (mode === 0) path = path.replace('nosuch-fuzz', pick(SEGMENTS)).replace('nosuch', pick(SEGMENTS));
    if (mode === 1) path += `/${pick(SEGMENTS)}`;
    if (rnd(2) === 0) path += `?${pick(['all', 'tail', 'cmd', 'container', 'evil', 'limit', 'intervalMs'])}=${encodeURIComponent(pick(VALUES))}${rnd(3) === 0 ? '&all=1&all=0' : ''}`;
    // Only mutations with a container that does not exist, so nothing real is touched; streams are not opened.
    const method = rnd(5) === 0 ? pick(METHODS) : def.method;
    const body = rnd(2) === 0 ? pick(BODIES) : undefined;
    const token = rnd(6) === 0 ? pick(['op_x', '', `op_${'A'.repeat(43)}`]) : agent.tokens.admin;
    const r = await raw(agent, method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), timeoutMs: 10_000 }).catch((e: unknown) => ({ status: -1, text: String(e), json: null, headers: {} }));
    if (r.status === 200 && def.stream === 'ndjson') return r.status; // a valid stream the fuzz happened to build: ended by the agent's close
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status >= 500 || r.status < 0) throw new Error(`${method} ${path} ${body ?? ''} → ${r.status} ${r.text.slice(0, 300)}`);
    if (r.status >= 400) expect((r.json as { error?: { message?: string } } | null)?.error?.message, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text.slice(0, 200)}`).toBeTruthy();
    return r.status;
  };
  // Eight in flight at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < N) {
        next++;
        await one();
      }
    }),
  );
  const ms = Date.now() - started;
  expect(ms).toBeLessThan(180_000);
  expect((await raw(agent, 'GET', '/v1/info', { token: agent.tokens.viewer })).status).toBe(200);
  console.log(`fuzz: ${N} requests in ${ms} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
}, 240_000);
