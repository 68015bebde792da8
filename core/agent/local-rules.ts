/**
 * The rules port for this machine, on the agent's files: the rules file, the
 * journal and guard state (replayed through the same RuleEngine the agent
 * runs, so both agree), the maintenance file, reset requests and the agent's
 * record. The one place that rebuilds the agent's view from its files; the
 * CLI, the TUI and the tray use it through the port.
 *
 * It never writes what the agent owns (journal, guards.json); it writes only
 * what the agent reads from the faces (maintenance.json, reset requests).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BadInputError } from '../model/errors.js';
import type { ContainerStats, ContainerSummary, Disposer } from '../model/types.js';
import type { Node } from '../node.js';
import { RuleEngine } from '../rules/engine.js';
import { formatIssue } from '../rules/parse.js';
import type {
  AgentState,
  Explanation,
  ExplainOptions,
  JournalPage,
  JournalQuery,
  PauseOptions,
  ResetOptions,
  ResetResult,
  RulesFileText,
  RulesPort,
  RulesTarget,
  TargetResult,
} from '../rules/port.js';
import { loadRulesFile } from './agent.js';
import { followJournal, JOURNAL_FILE, readJournal, type JournalEntry } from './journal.js';
import { restoreEngine } from './restore.js';
import { agentStatus, GUARD_FILE, MAINTENANCE_FILE, readMaintenance, requestReset, setMaintenance } from './store.js';
import { readRegularFile } from '../model/read-file.js';
import { isValidTime } from '../model/duration.js';
import { clip } from '../model/clip.js';

export interface LocalRulesPaths {
  /** The rules file when no agent runs (or when `explicitRules`): the default one, or the one asked for. */
  rulesFile: string;
  stateDir: string;
  /** The rules file was asked for (`--rules`): use it even when a running agent enforces another. */
  explicitRules?: boolean;
}

/** What of the node the rules read: its live model, a list from the engine, a stats sample. */
export type RulesNode = Pick<Node, 'name' | 'containers' | 'list' | 'statsOnce'>;

export interface LocalRulesOptions {
  now?: () => number;
  /** How long a stats sample taken for `explain` is reused (default 5 s). */
  statsMaxAgeMs?: number;
  /** How long the agent's status is reused (default 5 s; a journal entry of kind `agent` ends it sooner). */
  agentMaxAgeMs?: number;
}

const NAME = /^[\w][\w.-]{0,253}$/;
const RESET_POLL_MS = 100;

function stamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

export class LocalRules implements RulesPort {
  readonly paths: LocalRulesPaths;
  #node: RulesNode;
  #now: () => number;
  #statsMaxAgeMs: number;
  #agentMaxAgeMs: number;
  /** The engine rebuilt from the files, reused while the files are unchanged (their stamps). */
  #cache: { stamp: string; engine: RuleEngine; problems: string[]; labelProblems: Map<string, string | undefined> } | null = null;
  #stats: { at: number; stats: ContainerStats[] } | null = null;
  #agent: { at: number; state: AgentState } | null = null;

  constructor(node: RulesNode, paths: LocalRulesPaths, options: LocalRulesOptions = {}) {
    this.#node = node;
    this.paths = { ...paths };
    this.#now = options.now ?? Date.now;
    this.#statsMaxAgeMs = options.statsMaxAgeMs ?? 5000;
    this.#agentMaxAgeMs = options.agentMaxAgeMs ?? 5000;
  }

  // ---- synchronous core (the TUI's adapter calls these on every frame) ----------

  /** Whether an agent enforces the rules (re-checked at most every few seconds). */
  agentNow(now = this.#now()): AgentState {
    if (!this.#agent || now - this.#agent.at > this.#agentMaxAgeMs || now < this.#agent.at) {
      const st = agentStatus(this.paths.stateDir);
      this.#agent = { at: now, state: { running: st.running, record: st.record, reason: st.reason, pid: st.pid, problems: st.problems } };
    }
    return this.#agent.state;
  }

  /**
   * The rules file in force: a running agent's own (`outpost agent --rules FILE` records it),
   * else the configured one. Explain and the rules tab must show what the agent enforces.
   */
  rulesPath(): string {
    if (this.paths.explicitRules) return this.paths.rulesFile;
    const st = this.agentNow();
    return st.running && st.record?.rulesFile ? st.record.rulesFile : this.paths.rulesFile;
  }

