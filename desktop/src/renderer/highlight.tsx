/**
 * Shows `text` with the matches of `query` marked. Text is always rendered as
 * React text nodes, never as HTML: a log line with `<script>` stays text.
 */
export function compileQuery(query: string): RegExp | null {
  if (!query) return null;
  const m = /^\/(.+)\/([i]?)$/.exec(query);
  try {
    return m ? new RegExp(m[1] as string, `g${m[2] ?? ''}`) : new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
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
