import { parseSince } from '../../core/model/duration.js';
import { BadInputError } from '../../core/model/errors.js';
import type { Node } from '../../core/node.js';
import { inert } from '../presentation/inert.js';
import type { CliIO } from './program.js';

export interface LogsOptions {
  follow?: boolean;
  tail: string;
  since?: string;
  timestamps?: boolean;
  raw?: boolean;
}

export function parseTail(text: string): number | 'all' {
  if (text === 'all') return 'all';
  if (!/^\d+$/.test(text)) throw new BadInputError(`--tail \`${text}\` must be a number of lines or "all".`);
  return Number(text);
}

/**
 * Prints a container's logs: stdout lines to stdout, stderr lines to
 * stderr. On a terminal, escape sequences are shown inert unless --raw.
 */
export async function runLogs(node: Node, ref: string, opts: LogsOptions, io: CliIO): Promise<void> {
  const tail = parseTail(opts.tail);
  const since = opts.since === undefined ? undefined : parseSince(opts.since, Date.now());
  const stream = await node.logs(ref, {
    follow: opts.follow === true,
    tail,
    timestamps: opts.timestamps === true,
    ...(since === undefined ? {} : { since }),
  });
  // Decided per stream: `logs x | grep y` still has stderr on the terminal.
  const raw = opts.raw === true;
  const outSafe = io.isTTY && !raw;
  const errSafe = (io.errIsTTY ?? io.isTTY) && !raw;
  const toOut = outSafe ? io.out : (io.outRaw ?? io.out);
  const toErr = errSafe ? io.err : (io.errRaw ?? io.err);
  const stop = () => stream.close();
  process.once('SIGINT', stop);
  try {
    for await (const line of stream) {
      const err = line.stream === 'stderr';
      const text = (err ? errSafe : outSafe) ? inert(line.text) : line.text;
      const prefix = line.timestamp ? `${line.timestamp} ` : '';
      const out = `${prefix}${text}${line.partial ? '' : '\n'}`;
      if (err) toErr(out);
      else toOut(out);
    }
  } finally {
    process.off('SIGINT', stop);
    stream.close();
  }
}
