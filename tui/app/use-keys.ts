import type { EventEmitter } from 'node:events';
import { useInput, useStdin, type Key } from 'ink';
import { useEffect, useRef } from 'react';
import { NO_KEY } from './keymap.js';


const ESCAPE: Key = { ...NO_KEY, escape: true };

export type KeyHandler = (input: string, key: Key) => void;

/**
 * useInput, one key at a time, as a person typed them.
 *
 * - Over a slow link (or from tmux send-keys) several presses arrive in one
 *   read and Ink hands them over as one string ("jjj"); each is a command
 *   here, so they are replayed one by one.
 * - Esc then a key in one read ("\x1b/") reaches useInput as "/" (or as
 *   Alt+key): the Esc would be lost. Ink's raw input events still show it,
 *   so a listener placed before Ink's own reports the Esc first. Outpost
 *   binds no Alt keys.
 *
 * The handler routes each key by a mode held in a ref, so a key that
 * changes the mode sends the keys after it to the new mode at once.
 */
export function useKeys(handler: KeyHandler, options: { isActive: boolean }): void {
  const ref = useRef(handler);
  ref.current = handler;
  const { internal_eventEmitter: events } = useStdin() as unknown as { internal_eventEmitter?: EventEmitter };

  useEffect(() => {
    if (!options.isActive || !events) return;
    const onRaw = (raw: string) => {
      if (raw.length >= 2 && raw[0] === '\x1b' && !'[O\x1b'.includes(raw[1] as string)) ref.current('', ESCAPE);
    };
    events.prependListener('input', onRaw);
    return () => {
      events.removeListener('input', onRaw);
    };
  }, [options.isActive, events]);

  useInput((input, key) => {
    const escaped = key.meta && !key.escape && !key.ctrl && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow;
    const plain = escaped || (!key.ctrl && !key.meta && !key.escape && !key.return && !key.tab);
    if (plain && (input.length > 1 || escaped)) {
      for (const ch of input) ref.current(ch, ch === '\r' ? { ...NO_KEY, return: true } : ch === '\t' ? { ...NO_KEY, tab: true } : NO_KEY);
      return;
    }
    ref.current(input, key);
  }, options);
}
