/** The rules port of a peer, over its agent's API (core/api/routes.ts: /v1/rules/…). */
import type { Disposer } from '../model/types.js';
import type { AgentState, Explanation, ExplainOptions, JournalPage, JournalQuery, PauseOptions, ResetOptions, ResetResult, RulesFileText, RulesPort, RulesTarget, TargetResult } from '../rules/port.js';
import type { JournalEntry } from '../rules/types.js';
import type { ApiClient } from './client.js';
import type { StreamLink } from './remote-node.js';

/** Most entries fetched to fill the gap a broken journal stream left (the rest are in `outpost journal`). */
const GAP_LIMIT = 1000;

/** How long the rule agent's state is taken as told: it changes rarely, and a change journals an `agent` entry, which asks again. */
const AGENT_STATE_MS = 60_000;

export class RemoteRules implements RulesPort {
  /** An explanation through the link every 5 s (and on every change the face sees): ~60 B/s, not ~300, on a 64 kbit/s link. */
  readonly refreshMs = 5_000;
  readonly #client: ApiClient;
  readonly #node: string;
  readonly #follows = new Set<Disposer>();
  readonly #link: () => StreamLink;
  #agent: { at: number; state: Promise<AgentState> } | null = null;

  /**
   * `node`: the fleet's name for the peer; its agent calls its own node by its own name.
   * `link`: how its node opens a stream watched by the session's beat (RemoteNode).
   */
  constructor(client: ApiClient, node: string, link: () => StreamLink = () => ({ options: {}, tie: () => () => undefined })) {
    this.#client = client;
    this.#node = node;
    this.#link = link;
  }

  /** The rule agent's state is asked again next time (its node's link was lost, or its journal said it changed). */
  forgetAgent(): void {
    this.#agent = null;
  }

  #own(e: JournalEntry): JournalEntry {
    return { ...e, node: this.#node };
  }

  /**
   * The TUI asks every 10 s; over a 64 kbit/s link each ask was a request (and often a TLS
   * handshake): the answer is kept for a minute, and forgotten when the journal says the agent
   * changed or the link was lost.
   */
  agent(): Promise<AgentState> {
    const now = Date.now();
    if (this.#agent && now - this.#agent.at < AGENT_STATE_MS && now >= this.#agent.at) return this.#agent.state;
    const state = this.#client.call<AgentState>('rulesAgent');
    const entry = { at: now, state };
    this.#agent = entry;
    state.catch(() => {
      if (this.#agent === entry) this.#agent = null;
    });
    return state;
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
      if (e.kind === 'agent') this.forgetAgent();
      listener(this.#own(e));
    };
    const run = async () => {
      while (!stopped) {
        let untie: () => void = () => undefined;
        try {
          // Watched by the session's beat while it is live (closed with it when the link is lost).
          const link = this.#link();
          const s = await this.#client.stream<JournalEntry>('rulesFollow', {}, link.options);
          untie = link.tie(() => s.close());
          close = () => {
            untie();
            s.close();
          };
          if (stopped) close();
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
        } finally {
          untie();
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
