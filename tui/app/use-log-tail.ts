import { useEffect, useState } from 'react';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { LogSession } from '../logs/log-session.js';

/**
 * The detail pane's log tail: the last 50 lines of the selected container,
 * opened a moment after the selection settles (moving through the list
 * does not open a stream per row), while `active` (the logs tab is shown).
 */
export function useLogTail(node: Node | null, selected: ContainerSummary | null, active: boolean): LogSession | null {
  const [tail, setTail] = useState<LogSession | null>(null);
  const [, bump] = useState(0);
  const id = selected?.id ?? null;
  const name = selected?.name ?? null;
  // A container that starts again is followed again.
  const running = selected?.state === 'running';
  useEffect(() => {
    if (!node || id === null || name === null || !active) return;
    let session: LogSession | null = null;
    const t = setTimeout(() => {
      // A preview: its first lines are drawn as they come; after that new lines ride along with
      // the next stats frame (every 2 s), so a chatty container does not keep the screen busy.
      session = new LogSession([{ node, id, name }], { capacity: 200, tail: 50 }, 200);
      const opened = Date.now();
      session.subscribe(() => {
        if (Date.now() - opened < 1000) bump((n) => n + 1);
      });
      setTail(session);
    }, 150);
    return () => {
      clearTimeout(t);
      session?.close();
      setTail(null);
    };
  }, [node, id, name, running, active]);
  return tail;
}
