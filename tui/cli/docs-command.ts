/**
 * `outpost docs [TOPIC]`: the reference carried inside the build, so a box
 * that has only the single executable still has it (`--help` used to point
 * at docs/cli.md, which is not on such a box). Loaded only for this command.
 */
import api from '../../docs/api.md';
import cli from '../../docs/cli.md';
import placement from '../../docs/placement.md';
import rules from '../../docs/rules.md';
import { BadInputError } from '../../core/model/errors.js';

/** Each topic and what it covers, in the order `outpost docs` lists them. */
export const DOC_TOPICS = {
  cli: { text: cli, about: 'commands, exit codes, --json fields' },
  rules: { text: rules, about: 'the rules file, conditions, actions, guards, the journal' },
  placement: { text: placement, about: 'workload specs, constraints, scoring, failover, placement.yaml' },
  api: { text: api, about: "the agent's HTTPS API, tokens and roles" },
} as const;

export type DocTopic = keyof typeof DOC_TOPICS;

/** The text `outpost docs [topic]` prints. */
export function docsText(topic: string | undefined): string {
  if (topic === undefined) {
    const rows = Object.entries(DOC_TOPICS).map(([name, t]) => `  ${name.padEnd(10)} ${t.about}`);
    return `Outpost's reference, carried inside this build:\n\n${rows.join('\n')}\n\nRead one with \`outpost docs TOPIC\` (pipe it to \`less\` to page).\n`;
  }
  if (!Object.hasOwn(DOC_TOPICS, topic)) {
    throw new BadInputError(`docs: no topic \`${topic.slice(0, 40)}\`; the topics are ${Object.keys(DOC_TOPICS).join(', ')}.`, { field: 'topic' });
  }
  const text = DOC_TOPICS[topic as DocTopic].text;
  return text.endsWith('\n') ? text : `${text}\n`;
}
