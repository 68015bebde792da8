import type { Readable } from 'node:stream';

/**
 * A byte stream's chunks, read ahead of the reader up to `maxBytes`: the writer on the other end
 * (an engine, an agent) keeps writing while the reader works through what came, where a stream's
 * own 16 KiB mark made it wait on every round of a relay; a reader that stops holds the writer
 * back at the bound. Ends with the stream's end; a stream closed before its end (the other side
 * went away) is an error, unless `quiet()` says the reader closed it (or the caller checks that
 * itself: `prematureCloseIsError` false).
 */
export function readAhead(stream: Readable, maxBytes: number, quiet: () => boolean = () => false, prematureCloseIsError = true): AsyncIterator<Buffer> {
  const chunks: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let complete = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    queued += chunk.length;
    if (queued > maxBytes) stream.pause();
    poke();
  });
  stream.once('end', () => {
    complete = true;
    ended = true;
    poke();
  });
  stream.once('close', () => {
    if (prematureCloseIsError && !complete && failure === null) failure = new Error('the stream broke off before its end');
    ended = true;
    poke();
  });
  stream.once('error', (err) => {
    failure = err;
    ended = true;
    poke();
  });
  return {
    async next(): Promise<IteratorResult<Buffer>> {
      for (;;) {
        const chunk = chunks.shift();
        if (chunk) {
          queued -= chunk.length;
          if (queued < maxBytes / 4 && stream.isPaused()) stream.resume();
          return { value: chunk, done: false };
        }
        if (ended) {
          if (failure !== null && !quiet()) {
            const err = failure;
            failure = null;
            throw err;
          }
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<Buffer>> {
      ended = true;
      stream.destroy();
      return { value: undefined, done: true };
    },
  };
}
