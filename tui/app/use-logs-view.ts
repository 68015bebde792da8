import type { Key } from 'ink';
import { useCallback, useEffect, useRef, useState, type MutableRefObject } from 'react';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { LogSession } from '../logs/log-session.js';
import type { KeyHandler } from './use-keys.js';

export interface LogsView {
  session: LogSession | null;
  /** Opens the logs of `targets`, each read from its own node (`nodeOf`): one merged stream. */
  open(nodeOf: (c: ContainerSummary) => Node | null, targets: ContainerSummary[], capacity: number): void;
  close(): void;
  /** A key for the logs screen; kept until it listens when it is not mounted yet. */
  send(input: string, key: Key): void;
  /** Where the logs screen puts its key handler. */
  keys: MutableRefObject<KeyHandler | null>;
  /** The logs screen listens: keys typed between Enter and its first render go to it now, in order. */
  ready(): void;
}

/** The full-screen logs view's session (the last 1000 lines, then followed) and the way its keys reach it. */
export function useLogsView(): LogsView {
  const [session, setSession] = useState<LogSession | null>(null);
  const keys = useRef<KeyHandler | null>(null);
  const queue = useRef<[string, Key][]>([]);
  useEffect(() => () => session?.close(), [session]);
  const open = useCallback((nodeOf: (c: ContainerSummary) => Node | null, targets: ContainerSummary[], capacity: number) => {
    queue.current = [];
    const from = targets.flatMap((c) => {
      const node = nodeOf(c);
      return node ? [{ node, id: c.id, name: c.name }] : [];
    });
    if (from.length > 0) setSession(new LogSession(from, { capacity, tail: 1000 }));
  }, []);
  const close = useCallback(() => setSession(null), []);
  const send = useCallback((input: string, key: Key) => {
    if (keys.current) keys.current(input, key);
    else queue.current.push([input, key]);
  }, []);
  const ready = useCallback(() => {
    for (const [input, key] of queue.current.splice(0)) keys.current?.(input, key);
  }, []);
  return { session, open, close, send, keys, ready };
}
