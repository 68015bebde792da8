/** The rules port of a peer, over its agent's API (core/api/routes.ts: /v1/rules/…). */
import type { Disposer } from '../model/types.js';
import type { AgentState, Explanation, ExplainOptions, JournalPage, JournalQuery, PauseOptions, ResetOptions, ResetResult, RulesFileText, RulesPort, RulesTarget, TargetResult } from '../rules/port.js';
import type { JournalEntry } from '../rules/types.js';
import type { ApiClient } from './client.js';

/** Most entries fetched to fill the gap a broken journal stream left (the rest are in `outpost journal`). */
const GAP_LIMIT = 1000;

export class RemoteRules implements RulesPort {
  readonly #client: ApiClient;
  readonly #node: string;
  readonly #follows = new Set<Disposer>();

  /** `node`: the fleet's name for the peer; its agent calls its own node by its own name (often `local`). */
  constructor(client: ApiClient, node: string) {
    this.#client = client;
    this.#node = node;
  }

  #own(e: JournalEntry): JournalEntry {
    return { ...e, node: this.#node };
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
    return Object.assign(page.entries.map((e) => this.#own(e)), { unreadable: page.unreadable });
  }

  /**
   * Follows the agent's journal. A broken stream (the peer away, its agent
   * restarted) is opened again after a second, and what was written
   * meanwhile is fetched by sequence number and given first, in order:
   * nothing is lost and nothing given twice.
   */
  followJournal(listener: (entry: JournalEntry) => void): Disposer {
    let stopped = false;
    let close: (() => void) | null = null;
    let timer: NodeJS.Timeout | null = null;
    /** The newest entry given (or, before any, the newest when following began); null until the first stream is open. */
    let lastSeq: number | null = null;
    const give = (e: JournalEntry) => {
      if (stopped || typeof e.seq !== 'number' || (lastSeq !== null && e.seq <= lastSeq)) return;
      lastSeq = e.seq;
      listener(this.#own(e));
    };
    const run = async () => {
      while (!stopped) {
        try {
          const s = await this.#client.stream<JournalEntry>('rulesFollow');
          close = s.close;
          if (stopped) s.close();
          // While the journal is asked what came before (the gap, or where following begins),
          // entries the stream gives wait their turn.
          const it = s.items[Symbol.asyncIterator]();
          // A read left waiting when following stops must not end as an unhandled rejection.
          const next = () => {
            const p = it.next();
            p.catch(() => undefined);
            return p;
          };
          const early: JournalEntry[] = [];
          let pending = next();
          let asking = true;
          const first = lastSeq === null;
          const before = (first ? this.journal({ limit: 1 }) : this.journal({ afterSeq: lastSeq as number, limit: GAP_LIMIT })).finally(() => (asking = false));
          let ended = false;
          while (asking) {
            const r = await Promise.race([pending.then((v) => ({ v })), before.then(() => null)]);
            if (!r) break;
            if (r.v.done) {
              ended = true;
              break;
            }
            early.push(r.v.value);
            pending = next();
          }
          const page = await before;
          const earliest = early[0]?.seq;
          if (first) {
            const newest = page.at(-1)?.seq ?? 0;
            lastSeq = earliest !== undefined ? Math.min(newest, earliest - 1) : newest;
          } else if (page.length === 0 && earliest !== undefined && earliest <= (lastSeq as number)) {
            // A journal that starts again from fewer entries (a new state directory) numbers anew.
            lastSeq = earliest - 1;
          }
          if (!first) for (const e of page) give(e);
          for (const e of early) give(e);
          while (!ended && !stopped) {
            const r = await pending;
            if (r.done) break;
            give(r.value);
            pending = next();
          }
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
