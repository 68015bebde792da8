/**
 * A RulesPort over the agent's files on this machine, for the composition
 * root until core/agent/local-rules.ts (LocalRules) replaces it: it wraps
 * the TUI's RulesSource, which reads the rules file, the journal and the
 * maintenance file, and writes only pause and reset requests.
 *
 * Nothing heavy is imported here: RulesSource (the rule engine, the YAML
 * parser) is loaded on the first call, which the TUI makes after its first
 * frame.
 */
import type { ContainerStats, Disposer } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import type { AgentState, Explanation, JournalQuery, PauseOptions, ResetResult, RulesFileText, RulesPort, RulesTarget } from '../../core/rules/port.js';
import type { JournalEntry } from '../../core/rules/types.js';
import type { RulesSource } from './rules-source.js';

/** The rules factory of a node built by the composition root (`rules:` of LocalNode). */
export function filesRules(env: NodeJS.ProcessEnv): (node: Node) => RulesPort {
  return (node) => new FilesRules(node, env);
}

/** How long the stats of the node are sampled after the last explain (the rules tab shown). */
const STATS_IDLE_MS = 5000;

class FilesRules implements RulesPort {
  readonly #node: Node;
  readonly #env: NodeJS.ProcessEnv;
  #source: Promise<RulesSource> | null = null;
  #stats = new Map<string, ContainerStats>();
  #stopStats: Disposer | null = null;
  #explainedAt = 0;

  constructor(node: Node, env: NodeJS.ProcessEnv) {
    this.#node = node;
    this.#env = env;
  }

  #src(): Promise<RulesSource> {
    this.#source ??= import('./rules-source.js').then((m) => new m.RulesSource(this.#env));
    return this.#source;
  }

  /** CPU and memory rules need the container's figures: sampled while someone asks for explanations. */
  #sampleStats(): void {
    this.#explainedAt = Date.now();
    if (this.#stopStats) return;
    this.#stopStats = this.#node.watchStats((list) => {
      this.#stats = new Map(list.map((s) => [s.id, s]));
      if (Date.now() - this.#explainedAt > STATS_IDLE_MS) {
        this.#stopStats?.();
        this.#stopStats = null;
      }
    });
  }

  async agent(): Promise<AgentState> {
    return (await this.#src()).agent();
  }

  async explain(container: string): Promise<Explanation> {
    const src = await this.#src();
    this.#sampleStats();
    return src.explain(this.#node.containers(), this.#stats, container);
  }

  async problems(): Promise<string[]> {
    return (await this.#src()).explain(this.#node.containers(), new Map(), '').problems;
  }

  async journal(query: JournalQuery = {}): Promise<JournalEntry[]> {
    const all = (await this.#src()).journal();
    const list = all.filter(
      (e) => (query.container === undefined || e.container === query.container) && (query.rule === undefined || e.rule === query.rule) && (query.afterSeq === undefined || e.seq > query.afterSeq),
    );
    return query.limit !== undefined ? list.slice(-query.limit) : list;
  }

  followJournal(listener: (entry: JournalEntry) => void): Disposer {
    let stop: Disposer | null = null;
    let closed = false;
    void this.#src().then((src) => {
      if (closed) return;
      let last = Infinity;
      stop = src.subscribe(() => {
        for (const e of src.journal()) {
          if (e.seq <= last) continue;
          last = e.seq;
          listener(e);
        }
      });
      // What is there when following starts is history (journal() gives it), not news.
      last = src.journal().at(-1)?.seq ?? 0;
    });
    return () => {
      closed = true;
      stop?.();
    };
  }

  async pause(target: RulesTarget, options: PauseOptions = {}): Promise<void> {
    (await this.#src()).pause(target, options.until ?? null);
  }

  async resume(target: RulesTarget): Promise<void> {
    (await this.#src()).resume(target);
  }

  async reset(container: string, rule?: string): Promise<ResetResult> {
    const src = await this.#src();
    src.reset(container, rule);
    const known = this.#node.containers().some((c) => c.name === container) || src.journal().some((e) => e.container === container);
    return { known, applied: src.agent().running };
  }

  async paused(target: RulesTarget): Promise<boolean> {
    return (await this.#src()).paused(target);
  }

  async rulesFile(): Promise<RulesFileText> {
    const src = await this.#src();
    // As a regular file with a size cap (a FIFO there must not hold the UI).
    const { readRegularFile } = await import('../../core/model/read-file.js');
    const file = readRegularFile(src.rulesFile, 1024 * 1024);
    return { path: src.rulesFile, text: file.ok ? file.text : null };
  }
}
