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
/** The engine keeps a line longer than this as several messages, each with its own timestamp. */
const ENGINE_PIECE = 16 * 1024;
/** Longest stamp and its space (`2024-05-01T10:00:00.123456789+00:00 `), with room to spare. */
const STAMP_MAX = 40;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) /;

/**
 * Collects the bytes of one stream until a newline, with a cap. A line that
 * lies whole inside one chunk is decoded straight from the chunk (no Buffer
 * per line: at tens of thousands of lines a second those views were most of
 * the garbage); only a line split across chunks keeps pieces.
 */
class LineAssembler {
  private parts: Buffer[] = [];
  private size = 0;
  /** The current line already emitted a piece (so later pieces carry no timestamp). */
  private continued = false;
  /** Bytes the last `take` consumed. */
  used = 0;

  constructor(
    private readonly kind: LogStreamKind,
    private readonly options: LogDecoderOptions,
  ) {}

  /**
   * Takes bytes from data[start, end) up to and including the next newline.
   * Returns the finished line, or null when the range ran out first. Pieces of
   * an over-long line go to `overflow`, in order, before anything returned.
   */
  take(data: Buffer, start: number, end: number, overflow: LogLine[]): LogLine | null {
    let nl = data.indexOf(0x0a, start);
    if (nl >= end) nl = -1;
    if (nl === -1) {
      if (end > start) this.append(data.subarray(start, end), overflow);
      this.used = end - start;
      return null;
    }
    this.used = nl + 1 - start;
    if (this.size === 0 && nl - start <= this.options.maxLineBytes) return this.line(data.toString('utf8', start, nl), false);
    if (nl > start) this.append(data.subarray(start, nl), overflow);
    const last = this.emit(false);
    if (overflow.length === 0) return last;
    overflow.push(last);
    return null;
  }

  /** A line is under way: bytes of it are held, or a piece of it went out already. */
  get midLine(): boolean {
    return this.size > 0 || this.continued;
  }

  flush(out: LogLine[]): void {
    if (this.size > 0) out.push(this.emit(false));
  }

  private append(piece: Buffer, out: LogLine[]): void {
    this.parts.push(piece);
    this.size += piece.length;
    while (this.size > this.options.maxLineBytes) {
      const all = Buffer.concat(this.parts, this.size);
      const cut = utf8Boundary(all, this.options.maxLineBytes);
      this.parts = [all.subarray(0, cut)];
      this.size = cut;
      out.push(this.emit(true));
      this.parts = [all.subarray(cut)];
      this.size = all.length - cut;
    }
  }

  private emit(partial: boolean): LogLine {
    const bytes = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return this.line(bytes.toString('utf8'), partial);
  }

  private line(decoded: string, partial: boolean): LogLine {
    let text = decoded;
    if (this.kind === 'tty' && text.endsWith('\r')) text = text.slice(0, -1);
    const line: LogLine = { stream: this.kind, text };
    if (this.options.timestamps && !this.continued && TIMESTAMP.test(text)) {
      const space = text.indexOf(' ');
      line.timestamp = text.slice(0, space);
      line.text = text.slice(space + 1);
    }
    if (partial) line.partial = true;
    this.continued = partial;
    return line;
  }
}

