import type { ContainerDetails, LogStreamKind, ModelChange } from '../../core/model/types.js';
import type { LogStream, Node } from '../../core/node.js';
import { RingBuffer } from './ring-buffer.js';

export interface LogEntry {
  /** Index into the session's targets (for the name prefix and its colour). */
  source: number;
  /** `meta`: a line of the session itself (a gap: the container restarted), not of the container. */
  stream: LogStreamKind | 'meta';
  timestamp: string;
  text: string;
}

export interface LogTarget {
  node: Node;
  id: string;
  name: string;
}

export interface LogSessionOptions {
  /** Lines kept in memory for the whole session (the ring buffer's size). */
  capacity: number;
  /** Lines to start with from each container. */
  tail: number;
  /** false: nothing is followed and the owner fills the buffer (replaying saved lines, tests). */
  follow?: boolean;
}

/** Longest line kept, in bytes: a longer one is cut there and ends with `CUT_MARK` (memory is capacity × this). */
export const MAX_LINE_BYTES = 16 * 1024;
/** The end of a line that was cut at `MAX_LINE_BYTES` (the rest of it is not kept). */
export const CUT_MARK = ' …[cut at 16 KiB]';

/** Longest wait for the engine's answer to one inspect while (re)opening a stream. */
const INSPECT_DEADLINE_MS = 10_000;
/**
 * Longest wait between two looks at a stopped container or an absent engine: the node's model
 * wakes the session as soon as the container starts or the engine is back; this is the fallback.
 */
const RECHECK_MS = 5000;
/** Longest wait for a restarted container's first line before its gap mark is shown without it. */
const MARK_WAIT_MS = 500;

/**
 * A sortable key for an RFC 3339 timestamp: UTC, nine fraction digits. The
 * engine trims trailing zeros (`…:05.1Z` is later than `…:05.09Z`), so the
 * strings themselves do not sort. '' when there is none.
 */
export function timeKey(ts: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return '';
  let base = m[1] as string;
  if (m[3] !== 'Z') {
    const ms = Date.parse(`${base}${m[3]}`);
    if (!Number.isFinite(ms)) return '';
    base = new Date(ms).toISOString().slice(0, 19);
  }
  return `${base}.${(m[2] ?? '').padEnd(9, '0')}`;
}

