/**
 * The full-screen logs view. Why this file is ~430 lines: the view's own state
 * (scroll anchor, search, filter with context, wrap, save) and its drawing
 * share one windowed render; the session (merging, gap marks) is
 * tui/logs/log-session.ts and the keys are in keymap.ts.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Box, Text, type Key } from 'ink';
import type { MutableRefObject } from 'react';
import type { KeyHandler } from './use-keys.js';
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'react';
import type { LogEntry, LogSession, LogTarget } from '../logs/log-session.js';
import { compileSearch, filterWithContext, highlight, matches } from '../logs/search.js';
import { inert } from '../presentation/inert.js';
import type { Theme } from './theme.js';
import { editLine, PromptLine } from './line-input.js';
import { lookupKey } from './keymap.js';

export interface LogsScreenProps {
  session: LogSession;
  width: number;
  height: number;
  theme: Theme;
  /** The app's key router sends this screen's keys through here. */
  keys: MutableRefObject<KeyHandler | null>;
  /** Called once the screen listens, so keys typed before can be replayed. */
  onKeysReady?: () => void;
  onBack: () => void;
  onHelp: () => void;
  /** Where `S` writes the buffer. */
  saveDir: string;
}

interface Row {
  /** Position of the entry in the buffer. */
  entry: number;
  text: string;
  parts: ReturnType<typeof highlight>;
  prefix: string;
  stream: LogEntry['stream'];
  source: number;
}

/**
 * Where a paused view stands: the sequence number of its bottom entry, or
 * (after `g`) of its top entry, drawn from its first row (a wrapped long line
 * shows its beginning). null = following.
 */
type Anchor = { seq: number; top: boolean } | null;

/** The folder a relative `saveDir` is read from: where the person started outpost (`npm start` moves). */
export function saveFolder(saveDir: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(env.OUTPOST_START_DIR || cwd, saveDir);
}

