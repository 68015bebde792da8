import { useCallback, useEffect, useState } from 'react';
import type { AgentState, Explanation, RulesPort } from '../../core/rules/port.js';
import type { JournalEntry } from '../../core/rules/types.js';
import { inert } from '../presentation/inert.js';
import type { Say } from './use-container-actions.js';
import { failureText } from './updated.js';

/** Entries of the journal kept for the Journal view. */
export const JOURNAL_VIEW_ENTRIES = 2000;

/** The rules are first asked for this long after the first frame (their code is not on the startup path). */
const START_DELAY_MS = 800;
/** Whether an agent runs is asked again this often (and when the journal says an agent started or stopped). */
const AGENT_CHECK_MS = 10_000;

export interface RulesView {
  agent: AgentState | null;
  /** What the rules say of `explainFor` now (null while reading, or when nothing is asked). */
  explanation: Explanation | null;
  /** The journal, oldest first, followed for as long as the UI runs. */
  journal: readonly JournalEntry[];
  /** R: asks the agent to re-arm a container (of `node`, named in what is said). */
  reset: (container: string, node: string) => void;
  /** P: pauses the rules for a container, or resumes them. */
  togglePause: (container: string, node: string) => void;
}

/** Entries of both lists, each once, by sequence number (the newest JOURNAL_VIEW_ENTRIES). */
function merge(a: readonly JournalEntry[], b: readonly JournalEntry[]): readonly JournalEntry[] {
  if (b.length === 0) return a;
  const bySeq = new Map<number, JournalEntry>();
  for (const e of a) bySeq.set(e.seq, e);
  for (const e of b) bySeq.set(e.seq, e);
  const all = [...bySeq.values()].sort((x, y) => x.seq - y.seq);
  return all.length > JOURNAL_VIEW_ENTRIES ? all.slice(-JOURNAL_VIEW_ENTRIES) : all;
}

/** Entries worth a word on the status line: notifications, give-ups, failed actions. */
const isNotice = (e: JournalEntry) => e.kind === 'notify' || e.kind === 'give-up' || (e.kind === 'outcome' && e.ok === false);

const sameAgent = (a: AgentState | null, b: AgentState) => !!a && a.running === b.running && a.record?.pid === b.record?.pid && a.reason === b.reason;

const words = (err: unknown) => failureText(err);

/**
 * The selected node's rule engine, through its port (null: none can be
 * reached): the agent's status, the explanation of one container, and the
 * journal, followed so that what the agent says (a notification, a give-up,
 * a failed action) reaches the status line at once.
 */
export function useRules(port: RulesPort | null, explainFor: string | null, o: { node: string | null; say: Say; notice: (text: string, kind: 'info' | 'error', count: number) => void; secondTick: number; modelVersion: unknown }): RulesView {
  const { node, say, notice, secondTick, modelVersion } = o;
  const [started, setStarted] = useState(false);
  const [agent, setAgent] = useState<AgentState | null>(null);
  const [agentCheck, setAgentCheck] = useState(0);
  const [journal, setJournal] = useState<readonly JournalEntry[]>([]);
  const [explained, setExplained] = useState<{ port: RulesPort; container: string; x: Explanation } | null>(null);
  const [changed, setChanged] = useState(0);

  useEffect(() => {
    const t = setTimeout(() => setStarted(true), START_DELAY_MS);
    return () => clearTimeout(t);
  }, []);

  useEffect(() => {
    if (!started || !port) return;
    let live = true;
    const check = () =>
      port.agent().then(
        (a) => live && setAgent((prev) => (sameAgent(prev, a) ? prev : a)),
        () => undefined,
      );
    void check();
    const timer = setInterval(() => void check(), AGENT_CHECK_MS);
    timer.unref?.();
    return () => {
      live = false;
      clearInterval(timer);
      setAgent(null);
    };
  }, [started, port, agentCheck]);

  useEffect(() => {
    if (!started || !port) return;
    let live = true;
    const batch: JournalEntry[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      const fresh = batch.splice(0);
      if (!live || fresh.length === 0) return;
      setJournal((j) => merge(j, fresh));
      if (fresh.some((e) => e.kind === 'agent')) setAgentCheck((n) => n + 1);
      const notices = fresh.filter(isNotice);
      const last = notices.at(-1);
      // The newest, with how many came (the status line counts the others: "+N more: J").
      // Named with the node whose agent said it: the journal followed is the selected container's node's.
      if (last) notice(`⚑ ${node === null ? '' : `${inert(node)}: `}${inert(last.reason)}`, last.kind === 'notify' ? 'info' : 'error', notices.length);
    };
    // Follow first, then read what is there: nothing written in between is missed (merged by sequence number).
    const stop = port.followJournal((e) => {
      batch.push(e);
      timer ??= setTimeout(flush, 100);
    });
    port.journal({ limit: JOURNAL_VIEW_ENTRIES }).then(
      (entries) => live && setJournal((j) => merge(entries, j)),
      (err: unknown) => live && say(`cannot read the journal${node === null ? '' : ` of ${node}`}: ${words(err)}`, 'error'),
    );
    return () => {
      live = false;
      stop();
      if (timer) clearTimeout(timer);
      setJournal([]);
    };
  }, [started, port, notice, say, node]);

  // Asked again every second (back-off and pauses count down; a peer's port: less often, each ask
  // crosses its link), on a model change and a journal entry.
  const tick = Math.floor(secondTick / Math.max(1, Math.round((port?.refreshMs ?? 1000) / 1000)));
  useEffect(() => {
    if (!started || !port || explainFor === null) return;
    let live = true;
    port.explain(explainFor).then(
      (x) => live && setExplained({ port, container: explainFor, x }),
      (err: unknown) => live && setExplained({ port, container: explainFor, x: { statuses: [], problems: [`cannot read the rules: ${words(err)}`] } }),
    );
    return () => {
      live = false;
    };
  }, [started, port, explainFor, tick, modelVersion, journal, changed]);

  const reset = useCallback(
    (container: string, on: string) => {
      if (!port) return;
      // Not waited for: the agent's reset entry reaches the journal (and the tab) when it applies it.
      port.reset(container, undefined, { waitMs: 0 }).then(
        (r) => say(`re-arm of ${on}/${container} requested${r.applied ? '' : ' (no agent runs: the next one applies it)'}`),
        (err: unknown) => say(words(err), 'error'),
      );
    },
    [port, say],
  );

  const togglePause = useCallback(
    (container: string, on: string) => {
      if (!port) return;
      const target = { container };
      void (async () => {
        try {
          const paused = await port.paused(target);
          if (paused) await port.resume(target);
          else await port.pause(target);
          setChanged((n) => n + 1);
          say(paused ? `rules resumed for ${on}/${container}` : `rules paused for ${on}/${container} (P resumes)`);
        } catch (err) {
          say(words(err), 'error');
        }
      })();
    },
    [port, say],
  );

  const explanation = explained && explained.port === port && explained.container === explainFor ? explained.x : null;
  return { agent: port ? agent : null, explanation, journal: port ? journal : [], reset, togglePause };
}
