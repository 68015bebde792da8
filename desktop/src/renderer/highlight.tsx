/**
 * Shows `text` with the matches of `query` marked. Text is always rendered as
 * React text nodes, never as HTML: a log line with `<script>` stays text.
 */
import { compileSearch } from '../../../core/model/search-pattern.js';

/** The TUI's search syntax and engine: text, or `/regex/` run in linear time (RE2). null when empty or invalid. */
export function compileQuery(query: string): RegExp | null {
  try {
    return compileSearch(query);
  } catch {
    return null;
  }
}

export function Highlight({ text, re }: { text: string; re: RegExp | null }) {
  if (!re) return <>{text}</>;
  const parts: (string | { m: string })[] = [];
  let at = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    if (m.index > at) parts.push(text.slice(at, m.index));
    parts.push({ m: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return (
    <>
      {parts.map((p, i) => (typeof p === 'string' ? <span key={i}>{p}</span> : <mark key={i}>{p.m}</mark>))}
    </>
  );
}
