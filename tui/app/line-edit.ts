import type { Key } from 'ink';

export type LineEdit = { value: string; done?: 'submit' | 'cancel' };

/**
 * One key applied to a one-line prompt: type, backspace, ctrl-u clears,
 * enter submits, esc cancels. Pasted control characters are dropped.
 * Pure (the reducer in state.ts uses it; Key is a type only).
 */
export function editLine(value: string, input: string, key: Key): LineEdit {
  if (key.escape) return { value, done: 'cancel' };
  if (key.return) return { value, done: 'submit' };
  if (key.backspace || key.delete) return { value: value.slice(0, -1) };
  if (key.ctrl && input === 'u') return { value: '' };
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return { value };
  const clean = input.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
  return { value: (value + clean).slice(0, 500) };
}