  /** Forgets the cached agent status (a journal entry says an agent started or stopped). */
  agentChanged(): void {
    this.#agent = null;
  }

  /**
   * The rule engine as the agent has it, for these containers and stats:
   * rules, guards.json then the journal after it, maintenance. Rebuilt only
   * when one of the files changed.
   */
  engineNow(containers: ContainerSummary[], stats: readonly ContainerStats[] | null, now = this.#now(), container?: string): { engine: RuleEngine; problems: string[] } {
    const key = [stamp(this.rulesPath()), stamp(join(this.paths.stateDir, GUARD_FILE)), stamp(join(this.paths.stateDir, JOURNAL_FILE))].join('|');
    if (!this.#cache || this.#cache.stamp !== key) {
      const engine = new RuleEngine();
      const loaded = loadRulesFile(this.rulesPath());
      engine.setRules(loaded.ruleSet);
      // As the agent does: the guard state file, then the journal's entries after it.
      const saved = restoreEngine(engine, this.paths.stateDir, now);
      const problems = loaded.issues.map(formatIssue);
      if (saved.problem) problems.push(saved.problem);
      if (saved.future) problems.push(saved.future);
      if (saved.unreadable > 0) problems.push(`${this.paths.stateDir}: ${saved.unreadable} unreadable journal line(s) skipped`);
      this.#cache = { stamp: key, engine, problems, labelProblems: new Map() };
    }
    const { engine, problems, labelProblems } = this.#cache;
    const maintenance = readMaintenance(this.paths.stateDir);
    engine.setMaintenance(maintenance.maintenance);
    engine.onModel({ kind: 'reset', containers }, now);
    if (stats && stats.length > 0) engine.onStats([...stats], now);
    // Label-rule problems are told once by the engine; kept here so every reader sees them.
    for (const i of engine.drainIssues()) labelProblems.set(formatIssue(i), i.container);
    // A container's label problems belong to that container: not shown for its neighbours.
    const labels = [...labelProblems].filter(([, about]) => container === undefined || about === undefined || about === container).map(([text]) => text);
    return { engine, problems: [...problems, ...labels, ...(maintenance.problem ? [maintenance.problem] : [])] };
  }

  /** Each rule's state for a container (all of them when absent), from containers and stats the caller has. */
  explainNow(containers: ContainerSummary[], stats: readonly ContainerStats[] | null, container?: string, now = this.#now()): Explanation {
    const own = container === undefined || !stats ? stats : stats.filter((s) => s.name === container);
    const { engine, problems } = this.engineNow(containers, own, now, container);
    return { statuses: engine.explain(now, container), problems, rules: engine.rules().map((r) => r.name) };
  }

  /** Every readable journal entry, oldest first (the newest `limit` with one), and the count of lines that did not parse. */
  journalNow(limit?: number): { entries: JournalEntry[]; unreadable: number } {
    return readJournal(this.paths.stateDir, limit !== undefined ? { limit } : {});
  }

  /** Whether rules are paused now for a container (or the node when absent). */
  pausedNow(target: RulesTarget, now = this.#now()): boolean {
    const m = readMaintenance(this.paths.stateDir).maintenance;
    const p = target.container === undefined ? m.node : m.containers?.[target.container];
    return !!p && (p.until === null || p.until > now);
  }

  // ---- the port ---------------------------------------------------------------

  async agent(): Promise<AgentState> {
    return this.agentNow();
  }

