/**
 * The rule agent (core/agent/agent.ts) on the private engine, for the agent's
 * integration tests: a RuleAgent over a real LocalNode with its own rules
 * file and state directory, stopped (with everything else a test registers)
 * after the file's tests. The CLI is built first for the tests that spawn it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { parseHostUrl } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import { RuleAgent } from '../../core/agent/agent.js';
import { readJournal, type JournalEntry } from '../../core/agent/journal.js';
import { BIN } from './cli.js';
import { docker, dockerHost, removeByPrefix } from './fixtures.js';

export interface RunningAgent {
  agent: RuleAgent;
  node: LocalNode;
  stateDir: string;
  rulesFile: string;
  /** The journal's entries, or those about one container. */
  entries: (container?: string) => JournalEntry[];
  stop: () => Promise<void>;
}

export interface AgentOptions {
  /** Written as `dir/rules.yaml` unless `keepRules` and the file is there. */
  rulesYaml?: string;
  keepRules?: boolean;
  host?: string;
  reconnectMs?: [number, number];
  journal?: { maxBytes?: number; keep?: number };
  fetch?: typeof fetch;
}

/** Registers the file's hooks; returns what its tests start agents and register clean-ups with. */
export function agentTests(prefix: string): { cleanups: (() => Promise<void> | void)[]; startAgentIn: (dir: string, o?: AgentOptions) => Promise<RunningAgent> } {
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(() => {
    if (!existsSync(BIN)) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await removeByPrefix(docker(), prefix);
  });
  const startAgentIn = async (dir: string, o: AgentOptions = {}): Promise<RunningAgent> => {
    const rulesFile = join(dir, 'rules.yaml');
    const stateDir = join(dir, 'state');
    if (o.rulesYaml !== undefined && !(o.keepRules && existsSync(rulesFile))) writeFileSync(rulesFile, o.rulesYaml);
    const [min, max] = o.reconnectMs ?? [250, 5000];
    const node = new LocalNode({ endpoint: parseHostUrl(o.host ?? dockerHost(), 'DOCKER_HOST'), reconnectMinMs: min, reconnectMaxMs: max });
    await node.connect();
    const agent = new RuleAgent({ node, rulesFile, stateDir, ...(o.journal ? { journal: o.journal } : {}), ...(o.fetch ? { fetch: o.fetch } : {}) });
    await agent.start();
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await agent.stop();
      await node.close();
    };
    cleanups.push(stop);
    return { agent, node, stateDir, rulesFile, entries: (c) => readJournal(stateDir).entries.filter((e) => c === undefined || e.container === c), stop };
  };
  return { cleanups, startAgentIn };
}