/** Milliseconds since the epoch of a timestamp, or null. */
function timeMs(ts: string): number | null {
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : null;
}

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `p`, or an error after `ms`; what `p` brings after that goes to `late` (a stream to close). */
function withDeadline<T>(p: Promise<T>, ms: number, what: string, late?: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  return Promise.race([
    p.then((v) => {
      if (timedOut) late?.(v);
      return v;
    }),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`${what}: no answer from the engine within ${ms / 1000} s`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What a target's stream is doing, for the view's header. */
export type TargetState = 'opening' | 'streaming' | 'waiting' | 'unreachable';

/**
 * Follows the logs of one or more containers into one bounded buffer.
 * Memory is capacity × line, whatever the containers print; a line longer
 * than 16 KiB is kept as one entry cut there (its first piece, with the
 * line's stamp, and `CUT_MARK`): the rest is dropped, never a second entry. Listeners are told at most once per
 * `notifyMs` (100 ms: 10 frames a second), so a flood of lines costs one
 * render per interval; at 20 frames a second the renders took the time the
 * ingestion needed (bench: 0.33 of `docker logs -f`'s rate, 0.63 at 10).
 *
 * A followed container may stop, restart, be killed or be re-created under
 * the same name, and the engine may go away: the session waits (woken by the
 * node's model, checked again every 5 s at most), opens the stream again
 * from the last line it has, and marks the gap with a `meta` line.
 *
 * Lines are kept in the engine's time order (timestamps are always asked
 * for, shown or not): within one container that is arrival order; in a
 * merged view a line older than the newest held is put in its place, after
 * any line of the same instant (ties keep arrival order).
 */
export class LogSession {
  readonly buffer: RingBuffer<LogEntry>;
  #keys: RingBuffer<string>;
  #streams = new Set<LogStream>();
  #listeners = new Set<() => void>();
  #wakers = new Set<() => void>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #states: TargetState[];
  #problems: (string | null)[];
  readonly #openedAt = Date.now();
  /** Lines received since the session opened (the buffer keeps only the newest). */
  received = 0;

  constructor(
    readonly targets: readonly LogTarget[],
    options: LogSessionOptions,
    private readonly notifyMs = 100,
  ) {
    this.buffer = new RingBuffer<LogEntry>(options.capacity);
    this.#keys = new RingBuffer<string>(options.capacity);
    this.#states = targets.map(() => 'opening');
    this.#problems = targets.map(() => null);
    if (options.follow !== false) for (const [i, t] of targets.entries()) void this.#pump(i, t, options.tail);
  }

  /** What went wrong and is not resolved yet (one line per target at most). */
  get errors(): string[] {
    return this.#problems.filter((p): p is string => p !== null);
  }

  /** Each target's state, in the order of `targets`. */
  states(): readonly TargetState[] {
    return this.#states;
  }

  /** Adds a line in time order (see the class comment). Also for owners that fill the buffer. */
  push(entry: LogEntry): void {
    if (this.targets.length === 1) {
      // One container: its lines come in time order already (no key per line in a flood).
      this.buffer.push(entry);
      this.received++;
      this.#notify();
      return;
    }
    const key = timeKey(entry.timestamp);
    const n = this.buffer.size;
    let at = n;
    if (key !== '') {
      while (at > 0) {
        const k = this.#keys.at(at - 1) as string;
        if (k === '' || k <= key) break;
        at--;
      }
    }
    if (at === n) {
      this.buffer.push(entry);
      this.#keys.push(key);
    } else if (at > 0 || n < this.buffer.capacity) {
      this.buffer.insert(at, entry);
      this.#keys.insert(at, key);
    }
    // else: older than everything a full buffer holds; it would be the next to fall off.
    this.received++;
    this.#notify();
  }

  #setState(source: number, state: TargetState, problem: string | null = null): void {
    const changed = this.#states[source] !== state || this.#problems[source] !== problem;
    this.#states[source] = state;
    this.#problems[source] = problem;
    if (changed) this.#notify();
  }

  #marker(source: number, text: string, atMs: number, timestamp = new Date(atMs).toISOString()): void {
    this.push({ source, stream: 'meta', timestamp, text: `— ${text} ${clock(atMs)} —` });
  }

  async #pump(source: number, t: LogTarget, tail: number): Promise<void> {
    let first = true;
    /** The engine's stamp of the last line shown: a reopened stream starts there. */
    let lastTs = '';
    let known: { id: string; startedAt: number | null } | null = null;
    let engineLost = false;
    let quickEnds = 0;
    let tries = 0;
    while (!this.#closed) {
      tries++;
      let d: ContainerDetails;
      try {
        // Once open, the name is what the person follows: a re-created container has a new ID.
        d = await withDeadline(t.node.inspect(first && tries === 1 ? t.id : t.name), INSPECT_DEADLINE_MS, `${t.name}`);
      } catch (err) {
        if (this.#closed) return;
        const text = err instanceof Error ? err.message : String(err);
        // The container is not there (removed, not re-created yet): wait for it, quietly once
        // it was followed. Anything else is the engine: say so.
        const gone = (err as { code?: string }).code === 'NO_SUCH_CONTAINER' || /no such container/i.test(text);
        if (!gone) engineLost = true;
        this.#setState(source, gone ? 'waiting' : 'unreachable', gone && !first ? null : `${t.name}: ${text}`);
        await this.#wake(t.node, t.name, RECHECK_MS);
        continue;
      }
      if (this.#closed) return;
      const running = d.state === 'running' || d.state === 'paused';
      const fresh = known !== null && (d.id !== known.id || d.startedAt !== known.startedAt);
      if (!first && !running) {
        this.#setState(source, 'waiting');
        await this.#wake(t.node, t.name, RECHECK_MS);
        continue;
      }
      // A new run's mark waits for its first line: the engine stamps StartedAt after the process
      // may have written (and a ms stamp sorts after the line's ns one), so in a merged view the
      // mark at StartedAt landed after the new run's first lines. It goes in just before that line,
      // with that line's stamp when it is earlier; a run that says nothing gets it after MARK_WAIT_MS.
      let mark: { text: string; atMs: number } | null = null;
      if (!first) {
        if (fresh) mark = { text: known?.id !== d.id ? 'container re-created' : 'container restarted', atMs: d.startedAt ?? Date.now() };
        else if (engineLost) this.#marker(source, 'engine reconnected', Date.now());
      }
      let markTimer: NodeJS.Timeout | null = null;
      const placeMark = (before?: string) => {
        if (markTimer) clearTimeout(markTimer);
        markTimer = null;
        if (!mark || this.#closed) return;
        const at = new Date(mark.atMs).toISOString();
        const lineKey = before ? timeKey(before) : '';
        this.#marker(source, mark.text, mark.atMs, lineKey !== '' && lineKey < timeKey(at) ? (before as string) : at);
        mark = null;
      };
      known = { id: d.id, startedAt: d.startedAt };
      engineLost = false;
      let stream: LogStream;
      try {
        const since = first ? undefined : ((lastTs ? timeMs(lastTs) : null) ?? this.#openedAt);
        stream = await withDeadline(
          t.node.logs(d.id, { follow: true, timestamps: true, maxLineBytes: MAX_LINE_BYTES, ...(since === undefined ? { tail } : { tail: 'all', since: Math.floor(since) }) }),
          INSPECT_DEADLINE_MS,
          `${t.name}: logs`,
          (late) => late.close(),
        );
      } catch (err) {
        if (this.#closed) return;
        placeMark();
        engineLost = true;
        this.#setState(source, 'unreachable', `${t.name}: ${err instanceof Error ? err.message : String(err)}`);
        await this.#wake(t.node, t.name, RECHECK_MS);
        continue;
      }
      if (this.#closed) {
        stream.close();
        return;
      }
      if (mark) markTimer = setTimeout(() => placeMark(), MARK_WAIT_MS);
      first = false;
      this.#streams.add(stream);
      this.#setState(source, running ? 'streaming' : 'waiting');
      const opened = Date.now();
      // Lines up to the last one shown come again (the engine's `since` is inclusive, to the ms).
      const skipUpTo = lastTs ? timeKey(lastTs) : '';
      let skipping = skipUpTo !== '';
      let lines = 0;
      // Per stream: the line under way was cut (its first piece is shown): its other pieces go.
      const cutting = { stdout: false, stderr: false, tty: false };
      try {
        for await (const line of stream) {
          if (cutting[line.stream]) {
            // The last piece is the one not marked partial: the next line starts after it.
            if (!line.partial) cutting[line.stream] = false;
            continue;
          }
          const ts = line.timestamp ?? '';
          if (skipping) {
            const key = timeKey(ts);
            if (key !== '' && key <= skipUpTo) {
              if (line.partial) cutting[line.stream] = true;
              continue;
            }
            skipping = false;
          }
          if (mark) placeMark(ts);
          if (ts) lastTs = ts;
          lines++;
          if (line.partial) cutting[line.stream] = true;
          this.push({ source, stream: line.stream, timestamp: ts, text: line.partial ? `${line.text}${CUT_MARK}` : line.text });
        }
      } catch (err) {
        if (this.#closed) return;
        engineLost = true;
        this.#setState(source, 'unreachable', `${t.name}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        placeMark();
        this.#streams.delete(stream);
        stream.close();
      }
      if (this.#closed) return;
      if (this.#states[source] === 'streaming') this.#setState(source, 'waiting');
      // A stream that ends at once while the container runs: look again, with growing pauses.
      quickEnds = lines === 0 && Date.now() - opened < 500 ? quickEnds + 1 : 0;
      if (quickEnds > 0) await this.#wake(t.node, t.name, Math.min(RECHECK_MS, 100 * 2 ** quickEnds));
    }
  }

  /**
   * Resolves when the node's model says something about the container
   * named `name` (or was reset, after a reconnect), after `ms` at most, or
   * when the session closes.
   */
  #wake(node: Node, name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let armed = false;
      let dispose: (() => void) | null = null;
      const done = () => {
        clearTimeout(timer);
        dispose?.();
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
      try {
        dispose = node.watch((c: ModelChange) => {
          if (!armed) return;
          if (c.kind === 'reset' || (c.kind === 'upsert' ? c.container.name === name : c.name === name)) done();
        });
      } catch {
        // A node without a model: the timer alone.
      }
      armed = true;
    });
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      for (const l of [...this.#listeners]) l();
    }, this.notifyMs);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const s of [...this.#streams]) s.close();
    this.#streams.clear();
    for (const w of [...this.#wakers]) w();
    this.#listeners.clear();
  }
}
