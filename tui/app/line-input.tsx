import { Text } from 'ink';
import { inert } from '../presentation/inert.js';

export { editLine, type LineEdit } from './line-edit.js';

/** Draws a prompt and its text with a block cursor. Input reaches it through the app's key router. */
export function PromptLine({ prompt, value }: { prompt: string; value: string }) {
  return (
    <Text wrap="truncate-start">
      {prompt}
      {inert(value)}
      <Text inverse> </Text>
    </Text>
  );
}
