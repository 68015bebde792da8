import type { LogLine, LogStreamKind } from '../model/types.js';

export interface LogDecoderOptions {
  /** True for non-TTY containers: the engine frames stdout and stderr. */
  multiplexed: boolean;
  /** The engine prefixes each line with an RFC 3339 timestamp and a space. */
  timestamps: boolean;
  /** Longest line kept whole; longer lines are emitted in pieces. */
  maxLineBytes: number;
}

export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

const HEADER = 8;
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Collects the bytes of one stream until a newline, with a cap. */
class LineAssembler {
  private parts: Buffer[] = [];
  private size = 0;
  /** The current line already emitted a piece (so later pieces carry no timestamp). */
  private continued = false;

  constructor(
    private readonly kind: LogStreamKind,
    private readonly options: LogDecoderOptions,
  ) {}

  push(data: Buffer, out: LogLine[]): void {
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(0x0a, start);
      const end = nl === -1 ? data.length : nl;
      if (end > start) this.append(data.subarray(start, end), out);
      if (nl === -1) break;
      this.emit(out, false);
      start = nl + 1;
    }
  }

  flush(out: LogLine[]): void {
    if (this.size > 0) this.emit(out, false);
  }

  private append(piece: Buffer, out: LogLine[]): void {
    this.parts.push(piece);
    this.size += piece.length;
    while (this.size > this.options.maxLineBytes) {
      const all = Buffer.concat(this.parts, this.size);
      const cut = utf8Boundary(all, this.options.maxLineBytes);
      this.parts = [all.subarray(0, cut)];
      this.size = cut;
      this.emit(out, true);
      this.parts = [all.subarray(cut)];
      this.size = all.length - cut;
    }
  }

  private emit(out: LogLine[], partial: boolean): void {
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    let text = bytes.toString('utf8');
    if (this.kind === 'tty' && text.endsWith('\r')) text = text.slice(0, -1);
    const line: LogLine = { stream: this.kind, text };
    if (this.options.timestamps && !this.continued) {
      const m = TIMESTAMP.exec(text);
      if (m) {
        line.timestamp = m[1] as string;
        line.text = text.slice(m[0].length);
      }
    }
    if (partial) line.partial = true;
    this.continued = partial;
    out.push(line);
  }
}

/** Backs `at` up so a cut never splits a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, at: number): number {
  let i = at;
  while (i > 0 && i > at - 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return i === 0 ? at : i;
}

/**
 * Splits the engine's multiplexed stream (8-byte header: stream id, three
 * zero bytes, big-endian length; then the payload) into payload pieces.
 * Keeps at most one partial header between chunks.
 */
export class FrameDemuxer {
  private header = Buffer.alloc(0);
  private frameKind: 'stdout' | 'stderr' = 'stdout';
  private frameLeft = 0;

  push(chunk: Buffer, sink: (kind: 'stdout' | 'stderr', data: Buffer) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.frameLeft === 0) {
        const need = HEADER - this.header.length;
        const take = chunk.subarray(pos, pos + need);
        this.header = this.header.length === 0 ? Buffer.from(take) : Buffer.concat([this.header, take]);
        pos += take.length;
        if (this.header.length < HEADER) break;
        const kind = this.header[0];
        this.frameKind = kind === 2 || kind === 3 ? 'stderr' : 'stdout';
        this.frameLeft = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.frameLeft, chunk.length - pos);
      sink(this.frameKind, chunk.subarray(pos, pos + take));
      pos += take;
      this.frameLeft -= take;
    }
  }
}

/**
 * Turns the engine's log byte stream into lines. Streaming and bounded: it
 * keeps at most one partial frame header and one line per stream.
 */
export class LogDecoder {
  private readonly demux = new FrameDemuxer();
  private readonly out: Record<LogStreamKind, LineAssembler>;

  constructor(private readonly options: LogDecoderOptions) {
    this.out = {
      stdout: new LineAssembler('stdout', options),
      stderr: new LineAssembler('stderr', options),
      tty: new LineAssembler('tty', options),
    };
  }

  push(chunk: Buffer): LogLine[] {
    const lines: LogLine[] = [];
    if (!this.options.multiplexed) {
      this.out.tty.push(chunk, lines);
      return lines;
    }
    this.demux.push(chunk, (kind, data) => this.out[kind].push(data, lines));
    return lines;
  }

  /** Emits whatever is left without a trailing newline. */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    this.out.stdout.flush(lines);
    this.out.stderr.flush(lines);
    this.out.tty.flush(lines);
    return lines;
  }
}
