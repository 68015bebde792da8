import type { Readable } from 'node:stream';
import type { LogStream } from '../node.js';
import type { LogLine } from '../model/types.js';
import { readAhead } from '../shared/read-ahead.js';
import type { LogDecoder } from './log-decoder.js';

/** The engine's log bytes read ahead of the reader, at most (see readAhead). */
const READ_AHEAD_BYTES = 1024 * 1024;

/** Wraps an engine byte stream as an async iterable of lines with an owner-held close. */
export function logStreamOf(stream: Readable, decoder: LogDecoder): LogStream {
  let closed = false;
  let ended = false;
  const chunks = readAhead(stream, READ_AHEAD_BYTES, () => closed);
  const done = (): IteratorResult<LogLine> => ({ value: undefined, done: true });
  // Lines are decoded one at a time as the reader asks: a chunk never becomes thousands of line objects at once.
  const iterator: AsyncIterator<LogLine> = {
    async next() {
      try {
        for (;;) {
          const line = decoder.next();
          if (line) return { value: line, done: false };
          if (ended) {
            stream.destroy();
            return done();
          }
          const r = await chunks.next();
          if (r.done) {
            ended = true;
            const rest = decoder.end();
            if (rest.length > 0) decoder.feedLines(rest);
          } else {
            decoder.feed(r.value);
          }
        }
      } catch (err) {
        stream.destroy();
        ended = true;
        if (!closed) throw err;
        return done();
      }
    },
    async return() {
      ended = true;
      stream.destroy();
      return done();
    },
  };
  return {
    [Symbol.asyncIterator]: () => iterator,
    close: () => {
      closed = true;
      stream.destroy();
    },
  };
}
