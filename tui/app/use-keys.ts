import { useInput, type Key } from 'ink';

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

export type KeyHandler = (input: string, key: Key) => void;

/**
 * useInput, one key at a time. Over a slow link (or from tmux send-keys)
 * several key presses arrive in one read and Ink hands them over as one
 * string ("jjj"); each is a command here, so they are replayed one by one.
 * The handler routes each by a mode held in a ref, so a key that changes
 * the mode sends the keys after it to the new mode at once.
 */
export function useKeys(handler: KeyHandler, options: { isActive: boolean }): void {
  useInput((input, key) => {
    // Esc then a key in one read ("\x1bq") parses as Alt+key. Outpost binds no Alt keys:
    // it is two presses, as a person typing fast over SSH meant.
    if (key.meta && !key.escape && input.length === 1 && !key.ctrl && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow) {
      handler('', { ...NO_KEY, escape: true, meta: true });
      handler(input, { ...NO_KEY, shift: key.shift });
      return;
    }
    const plain = !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab;
    if (plain && input.length > 1) {
      for (const ch of input) handler(ch, ch === '\r' ? { ...NO_KEY, return: true } : NO_KEY);
      return;
    }
    handler(input, key);
  }, options);
}
