import { afterEach, describe, expect, it } from 'vitest';
import type { LogLine } from '../../core/model/types.js';
import type { LogStream, Node } from '../../core/node.js';
import { LogSession } from '../../tui/logs/log-session.js';

/** A stream of the given lines; `hold`: stays open (a running container) until closed. */
function stream(lines: LogLine[], hold: boolean): LogStream {
  let closed = false;
  let wake: (() => void) | null = null;
  return {
    close() {
      closed = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (const l of lines) yield l;
      if (hold) await new Promise<void>((r) => (closed ? r() : (wake = r)));
    },
  };
}

/**
 * A node with `logger` (one run, stopped, then a second run whose first lines the engine
 * stamped before its StartedAt, as it does) and `api` (one line, running).
 */
function fakeNode(): Node {
  const S1 = Date.parse('2024-05-01T06:24:00.000Z');
  const S2 = Date.parse('2024-05-01T06:24:27.120Z');
  let loggerLooks = 0;
  return {
    async inspect(ref: string) {
      if (ref.startsWith('api')) return { id: 'api-id', name: 'api', state: 'running', startedAt: S1 } as never;
      loggerLooks++;
      return { id: 'logger-id', name: 'logger', state: 'running', startedAt: loggerLooks === 1 ? S1 : S2 } as never;
    },
    async logs(id: string) {
      if (id === 'api-id') return stream([{ stream: 'stdout', timestamp: '2024-05-01T06:24:10.000000000Z', text: 'api line' }], true);
      if (loggerLooks === 1) return stream([{ stream: 'stdout', timestamp: '2024-05-01T06:24:20.000000000Z', text: 'old run' }], false);
      return stream(
        [
          { stream: 'stdout', timestamp: '2024-05-01T06:24:27.118000001Z', text: 'out line 1' },
          { stream: 'stderr', timestamp: '2024-05-01T06:24:27.119000000Z', text: 'err line 1' },
          { stream: 'stdout', timestamp: '2024-05-01T06:24:28.000000000Z', text: 'out line 2' },
        ],
        true,
      );
    },
    watch: () => () => {},
  } as unknown as Node;
}

const sessions: LogSession[] = [];
afterEach(() => sessions.splice(0).forEach((s) => s.close()));

async function until(ok: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LogSession gap marks in a merged view', () => {
  it('puts the restart mark before the new run\'s first lines, though the engine stamped them before StartedAt', async () => {
    const node = fakeNode();
    const s = new LogSession(
      [
        { node, id: 'api-id', name: 'api' },
        { node, id: 'logger-id', name: 'logger' },
      ],
      { capacity: 100, tail: 10 },
    );
    sessions.push(s);
    await until(() => s.buffer.slice().some((e) => e.text === 'out line 2'));
    const texts = s.buffer.slice().map((e) => e.text.replace(/\d\d:\d\d:\d\d/, 'T'));
    expect(texts).toEqual(['api line', 'old run', '— container restarted T —', 'out line 1', 'err line 1', 'out line 2']);
  });
});
