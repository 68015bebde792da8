/**
 * exec on a peer: a WebSocket to the agent (the one bidirectional stream of
 * the API). Binary frames carry bytes: to the agent, stdin; from it, one
 * byte naming the stream (1 stdout, 2 stderr) then the output. Text frames
 * are JSON control messages: `resize` (answered by `resized`), `end`
 * (stdin EOF); from the agent `exit` and `error`. See docs/api.md.
 */
import { WebSocket, type RawData } from 'ws';
import { PeerUnreachableError } from '../model/errors.js';
import { deserializeError } from '../model/envelope.js';
import type { Disposer } from '../model/types.js';
import type { ExecOptions, ExecSession } from '../node.js';
import { fromEnvelopeError, type ApiClient } from './client.js';

export function remoteExec(client: ApiClient, ref: string, options: ExecOptions): Promise<ExecSession> {
  const { path } = client.target('exec', { params: { ref }, query: { ...options } });
  const url = `${client.url.protocol === 'https:' ? 'wss' : 'ws'}://${client.url.host}${path}`;
  const ws = new WebSocket(url, { agent: client.agent, headers: { authorization: `Bearer ${client.token}` }, maxPayload: 16 * 1024 * 1024, handshakeTimeout: client.timeoutMs, perMessageDeflate: false });
  const listeners = new Set<(data: Uint8Array, stream: 'stdout' | 'stderr') => void>();
  const early: { data: Uint8Array; stream: 'stdout' | 'stderr' }[] = [];
  let earlyBytes = 0;
  const resizes = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let nextId = 1;
  let exitCode: number | null = null;
  let failure: Error | null = null;
  let resolveExit!: (code: number) => void;
  let rejectExit!: (err: Error) => void;
  const exited = new Promise<number>((res, rej) => {
    resolveExit = res;
    rejectExit = rej;
  });
  exited.catch(() => undefined);
  // Handlers first, synchronously: the agent may send output right after the upgrade.
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (buf.length < 1) return;
      const stream = buf[0] === 2 ? 'stderr' : 'stdout';
      const bytes = buf.subarray(1);
      if (listeners.size === 0) {
        if (earlyBytes < 1024 * 1024) {
          early.push({ data: bytes, stream });
          earlyBytes += bytes.length;
        }
        return;
      }
      for (const l of [...listeners]) l(bytes, stream);
      return;
    }
    let msg: { type?: string; code?: unknown; id?: unknown; error?: unknown };
    try {
      msg = JSON.parse(buf.toString('utf8')) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'exit' && typeof msg.code === 'number') {
      exitCode = msg.code;
      resolveExit(msg.code);
    } else if (msg.type === 'resized' && typeof msg.id === 'number') {
      const r = resizes.get(msg.id);
      resizes.delete(msg.id);
      if (msg.error) r?.reject(deserializeError(msg.error));
      else r?.resolve();
    } else if (msg.type === 'error') {
      failure = deserializeError(msg.error);
    }
  });
  ws.on('close', () => {
    const err = failure ?? new PeerUnreachableError(client.label, 'the exec session ended without an exit code');
    for (const r of resizes.values()) r.reject(err);
    resizes.clear();
    if (exitCode === null) rejectExit(err);
  });
  const session: ExecSession = {
    write(data) {
      if (ws.readyState === ws.OPEN) ws.send(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data), { binary: true });
    },
    end() {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'end' }));
    },
    onOutput(listener): Disposer {
      listeners.add(listener);
      for (const e of early.splice(0)) listener(e.data, e.stream);
      earlyBytes = 0;
      return () => listeners.delete(listener);
    },
    resize(cols, rows) {
      if (ws.readyState !== ws.OPEN) return Promise.resolve();
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        resizes.set(id, { resolve, reject });
        ws.send(JSON.stringify({ type: 'resize', id, cols, rows }));
      });
    },
    wait() {
      return exited;
    },
    close() {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
    },
  };
  return new Promise<ExecSession>((resolve, reject) => {
    ws.once('open', () => resolve(session));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size < 1024 * 1024) chunks.push(c);
      });
      res.on('end', () => reject(fromEnvelopeError(Buffer.concat(chunks).toString('utf8'), res.statusCode)));
      res.on('error', (err) => reject(new PeerUnreachableError(client.label, err.message)));
    });
    ws.once('error', (err) => reject(err instanceof PeerUnreachableError ? err : new PeerUnreachableError(client.label, err.message)));
  });
}
