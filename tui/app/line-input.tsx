import { Text, useInput } from 'ink';
import { useState } from 'react';
import { inert } from '../presentation/inert.js';

export interface LineInputProps {
  prompt: string;
  initial?: string;
  active: boolean;
  onChange?: (value: string) => void;
  onSubmit: (value: string) => void;
  onCancel: () => void;
}

/** A one-line prompt: type, backspace, ctrl-u clears, enter submits, esc cancels. */
export function LineInput({ prompt, initial = '', active, onChange, onSubmit, onCancel }: LineInputProps) {
  const [value, setValue] = useState(initial);
  const set = (v: string) => {
    setValue(v);
    onChange?.(v);
  };
  useInput(
    (input, key) => {
      if (key.escape) return onCancel();
      if (key.return) return onSubmit(value);
      if (key.backspace || key.delete) return set(value.slice(0, -1));
      if (key.ctrl && input === 'u') return set('');
      if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return;
      // Pasted text may carry control characters: keep only what can be typed.
      const clean = input.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
      if (clean) set((value + clean).slice(0, 500));
    },
    { isActive: active },
  );
  return (
    <Text wrap="truncate-start">
      {prompt}
      {inert(value)}
      <Text inverse> </Text>
    </Text>
  );
}