/** Full-screen logs: follow or pause, scroll, search, filter with context, timestamps, wrap, save. */
export function LogsScreen(props: LogsScreenProps) {
  const { session, width, height, theme, onBack, onHelp } = props;
  const [, tick] = useReducer((n: number) => n + 1, 0);
  // Paused, the view is anchored to the sequence number of an entry: new lines and lines
  // falling off the ring buffer do not move what the person is reading. null = following.
  const [anchor, setAnchorState] = useState<Anchor>(null);
  // Mirrored in a ref: keys of one batch ("kkk") each move from where the previous one left it.
  const anchorRef = useRef<Anchor>(null);
  const setAnchor = (a: Anchor) => {
    anchorRef.current = a;
    setAnchorState(a);
  };
  const follow = anchor === null;
  const [query, setQueryState] = useState<string>('');
  const queryRef = useRef('');
  const setQuery = (q: string) => {
    queryRef.current = q;
    setQueryState(q);
  };
  const [searching, setSearching] = useState(false);
  const [draft, setDraft] = useState('');
  // Refs mirror the state the key handler reads, so keys in one batch see each other's effects.
  const searchingRef = useRef(false);
  const draftRef = useRef('');
  const [filterMode, setFilterMode] = useState(false);
  const [context, setContext] = useState(0);
  const [timestamps, setTimestamps] = useState(false);
  const [wrap, setWrap] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  /** Sequence number of the match the last search or n/N went to. */
  const [cursor, setCursorState] = useState<number | null>(null);
  const cursorRef = useRef<number | null>(null);
  const setCursor = (c: number | null) => {
    cursorRef.current = c;
    setCursorState(c);
  };

  useEffect(() => session.subscribe(tick), [session]);

  const compile = (q: string): { re: RegExp | null; error: string | null } => {
    try {
      return { re: compileSearch(q), error: null };
    } catch (err) {
      return { re: null, error: (err as Error).message };
    }
  };
  const { re, error: reError } = compile(query);

  // Only filter mode and the match count walk the whole buffer, once per change of the buffer or
  // the query; otherwise a frame reads just the rows it draws (a flood fills 10,000 lines).
  const buffer = session.buffer;
  const matchCache = useRef<{ key: string; matches: number[] } | null>(null);
  const matchesOf = (r: RegExp, q: string): number[] => {
    const key = `${q}|${buffer.pushed}|${buffer.size}`;
    if (matchCache.current?.key === key) return matchCache.current.matches;
    const found: number[] = [];
    for (let i = 0; i < buffer.size; i++) {
      const e = buffer.at(i) as LogEntry;
      if (e.stream !== 'meta' && matches(e.text, r)) found.push(i);
    }
    matchCache.current = { key, matches: found };
    return found;
  };
  const found = re ? matchesOf(re, query) : [];
  const filtered = filterMode && re ? filterWithContext(buffer.slice().map((e) => e.text), re, context) : null;
  const count = filtered ? filtered.length : buffer.size;
  const indexAt = (k: number): number => (filtered ? (filtered[k] as number) : k);
  /** The visible position of buffer position `i` (or of the first one after it). */
  const posOf = (i: number): number => {
    if (!filtered) return Math.max(0, i);
    let n = 0;
    while (n < filtered.length && (filtered[n] as number) < i) n++;
    return n;
  };
  const bodyHeight = Math.max(1, height - 2);
  const multi = session.targets.length > 1;

  // A peer's container, or a merge across nodes, is named with its node (`gw-2/web`): two nodes can hold a `web` each.
  const manyNodes = new Set(session.targets.map((t) => t.node.name)).size > 1;
  const labelOf = (t: LogTarget): string => (manyNodes || !t.node.isThisMachine ? `${t.node.name}/${t.name}` : t.name);
  // Merged: every name padded to the longest, so the lines start in one column.
  const nameWidth = multi ? Math.max(...session.targets.map((t) => inert(labelOf(t)).length)) : 0;
  /** The gutter and timestamp of an entry as shown; `markErr`: stderr gets its `!` mark (no colour to tell it). */
  const prefixOf = (e: LogEntry, markErr: boolean): string => {
    // Without colour a stderr line is marked by its gutter: `!` (merged: in place of `│`).
    const err = markErr && e.stream === 'stderr';
    const target = session.targets[e.source];
    const gutter = multi ? `${inert(target ? labelOf(target) : '?').padEnd(nameWidth)} ${err ? STDERR_MARK : '│'} ` : err ? `${STDERR_MARK} ` : '';
    return `${gutter}${timestamps && e.timestamp ? `${e.timestamp.slice(0, 23)} ` : ''}`;
  };

  const rowsOf = (i: number): Row[] => {
    const e = buffer.at(i) as LogEntry;
    const prefix = prefixOf(e, theme.noColor);
    const text = inert(e.text);
    const avail = Math.max(10, width - prefix.length);
    const pieces = wrap ? chunk(text, avail) : [text.length > avail ? `${text.slice(0, avail - 1)}…` : text];
    return pieces.map((piece, p) => ({ entry: i, text: piece, parts: highlight(piece, e.stream === 'meta' ? null : re), prefix: p === 0 ? prefix : ' '.repeat(prefix.length), stream: e.stream, source: e.source }));
  };

  /** The rows on screen for an anchor, and the visible positions of the first and last entry drawn. */
  const layout = (a: Anchor): { rows: Row[]; first: number; last: number } => {
    const rows: Row[] = [];
    if (count === 0) return { rows, first: 0, last: -1 };
    if (a?.top) {
      const from = Math.min(count - 1, posOf(a.seq - buffer.firstSeq));
      let k = from;
      for (; k < count && rows.length < bodyHeight; k++) rows.push(...rowsOf(indexAt(k)).slice(0, bodyHeight - rows.length));
      return { rows, first: from, last: k - 1 };
    }
    let end = count;
    if (a) {
      const bottom = Math.max(0, a.seq - buffer.firstSeq);
      end = filtered ? posOf(bottom + 1) : Math.min(count, bottom + 1);
    }
    let k = end - 1;
    for (; k >= 0 && rows.length < bodyHeight; k--) {
      const pieces = rowsOf(indexAt(k));
      rows.unshift(...pieces.slice(Math.max(0, pieces.length - (bodyHeight - rows.length))));
    }
    // Near the top of the buffer the screen is filled from below the anchor too: no blank rows.
    let last = end - 1;
    for (; last + 1 < count && rows.length < bodyHeight; last++) rows.push(...rowsOf(indexAt(last + 1)).slice(0, bodyHeight - rows.length));
    return { rows, first: k + 1, last };
  };
  const view = layout(anchor);

  /** Anchors the view so that visible position `pos` is its bottom line; past the end, follows. */
  const anchorAt = (pos: number) => {
    if (count === 0 || pos >= count - 1) return setAnchor(null);
    setAnchor({ seq: buffer.firstSeq + indexAt(Math.max(0, pos)), top: false });
  };
  const newestShown = anchor === null ? buffer.pushed - 1 : buffer.firstSeq + indexAt(Math.max(0, view.last));
  const newer = anchor === null ? 0 : Math.max(0, buffer.pushed - 1 - newestShown);

  /** Goes to the next (1) or previous (-1) match from the last one, or from the view's bottom line. */
  const jump = (dir: 1 | -1, r: RegExp | null = re, q = query, from: number | null = cursorRef.current) => {
    if (!r) return;
    const list = matchesOf(r, q);
    if (list.length === 0) return setMessage({ text: `no match for ${q}`, error: true });
    const here = from !== null && from >= buffer.firstSeq ? from - buffer.firstSeq : indexAt(Math.max(0, layout(anchorRef.current).last));
    let idx: number;
    if (dir === 1) idx = list.find((i) => i > here) ?? (list[0] as number);
    else idx = [...list].reverse().find((i) => i < here) ?? (list[list.length - 1] as number);
    setCursor(buffer.firstSeq + idx);
    // A match already on screen is shown where it is (a following view goes on following).
    const now = layout(anchorRef.current);
    const at = posOf(idx);
    if (at >= now.first && at <= now.last) return;
    anchorAt(Math.min(count - 2, at + Math.floor(bodyHeight / 2)));
  };

  const onKey = (input: string, key: Key) => {
      if (searchingRef.current) {
        const e = editLine(draftRef.current, input, key);
        draftRef.current = e.value;
        setDraft(e.value);
        if (e.done) {
          searchingRef.current = false;
          setSearching(false);
        }
        if (e.done === 'submit') {
          setQuery(e.value);
          setCursor(null);
          // Enter goes to the first match after what is on screen (from the end: the first one).
          const c = compile(e.value);
          if (c.re) jump(1, c.re, e.value, null);
        }
        return;
      }
      setMessage(null);
      const page = Math.max(1, bodyHeight - 1);
      const a = anchorRef.current;
      const shown = layout(a);
      const bottom = shown.last;
      const following = a === null;
      const toTop = (pos: number) => setAnchor(count === 0 ? null : { seq: buffer.firstSeq + indexAt(Math.max(0, Math.min(count - 1, pos))), top: true });
      // Ctrl+key is not the key: Ctrl-L redraws (the app's), the others do nothing here.
      if (key.ctrl) return;
      const hit = lookupKey('logs', input, key);
      if (!hit) return;
      const arg = hit.match.arg;
      switch (hit.binding.action) {
        case 'escape':
          // Esc undoes the search first (its status line says so): a second Esc backs out.
          if (queryRef.current) {
            setQuery('');
            setCursor(null);
            return setFilterMode(false);
          }
          return onBack();
        case 'back':
          return onBack();
        case 'help':
          return onHelp();
        case 'scroll':
          if (arg === 1) {
            if (a?.top) return shown.last >= count - 1 ? setAnchor(null) : toTop(shown.first + 1);
            return following ? undefined : anchorAt(bottom + 1);
          }
          if (a?.top) return toTop(shown.first - 1);
          return setAnchor(count === 0 ? null : { seq: buffer.firstSeq + indexAt(Math.max(0, bottom - 1)), top: false });
        case 'page':
          if (arg === 1) {
            if (a?.top) return shown.last >= count - 1 ? setAnchor(null) : toTop(shown.last + 1);
            return following ? undefined : anchorAt(bottom + page);
          }
          if (a?.top || shown.first - 1 < 0) return toTop(Math.max(0, shown.first - page));
          return setAnchor({ seq: buffer.firstSeq + indexAt(Math.max(0, shown.first - 1)), top: false });
        case 'ends':
          return arg === 'first' ? toTop(0) : setAnchor(null);
        case 'follow':
          if (!following) return setAnchor(null);
          return count === 0 ? undefined : setAnchor({ seq: buffer.firstSeq + indexAt(count - 1), top: false });
        case 'search':
          searchingRef.current = true;
          draftRef.current = queryRef.current;
          setDraft(queryRef.current);
          return setSearching(true);
        case 'next-match':
          return jump(arg === -1 ? -1 : 1, compile(queryRef.current).re, queryRef.current);
        case 'filter':
          return setFilterMode((f) => !f);
        case 'context':
          return setContext((c) => Math.max(0, Math.min(20, c + (arg as number))));
        case 'timestamps':
          return setTimestamps((t) => !t);
        case 'wrap':
          return setWrap((w) => !w);
        case 'save': {
          const name = session.targets.map(labelOf).join('+').replace(/[^A-Za-z0-9_.+-]/g, '_');
          const file = join(saveFolder(props.saveDir), `outpost-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
          // What the view shows, whole: the filtered lines (with their context) when F is on, the
          // gutter and the timestamps as shown; lines are not cut to the width nor wrapped, and a
          // file has no colour, so stderr lines carry their `!` mark. Escape sequences stay inert.
          const shownIdx = filtered ?? Array.from({ length: buffer.size }, (_, k) => k);
          try {
            const body = shownIdx
              .map((k) => {
                const e = buffer.at(k) as LogEntry;
                return `${prefixOf(e, true)}${inert(e.text)}\n`;
              })
              .join('');
            writeFileSync(file, body, { mode: 0o600 });
            const what = [filtered ? 'filtered' : null, timestamps ? 'with timestamps' : null].filter(Boolean).join(', ');
            setMessage({ text: `saved ${shownIdx.length} line${shownIdx.length === 1 ? '' : 's'}${what ? ` (${what})` : ''} to ${inert(file)}`, error: false });
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            const dir = inert(saveFolder(props.saveDir));
            const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' ? 'not a directory' : inert((err as Error).message);
            // The reason and where to change it are kept on a narrow screen: the folder is cut from its start.
            const tail = `: ${why} (saveDir in tui.json)`;
            const room = width - 'cannot save to '.length - tail.length;
            const shownDir = dir.length <= room || room < 4 ? dir : `…${dir.slice(dir.length - room + 1)}`;
            setMessage({ text: `cannot save to ${shownDir}${tail}`, error: true });
          }
          return;
        }
      }
  };
  const onKeyRef = useRef(onKey);
  onKeyRef.current = onKey;
  const { keys, onKeysReady } = props;
  useLayoutEffect(() => {
    keys.current = (input, key) => onKeyRef.current(input, key);
    onKeysReady?.();
    return () => {
      keys.current = null;
    };
  }, [keys, onKeysReady]);

  const names = session.targets.map(labelOf).join(', ');
  // Following a container that is stopped (or an engine that is away) is said, not implied.
  const states = session.states();
  const waiting = session.targets.filter((_, i) => states[i] === 'waiting').map(labelOf);
  const unreachable = states.some((st) => st === 'unreachable');
  // Over a slow link the first lines take a moment: say so rather than show an empty, frozen screen.
  const opening = session.buffer.size === 0 && states.some((st) => st === 'opening');
  const pos = cursor !== null ? found.indexOf(cursor - buffer.firstSeq) : -1;
  const header = logsHeader(inert(names), width, {
    state: follow ? 'following' : `paused${newer ? ` (${newer} newer)` : ''}`,
    trouble: unreachable ? 'engine unreachable, retrying' : waiting.length ? `${waiting.map(inert).join(', ')} not running, waiting` : opening ? 'opening the log…' : null,
    troubleShort: unreachable ? 'no engine' : waiting.length === session.targets.length ? 'stopped' : waiting.length ? `${waiting.length} stopped` : opening ? 'opening…' : null,
    modes: [filterMode ? `filter${context ? ` ±${context}` : ''}` : null, timestamps ? 'timestamps' : null, wrap ? 'wrap' : null].filter((m): m is string => m !== null),
    size: session.buffer.size,
    capacity: session.buffer.capacity,
    received: session.received > session.buffer.size ? session.received : null,
  });
  const matchCount = re ? (pos >= 0 ? `${pos + 1}/${found.length}` : `${found.length} match${found.length === 1 ? '' : 'es'}`) : '';

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box height={1}>
        <Text wrap="truncate-end">
          {header.title ? <Text bold>{header.title}</Text> : null}
          <Text>{header.names}</Text>
          <Text color={theme.color('muted')}>{header.status}</Text>
        </Text>
      </Box>
      <Box flexDirection="column" height={bodyHeight}>
        {view.rows.map((r, i) => (
          <Text key={i} wrap="truncate-end" bold={cursor === buffer.firstSeq + r.entry}>
            <Text color={multi ? theme.color('accent') : theme.color('muted')}>{r.prefix}</Text>
            {r.parts.map((p, j) =>
              p.match ? (
                <Text key={j} inverse bold>
                  {p.text}
                </Text>
              ) : (
                <Text key={j} color={r.stream === 'stderr' ? theme.color('bad') : r.stream === 'meta' ? theme.color('warn') : undefined}>
                  {p.text}
                </Text>
              ),
            )}
          </Text>
        ))}
      </Box>
      <Box height={1}>
        {searching ? (
          <PromptLine prompt="/" value={draft} />
        ) : (
          <Text wrap="truncate-end" color={message?.error || reError || session.errors.length ? theme.color('bad') : theme.color('muted')}>
            {message?.text ??
              reError ??
              session.errors.at(-1) ??
              (query ? fitHints(`search: ${inert(query)}  ${matchCount}  `, ['n/N next/prev', 'F filter', 'esc clear'], width) : fitHints('', LOGS_HINTS, width))}
          </Text>
        )}
      </Box>
    </Box>
  );
}

/** The gutter of a line the container wrote to stderr when colours are off (NO_COLOR). */
export const STDERR_MARK = '!';

const LOGS_HINTS = ['f follow/pause', '/ search', 'F filter', 't timestamps', 'w wrap', 'S save', 'esc back', '? help'];

/** `prefix` and as many hints as fit in `width`, the last hint (help, back) always kept. */
export function fitHints(prefix: string, hints: readonly string[], width: number): string {
  const last = hints[hints.length - 1] as string;
  for (let n = hints.length - 1; n >= 0; n--) {
    const text = `${prefix}${[...hints.slice(0, n), last].join('  ')}`;
    if (text.length <= width) return text;
  }
  return prefix.trimEnd();
}

/** 10000 → 10k: the line count of a narrow header. */
function compact(n: number): string {
  return n >= 10_000 ? `${Math.floor(n / 1000)}k` : String(n);
}

/**
 * The logs view's header, fitted to `width`: what goes first is the optional
 * modes and the received count, then the word "lines", then the count gets
 * compact (10k), then the title word; the state (following, paused, a
 * container that stopped) and the count are never cut, the names are cut
 * last.
 */
export function logsHeader(
  names: string,
  width: number,
  o: { state: string; trouble: string | null; troubleShort?: string | null; modes: string[]; size: number; capacity: number; received: number | null },
): { title: string; names: string; status: string } {
  const build = (level: number) => {
    const count = level >= 2 ? `${compact(o.size)}/${compact(o.capacity)}` : `${o.size}/${o.capacity} lines`;
    const trouble = level >= 4 ? (o.troubleShort ?? o.trouble) : o.trouble;
    const parts = [o.state, trouble, ...(level >= 1 ? [] : o.modes), count, level >= 1 || o.received === null ? null : `${o.received} received`];
    return { title: level >= 3 ? '' : 'logs ', names, status: `  ${parts.filter(Boolean).join(' · ')}` };
  };
  for (let level = 0; level <= 4; level++) {
    const h = build(level);
    if (h.title.length + h.names.length + h.status.length <= width) return h;
  }
  const h = build(4);
  const room = width - h.status.length;
  return { title: '', names: room >= 2 ? `${names.slice(0, room - 1)}…` : '', status: h.status };
}

/** Splits text into pieces of at most `width` characters. */
export function chunk(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out;
}
