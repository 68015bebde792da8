import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Box, Text, type Key } from 'ink';
import type { MutableRefObject } from 'react';
import type { KeyHandler } from './use-keys.js';
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'react';
import type { LogEntry, LogSession } from '../logs/log-session.js';
import { compileSearch, filterWithContext, highlight, nextMatch } from '../logs/search.js';
import { inert } from '../presentation/inert.js';
import type { Theme } from './theme.js';
import { editLine, PromptLine } from './line-input.js';

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

interface View {
  /** Visual lines drawn for one buffer entry. */
  rows: { entry: number; text: string; parts: ReturnType<typeof highlight>; prefix: string; stream: LogEntry['stream']; source: number }[];
}

/** Full-screen logs: follow or pause, scroll, search, filter with context, timestamps, wrap, save. */
export function LogsScreen(props: LogsScreenProps) {
  const { session, width, height, theme } = props;
  const [, tick] = useReducer((n: number) => n + 1, 0);
  // Paused, the view is anchored to the sequence number of its bottom line: new lines and lines
  // falling off the ring buffer do not move what the person is reading. null = following.
  const [anchor, setAnchorState] = useState<number | null>(null);
  // Mirrored in a ref: keys of one batch ("kkk") each move from where the previous one left it.
  const anchorRef = useRef<number | null>(null);
  const setAnchor = (a: number | null) => {
    anchorRef.current = a;
    setAnchorState(a);
  };
  const follow = anchor === null;
  const [query, setQuery] = useState<string>('');
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
  const [cursor, setCursor] = useState<number | null>(null);

  useEffect(() => session.subscribe(tick), [session]);

  let re: RegExp | null = null;
  let reError: string | null = null;
  try {
    re = compileSearch(query);
  } catch (err) {
    reError = (err as Error).message;
  }

  // Only filter mode walks the whole buffer; otherwise a frame reads just the rows it draws
  // (a flood fills 10,000 lines; copying them 20 times a second would starve the keys).
  const buffer = session.buffer;
  const filtered = filterMode && re ? filterWithContext(buffer.slice().map((e) => e.text), re, context) : null;
  const count = filtered ? filtered.length : buffer.size;
  const indexAt = (k: number): number => (filtered ? (filtered[k] as number) : k);
  const bodyHeight = Math.max(1, height - 2);
  const multi = session.targets.length > 1;

  // The entries on screen: the last `bodyHeight` visual rows ending at the anchor (or the newest).
  const endFor = (a: number | null): number => {
    if (a === null) return count;
    const bottom = Math.max(0, a - buffer.firstSeq);
    if (!filtered) return Math.min(count, bottom + 1);
    let n = 0;
    while (n < filtered.length && (filtered[n] as number) <= bottom) n++;
    return n;
  };
  const end = endFor(anchor);
  /** Anchors the view so that visible position `pos` is its bottom line; past the end, follows. */
  const anchorAt = (pos: number) => {
    if (count === 0 || pos >= count - 1) return setAnchor(null);
    setAnchor(buffer.firstSeq + indexAt(Math.max(0, pos)));
  };
  const newer = anchor === null ? 0 : Math.max(0, buffer.pushed - 1 - anchor);
  const view: View = { rows: [] };
  for (let k = end - 1; k >= 0 && view.rows.length < bodyHeight; k--) {
    const i = indexAt(k);
    const e = buffer.at(i) as LogEntry;
    const prefix = `${multi ? `${session.targets[e.source]?.name ?? '?'} │ ` : ''}${timestamps && e.timestamp ? `${e.timestamp.slice(0, 23)} ` : ''}`;
    const text = inert(e.text);
    const avail = Math.max(10, width - prefix.length);
    const pieces = wrap ? chunk(text, avail) : [text.length > avail ? `${text.slice(0, avail - 1)}…` : text];
    for (let p = pieces.length - 1; p >= 0 && view.rows.length < bodyHeight; p--) {
      const piece = pieces[p] as string;
      view.rows.unshift({ entry: i, text: piece, parts: highlight(piece, re), prefix: p === 0 ? prefix : ' '.repeat(prefix.length), stream: e.stream, source: e.source });
    }
  }

  const jump = (dir: 1 | -1) => {
    if (!re) return;
    // Every matching line is also kept by the filter, so searching all lines finds the same ones.
    const idx = nextMatch(buffer.slice().map((e) => e.text), re, cursor ?? indexAt(Math.max(0, end - 1)), dir);
    if (idx < 0) return setMessage({ text: 'no match', error: true });
    setCursor(idx);
    const pos = filtered ? filtered.indexOf(idx) : idx;
    anchorAt(Math.min(count - 2, pos + Math.floor(bodyHeight / 2)));
  };

  const onKey = (input: string, key: Key) => {
      if (searchingRef.current) {
        const e = editLine(draftRef.current, input, key);
        draftRef.current = e.value;
        setDraft(e.value);
        setQuery(e.done === 'cancel' ? query : e.value);
        if (e.done) {
          searchingRef.current = false;
          setSearching(false);
          setCursor(null);
        }
        return;
      }
      setMessage(null);
      const page = Math.max(1, bodyHeight - 1);
      const bottom = endFor(anchorRef.current) - 1;
      const following = anchorRef.current === null;
      if (key.escape || input === 'q') return props.onBack();
      if (input === '?') return props.onHelp();
      if (input === 'j' || key.downArrow) return following ? undefined : anchorAt(bottom + 1);
      if (input === 'k' || key.upArrow) return setAnchor(count === 0 ? null : buffer.firstSeq + indexAt(Math.max(0, bottom - 1)));
      if (key.pageDown) return following ? undefined : anchorAt(bottom + page);
      if (key.pageUp) return setAnchor(count === 0 ? null : buffer.firstSeq + indexAt(Math.max(0, bottom - page)));
      if (input === 'g') return count === 0 ? undefined : setAnchor(buffer.firstSeq + indexAt(Math.min(count - 1, bodyHeight - 1)));
      if (input === 'G') return setAnchor(null);
      if (input === 'f' || input === ' ') {
        if (!following) return setAnchor(null);
        return count === 0 ? undefined : setAnchor(buffer.firstSeq + indexAt(count - 1));
      }
      if (input === '/') {
        searchingRef.current = true;
        draftRef.current = query;
        setDraft(query);
        return setSearching(true);
      }
      if (input === 'n') return jump(1);
      if (input === 'N') return jump(-1);
      if (input === 'F') return setFilterMode((f) => !f);
      if (input === '+') return setContext((c) => Math.min(20, c + 1));
      if (input === '-') return setContext((c) => Math.max(0, c - 1));
      if (input === 't') return setTimestamps((t) => !t);
      if (input === 'w') return setWrap((w) => !w);
      if (input === 'S') {
        const name = session.targets.map((t) => t.name).join('+').replace(/[^A-Za-z0-9_.+-]/g, '_');
        const file = join(props.saveDir, `outpost-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
        try {
          const body = buffer.slice().map((e) => `${multi ? `${session.targets[e.source]?.name} ` : ''}${e.timestamp} ${e.stream} ${e.text}\n`).join('');
          writeFileSync(file, body, { mode: 0o600 });
          setMessage({ text: `saved ${buffer.size} lines to ${file}`, error: false });
        } catch (err) {
          setMessage({ text: `could not save: ${(err as Error).message}`, error: true });
        }
      }
  };
  const onKeyRef = useRef(onKey);
  onKeyRef.current = onKey;
  useLayoutEffect(() => {
    props.keys.current = (input, key) => onKeyRef.current(input, key);
    props.onKeysReady?.();
    return () => {
      props.keys.current = null;
    };
  }, [props.keys]);

  const names = session.targets.map((t) => t.name).join(', ');
  const status = [
    follow ? 'following' : `paused${newer ? ` (${newer} newer)` : ''}`,
    filterMode ? `filter${context ? ` ±${context}` : ''}` : null,
    timestamps ? 'timestamps' : null,
    wrap ? 'wrap' : null,
    `${session.buffer.size}/${session.buffer.capacity} lines`,
    session.received > session.buffer.size ? `${session.received} received` : null,
  ]
    .filter(Boolean)
    .join(' · ');

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box height={1}>
        <Text wrap="truncate-end">
          <Text bold>logs </Text>
          <Text>{inert(names)}</Text>
          <Text color={theme.color('muted')}>  {status}</Text>
        </Text>
      </Box>
      <Box flexDirection="column" height={bodyHeight}>
        {view.rows.map((r, i) => (
          <Text key={i} wrap="truncate-end" bold={cursor === r.entry}>
            <Text color={multi ? theme.color('accent') : theme.color('muted')}>{r.prefix}</Text>
            {r.parts.map((p, j) =>
              p.match ? (
                <Text key={j} inverse bold>
                  {p.text}
                </Text>
              ) : (
                <Text key={j} color={r.stream === 'stderr' ? theme.color('bad') : undefined}>
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
            {message?.text ?? reError ?? session.errors.at(-1) ?? (query ? `search: ${query}  n/N next/prev  F filter` : 'f follow/pause  / search  F filter  t timestamps  w wrap  S save  esc back')}
          </Text>
        )}
      </Box>
    </Box>
  );
}

/** Splits text into pieces of at most `width` characters. */
export function chunk(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out;
}
