/**
 * The engine's container list with one request on its unix socket, for the
 * first frame (first-frame.ts). Kept apart and tiny so the request leaves
 * while the painting code is still loading.
 */
import { connect } from 'node:net';
import type { Endpoint } from '../../core/docker/endpoint.js';

/** The `code` of the error getJson rejects with when its deadline passes. */
export const DEADLINE_PASSED = 'OUTPOST_DEADLINE_PASSED';

/**
 * GET on the engine's unix socket (HTTP/1.0: the answer ends when the connection closes).
 * With `missing`, a 404 resolves to that value instead of rejecting.
 */
export function getJson(socketPath: string, path: string, deadlineMs: number, options: { missing?: null } = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sock = connect(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error('the engine did not answer in time'), { code: DEADLINE_PASSED }));
    }, deadlineMs);
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.0\r\nHost: docker\r\n\r\n`));
    sock.on('data', (d: Buffer) => {
      size += d.length;
      // 8 MiB is thousands of containers: anything larger is not a list worth painting from.
      if (size > 8 * 1024 * 1024) sock.destroy(new Error('answer too large'));
      else chunks.push(d);
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if ('missing' in options && /^HTTP\/1\.[01] 404 /.test(text)) return resolve(options.missing);
      if (!/^HTTP\/1\.[01] 200 /.test(text) || split < 0) return reject(new Error(`unexpected answer: ${text.slice(0, 40)}`));
      try {
        resolve(JSON.parse(text.slice(split + 4)));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/**
 * Starts GET /containers/json (with `all`, ?all=1: stopped ones too) on a unix-socket endpoint;
 * rejects for any other kind or after `deadlineMs`.
 */
export function requestList(endpoint: Endpoint, deadlineMs = 250, all = true): Promise<unknown> {
  if (endpoint.kind !== 'unix') return Promise.reject(new Error('only a local socket is asked this way'));
  return getJson(endpoint.socketPath, `/containers/json${all ? '?all=1' : ''}`, deadlineMs);
}
