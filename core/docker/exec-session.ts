import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Disposer } from '../model/types.js';
import type { ExecOptions, ExecSession } from '../node.js';
import { FrameDemuxer } from './log-decoder.js';

/**
 * Starts a process in a container over a hijacked connection. With a TTY
 * the bytes are raw (the TUI hands them to the real terminal); without one
 * the engine multiplexes stdout and stderr and they are kept apart.
 */
export async function createExecSession(container: Dockerode.Container, options: ExecOptions): Promise<ExecSession> {
  const tty = options.tty === true;
  const exec = await container.exec({
    Cmd: options.cmd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: tty,
    ...(options.env ? { Env: options.env } : {}),
    ...(options.user ? { User: options.user } : {}),
    ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: tty })) as unknown as Duplex;
  const listeners = new Set<(data: Uint8Array, kind: 'stdout' | 'stderr') => void>();
  const demux = tty ? null : new FrameDemuxer();
  const deliver = (kind: 'stdout' | 'stderr', data: Buffer) => {
    for (const l of [...listeners]) l(data, kind);
  };
  // Output that arrives before anyone listens is kept (bounded) and replayed.
  const early: { kind: 'stdout' | 'stderr'; data: Buffer }[] = [];
  let earlyBytes = 0;
  stream.on('data', (chunk: Buffer) => {
    const sink = (kind: 'stdout' | 'stderr', data: Buffer) => {
      if (listeners.size === 0) {
        if (earlyBytes < 1024 * 1024) {
          early.push({ kind, data: Buffer.from(data) });
          earlyBytes += data.length;
        }
        return;
      }
      deliver(kind, data);
    };
    if (demux) demux.push(chunk, sink);
    else sink('stdout', chunk);
  });
  const ended = new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
  if (tty && options.cols && options.rows) {
    await exec.resize({ h: options.rows, w: options.cols }).catch(() => undefined);
  }
  let exitCode: Promise<number> | null = null;
  return {
    write(data) {
      stream.write(typeof data === 'string' ? data : Buffer.from(data));
    },
    end() {
      // Half-close: the process reads EOF but its output still arrives.
      stream.end();
    },
    onOutput(listener): Disposer {
      listeners.add(listener);
      if (early.length > 0) {
        for (const e of early.splice(0)) listener(e.data, e.kind);
        earlyBytes = 0;
      }
      return () => listeners.delete(listener);
    },
    async resize(cols, rows) {
      if (!tty) return;
      await exec.resize({ h: rows, w: cols });
    },
    wait() {
      exitCode ??= ended.then(async () => {
        // The stream can end a moment before the engine records the exit code.
        for (let i = 0; i < 50; i++) {
          const info = (await exec.inspect()) as { Running?: boolean; ExitCode?: number | null };
          if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
          await new Promise((r) => setTimeout(r, 20));
        }
        return -1;
      });
      return exitCode;
    },
    close() {
      stream.destroy();
    },
  };
}
