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

/**
 * What a handler says about the rest of a batch: `'stop'` when the key
 * changed the mode, so the keys after it are not commands of the old mode
 * (typing `/sic` fast must filter for "sic", not stop a container).
 */
export type KeyResult = void | 'stop';

/**
 * useInput, one key at a time. Over a slow link (or from tmux send-keys)
 * several key presses arrive in one read and Ink hands them over as one
 * string ("jjj"); each is a command here, so they are replayed one by one.
 * `rest` is what follows the key in its batch.
 */
export function useKeys(handler: (input: string, key: Key, rest: string) => KeyResult, options: { isActive: boolean }): void {
  useInput((input, key) => {
    const plain = !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab;
    if (plain && input.length > 1) {
      const chars = [...input];
      for (const [i, ch] of chars.entries()) {
        const result = handler(ch, ch === '\r' ? { ...NO_KEY, return: true } : NO_KEY, chars.slice(i + 1).join(''));
        if (result === 'stop') return;
      }
      return;
    }
    handler(input, key, '');
  }, options);
}
