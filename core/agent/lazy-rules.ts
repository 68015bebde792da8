/**
 * A RulesPort whose implementation is loaded on its first use. The rule
 * engine, the YAML parser and the journal code are not on the startup path
 * of the TUI (its first frame) nor of a CLI command that does not ask for
 * rules (`ps`): the composition root hands a node this port, and the code
 * behind it is imported when something first asks.
 */
import type { Disposer } from '../model/types.js';
import type { Node } from '../node.js';
import type { RulesPort } from '../rules/port.js';
import type { LocalRulesPaths } from './local-rules.js';

export function lazyRules(load: () => Promise<RulesPort>): RulesPort {
  let loading: Promise<RulesPort> | null = null;
  const port = () => (loading ??= load());
  return {
    agent: async () => (await port()).agent(),
    explain: async (container, options) => (await port()).explain(container, options),
    problems: async () => (await port()).problems(),
    journal: async (query) => (await port()).journal(query),
    followJournal(listener): Disposer {
      let stop: Disposer | null = null;
      let closed = false;
      port().then(
        (p) => {
          if (!closed) stop = p.followJournal(listener);
        },
        () => undefined,
      );
      return () => {
        closed = true;
        stop?.();
      };
    },
    pause: async (target, options) => (await port()).pause(target, options),
    resume: async (target) => (await port()).resume(target),
    reset: async (container, rule, options) => (await port()).reset(container, rule, options),
    paused: async (target) => (await port()).paused(target),
    rulesFile: async () => (await port()).rulesFile(),
  };
}

/** This machine's rules (the agent's files, as LocalRules reads them) at the env's default paths, or at `paths`. */
export function localRules(env: NodeJS.ProcessEnv, paths?: LocalRulesPaths): (node: Node) => RulesPort {
  return (node) =>
    lazyRules(async () => {
      const [{ LocalRules }, { defaultRulesFile, stateDir }] = await Promise.all([import('./local-rules.js'), import('./store.js')]);
      return new LocalRules(node, paths ?? { rulesFile: defaultRulesFile(env), stateDir: stateDir(env) });
    });
}