  async explain(container?: string, options: ExplainOptions = {}): Promise<Explanation> {
    const now = options.now ?? this.#now();
    // The live model when the node follows one; a list from the engine otherwise (the CLI's node).
    let containers = this.#node.containers();
    if (containers.length === 0) containers = await this.#node.list({ all: true });
    let stats: readonly ContainerStats[] | null = options.stats ?? null;
    if (!stats) {
      // A sample only when a rule needs one and something runs; reused for a few seconds.
      const { engine } = this.engineNow(containers, null, now);
      if (engine.needs().stats && containers.some((c) => c.state === 'running' && (container === undefined || c.name === container))) stats = await this.#sample(now);
    }
    const explanation = this.explainNow(containers, stats, container, now);
    if (container !== undefined && explanation.statuses.length === 0) {
      const is = (c: { name: string; id: string }) => c.name === container || c.id.startsWith(container);
      if (!containers.some(is) && !(await this.#node.list({ all: true })).some(is)) {
        throw new BadInputError(`no container is named \`${clip(container, 80)}\` on this node.`, { field: 'container', container: clip(container, 80) });
      }
    }
    return explanation;
  }

  async problems(): Promise<string[]> {
    return (await this.explain(undefined, { stats: [] })).problems;
  }

  async journal(query: JournalQuery = {}): Promise<JournalPage> {
    if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 0)) throw new BadInputError(`a journal limit must be a whole number, not ${String(query.limit)}.`, { field: 'limit' });
    const filtered = query.container !== undefined || query.rule !== undefined || query.afterSeq !== undefined;
    const { entries, unreadable } = readJournal(this.paths.stateDir, filtered ? {} : query.limit ? { limit: query.limit } : {});
    let shown = entries;
    if (filtered) {
      shown = entries.filter(
        (e) =>
          (query.container === undefined || e.container === query.container) &&
          (query.rule === undefined || e.rule === query.rule) &&
          (query.afterSeq === undefined || (typeof e.seq === 'number' && e.seq > query.afterSeq)),
      );
      if (query.limit) shown = shown.slice(-query.limit);
    }
    // A typo must not look like a quiet container: a name neither the journal nor the node knows is refused.
    if (query.container !== undefined && shown.length === 0 && !entries.some((e) => e.container === query.container)) {
      // Without the engine the name cannot be checked: its error, as every other command says it (not an empty answer).
      if ((await this.#onNode(query.container, { strict: true })) === false) {
        throw new BadInputError(`no container is named \`${clip(query.container, 80)}\` on this node, and the journal has no entry about one.`, { field: 'container' });
      }
    }
    return Object.assign(shown === entries ? [...shown] : shown, { unreadable });
  }

  followJournal(listener: (entry: JournalEntry) => void): Disposer {
    return followJournal(this.paths.stateDir, (e) => {
      if (e.kind === 'agent') this.agentChanged();
      listener(e);
    });
  }

