/** The rules port of a peer, over its agent's API (core/api/routes.ts: /v1/rules/…). */
import type { Disposer } from '../model/types.js';
import type { AgentState, Explanation, ExplainOptions, JournalPage, JournalQuery, PauseOptions, ResetOptions, ResetResult, RulesFileText, RulesPort, RulesTarget, TargetResult } from '../rules/port.js';
import type { JournalEntry } from '../rules/types.js';
import type { ApiClient } from './client.js';

export class RemoteRules implements RulesPort {
  readonly #client: ApiClient;
  readonly #follows = new Set<Disposer>();

  constructor(client: ApiClient) {
    this.#client = client;
  }

  agent(): Promise<AgentState> {
    return this.#client.call('rulesAgent');
  }

  /** `options.stats` is not sent: the agent samples its own. */
  explain(container?: string, _options?: ExplainOptions): Promise<Explanation> {
    return this.#client.call('rulesExplain', { query: { container } });
  }

  problems(): Promise<string[]> {
    return this.#client.call('rulesProblems');
  }

  async journal(query: JournalQuery = {}): Promise<JournalPage> {
    const page = await this.#client.call<{ entries: JournalEntry[]; unreadable: number }>('rulesJournal', { query: { ...query } });
    return Object.assign([...page.entries], { unreadable: page.unreadable });
  }

  /** Follows the agent's journal; a broken stream is opened again after a second (entries written meanwhile are not replayed). */
  followJournal(listener: (entry: JournalEntry) => void): Disposer {
    let stopped = false;
    let close: (() => void) | null = null;
    let timer: NodeJS.Timeout | null = null;
    const run = async () => {
      while (!stopped) {
        try {
          const s = await this.#client.stream<JournalEntry>('rulesFollow');
          close = s.close;
          if (stopped) s.close();
          for await (const e of s.items) if (!stopped) listener(e);
        } catch {
          // the peer is away: try again below
        }
        if (stopped) return;
        await new Promise<void>((r) => (timer = setTimeout(r, 1000)));
      }
    };
    void run();
    const dispose = () => {
      stopped = true;
      close?.();
      if (timer) clearTimeout(timer);
      this.#follows.delete(dispose);
    };
    this.#follows.add(dispose);
    return dispose;
  }

  async pause(target: RulesTarget, options: PauseOptions = {}): Promise<TargetResult | void> {
    return (await this.#client.call<TargetResult | null>('rulesPause', { body: { ...target, ...(options.until ? { until: options.until } : {}) } })) ?? undefined;
  }

  async resume(target: RulesTarget): Promise<TargetResult | void> {
    return (await this.#client.call<TargetResult | null>('rulesResume', { body: { ...target } })) ?? undefined;
  }

  reset(container: string, rule?: string, options: ResetOptions = {}): Promise<ResetResult> {
    return this.#client.call('rulesReset', { body: { container, ...(rule ? { rule } : {}), ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}) } });
  }

  paused(target: RulesTarget): Promise<boolean> {
    return this.#client.call('rulesPaused', { query: { ...target } });
  }

  rulesFile(): Promise<RulesFileText> {
    return this.#client.call('rulesFile');
  }

  /** Ends every journal follow (the node closes). */
  close(): void {
    for (const d of [...this.#follows]) d();
  }
}