/** Length of the engine's timestamp and its space at data[start, end), or 0. */
function stampLength(data: Buffer, start: number, end: number): number {
  const m = TIMESTAMP.exec(data.toString('latin1', start, Math.min(end, start + STAMP_MAX)));
  return m ? m[0].length : 0;
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
 * keeps at most one partial frame header and one line per stream. Lines are
 * decoded one at a time as `next()` asks for them, so a 64 KiB chunk of short
 * lines never exists as thousands of line objects at once.
 */
export class LogDecoder {
  private readonly out: Record<LogStreamKind, LineAssembler>;
  private chunk: Buffer | null = null;
  private pos = 0;
  private readonly header = Buffer.alloc(HEADER);
  private headerLength = 0;
  private frameKind: 'stdout' | 'stderr' = 'stdout';
  private frameLeft = 0;
  /** The next payload bytes are the first of a frame (one engine message each). */
  private frameStart = false;
  /**
   * TTY streams have no frames: raw bytes left in the current engine message
   * (a stamp and at most 16 KiB of a line) before the next piece's stamp;
   * null at the start of a line.
   */
  private ttyLeft: number | null = null;
  /** The start of a stamp cut by a chunk's end: read again with the next chunk. */
  private carry: Buffer | null = null;
  /** Lines ready before the chunk's next one (pieces of an over-long line, the final flush). */
  private ready: LogLine[] = [];
  private readyAt = 0;

  constructor(private readonly options: LogDecoderOptions) {
    this.out = {
      stdout: new LineAssembler('stdout', options),
      stderr: new LineAssembler('stderr', options),
      tty: new LineAssembler('tty', options),
    };
  }

  /** Hands over the next chunk; call once `next()` has returned null for the previous one. */
  feed(chunk: Buffer): void {
    this.chunk = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    this.pos = 0;
  }

  /**
   * Whether the bytes from `pos` may be a stamp the chunk cuts short: then
   * they wait for the next chunk (`avail` bytes of it belong to the message;
   * a newline among them means the line is whole and nothing waits).
   */
  private stampCut(chunk: Buffer, avail: number, need: number): boolean {
    if (avail >= need || chunk.indexOf(0x0a, this.pos) !== -1) return false;
    this.carry = Buffer.from(chunk.subarray(this.pos));
    this.chunk = null;
    return true;
  }

  /** The next whole line of what was fed, or null when more bytes are needed. */
  next(): LogLine | null {
    for (;;) {
      if (this.readyAt < this.ready.length) {
        const line = this.ready[this.readyAt++] as LogLine;
        if (this.readyAt === this.ready.length) {
          this.ready = [];
          this.readyAt = 0;
        }
        return line;
      }
      const chunk = this.chunk;
      if (chunk === null || this.pos >= chunk.length) {
        this.chunk = null;
        return null;
      }
      if (!this.options.multiplexed) {
        let end = chunk.length;
        if (this.options.timestamps) {
          // The engine cuts a line into messages of 16 KiB and stamps each: skip the stamps
          // of the pieces after the first (the first is the line's own, read by the assembler).
          if ((this.ttyLeft === null || this.ttyLeft === 0) && this.stampCut(chunk, chunk.length - this.pos, STAMP_MAX)) return null;
          if (this.ttyLeft === null) this.ttyLeft = stampLength(chunk, this.pos, chunk.length) + ENGINE_PIECE;
          else if (this.ttyLeft === 0) {
            this.pos += stampLength(chunk, this.pos, chunk.length);
            this.ttyLeft = ENGINE_PIECE;
            continue;
          }
          end = Math.min(chunk.length, this.pos + this.ttyLeft);
        }
        const start = this.pos;
        const line = this.out.tty.take(chunk, start, end, this.ready);
        this.pos += this.out.tty.used;
        if (this.ttyLeft !== null) this.ttyLeft = this.out.tty.used > 0 && chunk[this.pos - 1] === 0x0a ? null : this.ttyLeft - this.out.tty.used;
        if (line) return line;
        continue;
      }
      if (this.frameLeft === 0) {
        this.readHeader(chunk);
        continue;
      }
      const assembler = this.out[this.frameKind];
      if (this.frameStart) {
        this.frameStart = false;
        // The engine keeps a line longer than 16 KiB as several messages and stamps each one:
        // the stamp of a piece that goes on a line is not part of the line's text.
        if (this.options.timestamps && assembler.midLine) {
          const avail = Math.min(chunk.length - this.pos, this.frameLeft);
          if (this.stampCut(chunk, avail, Math.min(this.frameLeft, STAMP_MAX))) {
            this.frameStart = true;
            return null;
          }
          const skip = stampLength(chunk, this.pos, Math.min(chunk.length, this.pos + this.frameLeft));
          this.pos += skip;
          this.frameLeft -= skip;
          if (this.frameLeft === 0) continue;
        }
      }
      const line = assembler.take(chunk, this.pos, Math.min(chunk.length, this.pos + this.frameLeft), this.ready);
      this.pos += assembler.used;
      this.frameLeft -= assembler.used;
      if (line) return line;
    }
  }

  private readHeader(chunk: Buffer): void {
    if (this.headerLength === 0 && chunk.length - this.pos >= HEADER) {
      this.startFrame(chunk, this.pos);
      this.pos += HEADER;
      return;
    }
    // A header split across chunks: collect its bytes.
    const take = Math.min(HEADER - this.headerLength, chunk.length - this.pos);
    chunk.copy(this.header, this.headerLength, this.pos, this.pos + take);
    this.headerLength += take;
    this.pos += take;
    if (this.headerLength === HEADER) {
      this.startFrame(this.header, 0);
      this.headerLength = 0;
    }
  }

  private startFrame(bytes: Buffer, at: number): void {
    const kind = bytes[at];
    this.frameKind = kind === 2 || kind === 3 ? 'stderr' : 'stdout';
    this.frameLeft = bytes.readUInt32BE(at + 4);
    this.frameStart = this.frameLeft > 0;
  }

  /** Queues finished lines (the final flush) for `next()`. */
  feedLines(lines: LogLine[]): void {
    this.ready.push(...lines);
  }

  /** All the lines of a chunk at once (callers that do not stream). */
  push(chunk: Buffer): LogLine[] {
    const lines: LogLine[] = [];
    this.feed(chunk);
    for (let line = this.next(); line !== null; line = this.next()) lines.push(line);
    return lines;
  }

  /** Emits whatever is left without a trailing newline. */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    if (this.carry) {
      // The stream ended on the start of what looked like a stamp: it is text.
      const rest = this.carry;
      this.carry = null;
      const assembler = this.options.multiplexed ? this.out[this.frameKind] : this.out.tty;
      const line = assembler.take(rest, 0, rest.length, lines);
      if (line) lines.push(line);
    }
    this.out.stdout.flush(lines);
    this.out.stderr.flush(lines);
    this.out.tty.flush(lines);
    return lines;
  }
}