  async pause(target: RulesTarget, options: PauseOptions = {}): Promise<TargetResult> {
    const until = options.until ?? null;
    if (until !== null && (!isValidTime(until) || until <= this.#now())) {
      throw new BadInputError(`a pause until ${String(until)} is ${isValidTime(until) ? 'over already' : 'out of range'}; give a time to come, or none to pause until resumed.`, { field: 'until' });
    }
    const gone = target.container === undefined ? false : (await this.#known(target.container)).gone;
    this.#guardMaintenance();
    setMaintenance(this.paths.stateDir, target, { pauseUntil: until });
    return { gone };
  }

  async resume(target: RulesTarget): Promise<TargetResult> {
    let gone = false;
    if (target.container !== undefined) {
      // Resuming a name that is paused is always allowed (the pause may be for a container since removed).
      const paused = readMaintenance(this.paths.stateDir).maintenance.containers?.[target.container] !== undefined;
      if (paused) gone = !(await this.#onNode(target.container));
      else gone = (await this.#known(target.container)).gone;
    }
    this.#guardMaintenance();
    setMaintenance(this.paths.stateDir, target, 'resume');
    return { gone };
  }

  async reset(container: string, rule?: string, options: ResetOptions = {}): Promise<ResetResult> {
    const { gone } = await this.#known(container);
    if (rule !== undefined) {
      if (!/^[\w.:-]{1,80}$/.test(rule)) throw new BadInputError(`\`${clip(rule, 80)}\` is not a rule name.`, { field: 'rule' });
      const { engine } = this.engineNow(await this.#listOrModel(), null);
      const journaled = readJournal(this.paths.stateDir).entries.some((e) => e.rule === rule && e.container === container);
      if (!engine.hasRule(rule) && !journaled) {
        const names = engine.rules().map((r) => r.name).slice(0, 10);
        throw new BadInputError(
          `no rule is named \`${rule}\` (in ${this.rulesPath()} or in container labels), and the journal has no history of it for ${container}${
            names.length ? `; rules: ${names.join(', ')}` : ''
          }.`,
          { field: 'rule' },
        );
      }
    }
    const before = readJournal(this.paths.stateDir, { limit: 1 }).entries.at(-1)?.seq ?? 0;
    requestReset(this.paths.stateDir, { container, ...(rule !== undefined ? { rule } : {}), at: this.#now() });
    const agent = agentStatus(this.paths.stateDir);
    if (!agent.running) return { known: true, applied: false, gone, state: 'queued', entries: [], agentPid: null };
    const deadline = Date.now() + (options.waitMs ?? 5000);
    for (;;) {
      const done = readJournal(this.paths.stateDir).entries.filter((e) => e.seq > before && e.kind === 'reset' && e.container === container);
      if (done.length > 0) return { known: true, applied: true, gone, state: 'applied', entries: done, agentPid: agent.record?.pid ?? null };
      if (Date.now() >= deadline) return { known: true, applied: true, gone, state: 'waiting', entries: [], agentPid: agent.record?.pid ?? null };
      await new Promise((r) => setTimeout(r, RESET_POLL_MS));
    }
  }

  async paused(target: RulesTarget): Promise<boolean> {
    if (target.container !== undefined) this.#checkName(target.container);
    return this.pausedNow(target);
  }

  async rulesFile(): Promise<RulesFileText> {
    const loaded = loadRulesFile(this.rulesPath());
    const file = readRegularFile(this.rulesPath(), 1024 * 1024);
    return {
      path: this.rulesPath(),
      text: file.ok ? file.text : null,
      missing: loaded.missing,
      rules: loaded.ruleSet.rules.map((r) => r.name),
      problems: loaded.issues.map(formatIssue),
    };
  }

  // ---- helpers ------------------------------------------------------------------

  #checkName(container: string): void {
    if (!NAME.test(container)) throw new BadInputError(`\`${clip(container, 80)}\` is not a container name.`, { field: 'container' });
  }

  /**
   * A maintenance file that cannot be read as a whole is not overwritten:
   * the pauses in it would be lost without a word. Out-of-range entries are
   * dropped (they are reported by every reader and were ignored already).
   */
  #guardMaintenance(): void {
    const r = readMaintenance(this.paths.stateDir);
    if (r.problem && r.maintenance.node === undefined) {
      throw new BadInputError(`${r.problem.replace(/; ignoring it$/, '')}: fix or remove ${join(this.paths.stateDir, MAINTENANCE_FILE)} first (nothing was changed).`, {
        field: 'maintenance',
      });
    }
  }

  /** Containers for a check that must not fail because the engine is down: the list, else the live model. */
  async #listOrModel(): Promise<ContainerSummary[]> {
    try {
      return await this.#node.list({ all: true });
    } catch {
      return this.#node.containers();
    }
  }

  async #sample(now: number): Promise<ContainerStats[]> {
    if (this.#stats && now - this.#stats.at <= this.#statsMaxAgeMs && now >= this.#stats.at) return this.#stats.stats;
    try {
      const stats = await this.#node.statsOnce();
      this.#stats = { at: now, stats };
      return stats;
    } catch {
      return [];
    }
  }

  /** Whether the node has a container of this exact name (null: the engine could not say; `strict`: its error is thrown instead). */
  async #onNode(name: string, options: { strict?: boolean } = {}): Promise<boolean | null> {
    if (this.#node.containers().some((c) => c.name === name)) return true;
    try {
      return (await this.#node.list({ all: true })).some((c) => c.name === name);
    } catch (err) {
      if (options.strict) throw err;
      return null;
    }
  }

  /**
   * Whether `name` is a container the rules can be about: one the engine has
   * (by exact name), or one that is gone but has history in the journal
   * (then `gone`). Anything else is refused: a typo must not leave the real
   * container unpaused, or un-reset.
   */
  async #known(name: string): Promise<{ gone: boolean }> {
    const history = () => readJournal(this.paths.stateDir).entries.some((e) => e.container === name);
    let all: { name: string; id: string }[];
    try {
      all = await this.#node.list({ all: true });
    } catch (err) {
      // Without the engine, a name the journal knows is still a name; any other is not checked: say why.
      if (history()) return { gone: false };
      throw err;
    }
    if (all.some((c) => c.name === name)) return { gone: false };
    if (history()) return { gone: true };
    const near = all.filter((c) => c.id.startsWith(name) || c.name.includes(name)).map((c) => c.name).slice(0, 5);
    const isRule = loadRulesFile(this.rulesPath()).ruleSet.rules.some((r) => r.name === name);
    throw new BadInputError(
      `no container is named \`${clip(name, 80)}\` on this node, and the journal has no history of one${near.length ? ` (did you mean ${near.map((n) => `\`${n}\``).join(', ')}?)` : ''}.${
        isRule ? ` \`${name}\` is a rule: this takes a container's name (pause and resume without one apply to the whole node).` : ''
      }`,
      { field: 'container', container: clip(name, 80) },
    );
  }
}
