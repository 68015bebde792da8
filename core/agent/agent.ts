/**
 * The rule agent: the pure rule engine (core/rules/) wired to a node and to
 * the disk. Around it: the rules file (rules-file.ts), actions (runner.ts),
 * webhooks (webhook.ts), the journal (journal.ts), the state directory's
 * files (store.ts) and the restore of guard state (restore.ts).
 *
 * Why this file is ~600 lines: what is left is the agent's own loop (start,
 * reload, the state directory watch, inputs kept in step with what the rules
 * need, scheduling, journaling each decision before acting, save, writes
 * retried after a full disk, and stop), and each step reads the same engine,
 * journal and timers. Holding journal entries is held-journal.ts's.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { LogStream, Node } from '../node.js';
import type { ContainerSummary, Disposer, NodeStatus } from '../model/types.js';
import { NotAllowedError } from '../model/errors.js';
import { runAction } from './runner.js';
import { postWebhook } from './webhook.js';
import { RuleEngine, describeAction, words, type Decision, type Maintenance } from '../rules/engine.js';
import type { JournalEntry, JournalOptions } from './journal.js';
import { HeldJournal } from './held-journal.js';
import { restoreEngine } from './restore.js';
import { isFencedContainer, linkJournal, moveContainer } from './placement-link.js';
import { formatIssue } from '../rules/parse.js';
import {
  agentStatus,
  claimAgentLock,
  isAgentPid,
  isResetRequest,
  readMaintenance,
  removeAgentRecord,
  removeStaleTemps,
  takeResetRequests,
  writeAgentRecord,
  writeGuardState,
  MAINTENANCE_FILE,
} from './store.js';
import { DEFAULT_SAMPLE_INTERVAL_MS, type RuleIssue } from '../rules/types.js';

export { loadRulesFile, type LoadedRules } from './rules-file.js';
import { loadRulesFile, type LoadedRules } from './rules-file.js';

const GUARD_FILE_NAME = 'guards.json';
/** How often writes that failed (a full disk) are tried again. */
const RETRY_WRITES_MS = 5_000;

/** Refuses to start when another agent enforces rules with this state directory (NotAllowedError: exit 5). */
export function assertNoOtherAgent(stateDir: string): void {
  const st = agentStatus(stateDir);
  // Its pid from its record, or from the lock when it could not write one (a full disk).
  if (st.running && st.pid !== null && st.pid !== process.pid) {
    throw new NotAllowedError(`another agent (pid ${st.pid}) already enforces rules with ${stateDir}; stop it first.`);
  }
}

export interface AgentOptions {
  node: Node;
  rulesFile: string;
  stateDir: string;
  endpoint?: string;
  now?: () => number;
  /** For webhooks; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Lines for the agent's own log (stderr in `outpost agent`). */
  log?: (line: string) => void;
  /** Called with each entry the agent journals (its own log prints the ones that matter). */
  onEntry?: (entry: JournalEntry) => void;
  journal?: JournalOptions;
  version?: string;
}

/**
 * Runs the rule engine against a node: feeds it the node's events, samples
 * and log lines, journals every decision before carrying it out, and
 * carries out `act` decisions through the Node interface. One agent per
 * state directory.
 */
export class RuleAgent {
  readonly engine = new RuleEngine();
  #o: AgentOptions;
  #now: () => number;
  #journal: HeldJournal | null = null;
  #disposers: Disposer[] = [];
  #statsOff: Disposer | null = null;
  #statsInterval = 0;
  #hostOff: Disposer | null = null;
  #logs = new Map<string, LogStream>();
  #timer: NodeJS.Timeout | null = null;
  #watchers: FSWatcher[] = [];
  #reloadTimer: NodeJS.Timeout | null = null;
  #rules: LoadedRules | null = null;
  #webhook: string | null = null;
  #stopped = false;
  #inflight = new Set<Promise<void>>();
  #log: (line: string) => void;
  #startedAt = 0;
  #maintenanceSaid: string | null = null;
  #createdAt = 0;
  /** Since when nobody watched the engine (the agent was down, or the engine away): exits since then are reconciled at the next full list. */
  #gapSince: number | null = null;
  #offlineSince: number | null = null;
  #savedVersion = -1;
  #releaseLock: (() => void) | null = null;
  #saveTimer: NodeJS.Timeout | null = null;
  #unlinkJournal: (() => void) | null = null;
  /** What the last write of agent.json failed with (it is written again by the retry), or null. */
  #recordFailure: string | null = null;
  #recordProblems: string[] = [];
  /** The rules file's problem journaled last, until the file loads again (one entry per problem, not per reload). */
  #reloadSaid: string | null = null;
  /** What the last write of guards.json failed with, or null. */
  #stateFailure: string | null = null;
  #retryTimer: NodeJS.Timeout | null = null;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    this.#createdAt = this.#now();
  }

  get rules(): LoadedRules | null {
    return this.#rules;
  }

  /** Takes the state directory, restores state from the journal, loads the rules and starts following the node. */
  async start(): Promise<void> {
    const { stateDir } = this.#o;
    this.#startedAt = this.#now();
    assertNoOtherAgent(stateDir);
    // Of two agents started at the same instant, one takes the state directory.
    const claim = claimAgentLock(stateDir, isAgentPid);
    if ('heldBy' in claim) throw new NotAllowedError(`another agent (pid ${claim.heldBy}) already enforces rules with ${stateDir}; stop it first.`);
    this.#releaseLock = claim.release;
    // Temp files of writers killed mid-write (SIGKILL, a full disk) would pile up for ever.
    const stale = removeStaleTemps(stateDir);
    // A full disk does not stop the agent: what it cannot write is held in memory and written once there is space.
    const journal = new HeldJournal(stateDir, this.#o.node.name, this.#now, this.#o.journal, (e) => this.#o.onEntry?.(e));
    const repairedBytes = journal.open();
    this.#journal = journal;
    // The failover controller of this process journals here too (kind `placement`).
    this.#unlinkJournal = linkJournal(stateDir, (e) => {
      this.#write({ kind: 'placement', ...e });
    });
    // Guard state comes from its own file (rotation of the journal cannot erase it), then the journal's entries after it.
    const past = restoreEngine(this.engine, stateDir, this.#now());
    // What was just read is on disk already: the state file is written when a decision changes it
    // (or now, when times in it were capped: the next start must not find them in the future again).
    this.#savedVersion = past.future ? -1 : this.engine.version;
    const lastSeen = past.lastWrite;
    // The last moment an agent watched; a first agent ever does not act on history.
    // (`outpost agent` makes the agent before it connects: its start-up counts as watched from then.)
    this.#gapSince = lastSeen > 0 ? Math.min(lastSeen, this.#createdAt) : this.#createdAt;
    const pid = process.pid;
    if (past.problem) this.#write({ kind: 'error', reason: past.problem });
    if (past.future) {
      this.#write({ kind: 'error', reason: past.future });
      this.#saveState();
    }
    this.#write({
      kind: 'agent',
      reason: `agent started (pid ${pid}); restored state from ${past.fromStateFile ? `${GUARD_FILE_NAME} and ` : ''}${past.replayed} journal entries${
        past.unreadable > 0 ? `, skipped ${past.unreadable} unreadable lines` : ''
      }${repairedBytes > 0 ? `, cut a torn tail of ${repairedBytes} bytes` : ''}${stale.length > 0 ? `; removed ${stale.length} temp file(s) of writers that are gone` : ''}`,
    });
    this.#loadMaintenance();
    this.#takeResets();
    this.reload();
    this.#disposers.push(
      this.#o.node.onStatus((st) => this.#onNodeStatus(st)),
      this.#o.node.watch((change) => {
        const now = this.#now();
        this.engine.onModel(change, now);
        this.#reportLabelIssues();
        // A full list after a gap (start-up, reconnect): exits nobody saw go through the rules now.
        // Only a list that says when each exited container finished: a node's first list comes from
        // one request without them (its inspects follow in the next), and reconciling that one
        // spent the gap on a model with no exit times (a crash while the agent was down was never
        // restarted).
        if (change.kind === 'reset' && this.#o.node.status().state === 'online' && exitTimesKnown(change.containers)) this.#reconcile();
        this.#syncSoon();
      }),
    );
    this.#disposers.push(this.#o.node.watchEvents((ev) => this.#handle(this.engine.onEvent(ev, this.#now()))));
    // Started while the engine is away: that is an outage too (journaled, and its end reconciled).
    const st = this.#o.node.status();
    if (st.state === 'offline') this.#onNodeStatus(st);
    this.#syncInputs();
    this.#watchFiles();
    this.#schedule();
  }

  /** The engine went away or came back: both are journaled (once per outage), and the gap is reconciled on return. */
  #onNodeStatus(st: NodeStatus): void {
    if (this.#stopped) return;
    if (st.state === 'offline') {
      if (this.#offlineSince !== null) return;
      this.#offlineSince = st.since;
      this.#gapSince ??= st.since;
      this.#write({ kind: 'agent', reason: `lost the engine: ${st.reason}; rules are not enforced until it is back (retrying)` });
      this.#log(`engine lost: ${st.reason}`);
    } else if (st.state === 'online' && this.#offlineSince !== null) {
      const away = st.since - this.#offlineSince;
      this.#offlineSince = null;
      this.#write({ kind: 'agent', reason: `the engine is back after ${words(away)}; exits while it was away are checked against the rules` });
      this.#log(`engine back after ${words(away)}`);
    }
    // No reconcile here: the node says it is online as soon as the engine has answered, just
    // before it publishes the new list (Connection.answered()); the gap is reconciled on that
    // list's reset (above), against what the engine says now, not the model from before the gap.
  }

  #reconcile(): void {
    if (this.#gapSince === null || this.#stopped) return;
    const since = this.#gapSince;
    this.#gapSince = null;
    this.#handle(this.engine.reconcile(since, this.#now()));
  }

  /**
   * Re-reads the rules file. A broken file keeps the rules in force and journals why, once per
   * problem (a watch event and a SIGHUP for one edit must not journal it twice). Never throws.
   */
  reload(): RuleIssue[] {
    try {
      return this.#reload();
    } catch (err) {
      const issue: RuleIssue = { file: this.#o.rulesFile, field: '(file)', message: `could not be loaded: ${(err as Error).message}` };
      this.#reloadError(`rules file ${this.#o.rulesFile}: ${issue.message}; keeping the rules in force`, [formatIssue(issue)]);
      return [issue];
    }
  }

  #reload(): RuleIssue[] {
    const loaded = loadRulesFile(this.#o.rulesFile);
    const first = this.#rules === null;
    const had = this.#rules && !this.#rules.missing ? this.#rules.ruleSet.rules.length : null;
    if (loaded.missing && had !== null) {
      // Gone while the agent runs (deleted, moved, a symlink to nothing): every file rule would drop
      // without a word. The last good rules stay, and every face says why.
      const fix = 'restore it, or leave it empty to drop them';
      const gone = `${this.#o.rulesFile} is gone (deleted, or a symlink to nothing)`;
      this.#reloadError(`rules file ${gone}; keeping the ${had} rule(s) in force: ${fix}`, [`${gone}; the agent keeps the ${had} rule(s) it had in force: ${fix}`]);
      return [{ file: this.#o.rulesFile, field: '(file)', message: 'is gone; the rules loaded before are kept in force' }];
    }
    if (loaded.issues.length > 0) {
      const keep = first ? 'running with container label rules only' : 'keeping the rules in force';
      this.#reloadError(
        `rules file ${this.#o.rulesFile} has ${loaded.issues.length} problem(s); ${keep}: ${loaded.issues.slice(0, 5).map(formatIssue).join(' | ')}`,
        loaded.issues.map(formatIssue),
      );
      for (const i of loaded.issues.slice(0, 20)) this.#log(formatIssue(i));
      if (first) {
        this.#rules = { ...loaded, ruleSet: { ...loaded.ruleSet, rules: [] } };
        this.engine.setRules(this.#rules.ruleSet);
      }
    } else {
      this.#reloadSaid = null;
      this.#rules = loaded;
      this.engine.setRules(loaded.ruleSet);
      this.#webhook = loaded.ruleSet.webhook;
      this.#write({
        kind: 'agent',
        reason: loaded.missing
          ? `no rules file at ${this.#o.rulesFile}; enforcing container label rules only`
          : `loaded ${loaded.ruleSet.rules.length} rule(s) from ${this.#o.rulesFile}`,
      });
      this.#writeRecord([]);
    }
    if (!first) this.#syncInputs();
    return loaded.issues;
  }

  /** A rules file that could not be loaded: journaled unless it is the problem said last, and recorded for the faces. */
  #reloadError(reason: string, problems: string[]): void {
    if (reason !== this.#reloadSaid) this.#write({ kind: 'error', reason });
    this.#reloadSaid = reason;
    this.#writeRecord(problems);
  }

  /** Writes agent.json (what every face reads); a failure (a full disk) is retried until it is written. */
  #writeRecord(problems: string[] = this.#recordProblems): void {
    this.#recordProblems = problems;
    try {
      writeAgentRecord(this.#o.stateDir, {
        pid: process.pid,
        startedAt: this.#startedAt,
        node: this.#o.node.name,
        endpoint: this.#o.endpoint ?? '',
        rulesFile: this.#o.rulesFile,
        rules: this.#rules?.ruleSet.rules.length ?? 0,
        problems: problems.length,
        ...(problems.length > 0 ? { issues: problems.slice(0, 5) } : {}),
        version: this.#o.version ?? '0.1.0',
      });
      this.#recordFailure = null;
    } catch (err) {
      this.#recordFailure = (err as Error).message;
      this.#retrySoon();
    }
  }

  /**
   * While something could not be written (a full disk), tries again every few
   * seconds: the held journal entries first, then agent.json and guards.json.
   */
  #retrySoon(): void {
    if (this.#retryTimer || this.#stopped) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#retryWrites();
    }, RETRY_WRITES_MS);
    this.#retryTimer.unref?.();
  }

  #retryWrites(): void {
    if (this.#stopped) return;
    this.#flushHeld();
    if (this.#recordFailure !== null) this.#writeRecord();
    if (this.#stateFailure !== null) this.#saveState();
    if (this.#journal?.problem || this.#recordFailure !== null || this.#stateFailure !== null) this.#retrySoon();
  }

  #flushHeld(): void {
    this.#journal?.flush();
  }

  #loadMaintenance(): void {
    const { maintenance, problem } = readMaintenance(this.#o.stateDir);
    this.engine.setMaintenance(maintenance);
    if (problem) this.#write({ kind: 'error', reason: problem });
    // Each change of what is paused is journaled once, when the agent takes it up: the journal says
    // from when a pause was in force, and whoever paused can see that the agent has it.
    const said = describeMaintenance(maintenance);
    if (said !== this.#maintenanceSaid) {
      if (this.#maintenanceSaid !== null || said !== 'no rules paused') this.#write({ kind: 'agent', reason: `maintenance: ${said}` });
      this.#maintenanceSaid = said;
    }
  }

  /** Applies the operator's reset requests (`outpost rules reset`) and journals each one. */
  #takeResets(): void {
    const { requests, problems } = takeResetRequests(this.#o.stateDir);
    for (const p of problems) this.#write({ kind: 'error', reason: p });
    for (const r of requests) {
      const rules = this.engine.reset(r.container, r.rule, this.#now());
      if (rules.length === 0) {
        this.#write({ kind: 'reset', container: r.container, reason: `reset of ${r.container}${r.rule ? ` (rule ${r.rule})` : ''} on request: nothing to reset` });
      }
      for (const rule of rules) {
        this.#write({ kind: 'reset', rule, container: r.container, reason: `reset the back-off, budget and give-up of ${r.container} for rule ${rule} on request` });
      }
    }
    if (requests.length > 0) {
      this.#saveState();
      this.#schedule();
    }
  }

  /** Writes the guard state file (atomically) when the engine's guard state changed since the last write. */
  #saveState(): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    const version = this.engine.version;
    if (version === this.#savedVersion || !this.#journal) return;
    try {
      writeGuardState(this.#o.stateDir, { seq: this.#journal.seq, savedAt: this.#now(), snapshot: this.engine.snapshot() });
      this.#savedVersion = version;
      this.#stateFailure = null;
    } catch (err) {
      // Said once per failure, not on every decision; the state is in memory and written once there is space.
      if (this.#stateFailure === null) this.#log(`cannot write the guard state: ${(err as Error).message}`);
      this.#stateFailure = (err as Error).message;
      this.#retrySoon();
    }
  }

  /** Soon, for changes that are not decisions (the last time a condition held): at most one write per 5 s. */
  #saveSoon(): void {
    if (this.#saveTimer || this.#stopped) return;
    this.#saveTimer = setTimeout(() => this.#saveState(), 5_000);
    this.#saveTimer.unref?.();
  }

  #watchFiles(): void {
    const rulesDir = dirname(this.#o.rulesFile);
    const rulesName = basename(this.#o.rulesFile);
    const debounce = (fn: () => void) => {
      if (this.#reloadTimer) clearTimeout(this.#reloadTimer);
      this.#reloadTimer = setTimeout(fn, 300);
    };
    try {
      const w = watch(rulesDir, (_e, name) => {
        if (name === rulesName) debounce(() => this.reload());
      });
      w.on('error', () => undefined);
      this.#watchers.push(w);
    } catch {
      this.#log(`cannot watch ${rulesDir}; send SIGHUP to reload the rules`);
    }
    try {
      const w = watch(this.#o.stateDir, (_e, name) => {
        if (name === MAINTENANCE_FILE) this.#loadMaintenance();
        if (isResetRequest(name)) this.#takeResets();
      });
      w.on('error', () => undefined);
      this.#watchers.push(w);
    } catch {
      // maintenance changes are then picked up on the next reload
    }
  }

  #reportLabelIssues(): void {
    for (const i of this.engine.drainIssues()) this.#write({ kind: 'error', ...(i.container !== undefined ? { container: i.container } : {}), reason: `${formatIssue(i)} (the container's label rule is ignored)` });
  }

  #syncTimer: NodeJS.Timeout | null = null;

  /** Model changes come in bursts (one per container at a resync): sync the inputs once after them. */
  #syncSoon(): void {
    if (this.#syncTimer || this.#stopped) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = null;
      this.#syncInputs();
    }, 20);
  }

  /** Starts or stops the samplers and log followers the rules need right now. */
  #syncInputs(): void {
    if (this.#stopped) return;
    const need = this.engine.needs();
    const interval = this.engine.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    if (need.stats && (!this.#statsOff || this.#statsInterval !== interval)) {
      this.#statsOff?.();
      this.#statsInterval = interval;
      this.#statsOff = this.#o.node.watchStats((stats) => this.#handle(this.engine.onStats(stats, this.#now())), { intervalMs: interval });
    } else if (!need.stats && this.#statsOff) {
      this.#statsOff();
      this.#statsOff = null;
    }
    if (need.host && !this.#hostOff) {
      this.#hostOff = this.#o.node.watchHost((h) => this.#handle(this.engine.onHost(h, this.#now())), { intervalMs: interval });
    } else if (!need.host && this.#hostOff) {
      this.#hostOff();
      this.#hostOff = null;
    }
    for (const [id, stream] of this.#logs) {
      if (!need.logs.has(id)) {
        stream.close();
        this.#logs.delete(id);
      }
    }
    for (const id of need.logs) if (!this.#logs.has(id)) void this.#follow(id);
  }

  async #follow(id: string): Promise<void> {
    const container = this.#o.node.containers().find((c) => c.id === id);
    // Lines of this run written since the agent started: a line seen by an earlier agent is not acted on twice.
    const since = Math.max(container?.startedAt ?? 0, this.#startedAt);
    let stream: LogStream;
    try {
      stream = await this.#o.node.logs(id, { follow: true, since, tail: 'all', maxLineBytes: 64 * 1024 });
    } catch (err) {
      this.#log(`cannot follow the logs of ${container?.name ?? id}: ${(err as Error).message}`);
      return;
    }
    if (this.#stopped || this.#logs.has(id)) {
      stream.close();
      return;
    }
    this.#logs.set(id, stream);
    try {
      let slice = performance.now();
      for await (const line of stream) {
        this.#handle(this.engine.onLog(id, line, this.#now()));
        // A flood of lines never holds the event loop: events (a crash elsewhere) are reacted to between slices.
        if (performance.now() - slice > 10) {
          await new Promise((r) => setImmediate(r));
          slice = performance.now();
        }
      }
    } catch {
      // the stream ends with the container
    } finally {
      if (this.#logs.get(id) === stream) this.#logs.delete(id);
    }
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stopped) return;
    const next = this.engine.nextWake();
    if (next === null) return;
    const delay = Math.max(0, Math.min(next - this.#now(), 2 ** 31 - 1));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#handle(this.engine.tick(this.#now()));
    }, delay);
    this.#timer.unref?.();
  }

  /** Journals an entry; one that cannot be written now is held in memory (and logged) and journaled once there is space. */
  #write(entry: Omit<JournalEntry, 'seq' | 'ts' | 'node'> & { ts?: number }): JournalEntry | null {
    const journal = this.#journal;
    if (!journal) return null;
    const wasHolding = journal.heldCount > 0;
    const full = { ts: this.#now(), node: this.#o.node.name, ...entry };
    const written = journal.append(full);
    if (written) return written;
    if (!wasHolding) this.#log(`${journal.problem ?? 'cannot write the journal'}; holding entries in memory until there is space`);
    this.#log(`not journaled yet: ${full.kind}: ${full.reason}`);
    this.#retrySoon();
    return null;
  }


  /** Journals each decision (durably) before carrying it out. */
  #handle(decisions: Decision[]): void {
    let decided = false;
    for (const d of decisions) {
      const { kind, ...rest } = d;
      if (d.kind === 'act' && d.action.kind !== 'notify' && isFencedContainer(this.#o.stateDir, d.containerId)) {
        // Placement failover stopped it so that it never runs twice: no rule may start it behind the fence.
        this.#write({ kind: 'skip', rule: d.rule, container: d.container, containerId: d.containerId, trigger: d.trigger, reason: `${describeAction(d.action)} of ${d.container} skipped: it is fenced by placement failover (${d.reason})` });
        continue;
      }
      this.#write({ ...rest, kind });
      if (d.kind === 'act') {
        decided = true;
        // Until it returns and the container's new state is known, its triggers are not counted (one incident, one action).
        if (d.action.kind !== 'notify') this.engine.beginAction(d.containerId, d.action, this.#now());
        const p = this.#execute(d).finally(() => this.#inflight.delete(p));
        this.#inflight.add(p);
        // A rule's own words (`then: {notify: MESSAGE}`) are the notification; the reason follows them.
        const message = d.action.kind === 'notify' && d.action.message ? `${d.action.message} (${d.container}: ${d.trigger.detail})` : d.reason;
        if (d.notify) this.#notify(message, d);
      } else if (d.kind === 'give-up') {
        decided = true;
        this.#notify(d.reason, d);
      } else if (d.kind === 'defer') {
        decided = true;
      }
    }
    this.#reportLabelIssues();
    if (decided) this.#saveState();
    else if (this.engine.version !== this.#savedVersion) this.#saveSoon();
    this.#schedule();
  }

  async #execute(d: Extract<Decision, { kind: 'act' }>): Promise<void> {
    const node = this.#o.node;
    const started = this.#now();
    const latencyMs = d.trigger.eventTime !== undefined ? Math.max(0, started - d.trigger.eventTime) : undefined;
    const { error, detail } = await runAction(node, d.containerId, d.action, (id) => moveContainer(this.#o.stateDir, id));
    const durationMs = this.#now() - started;
    if (d.action.kind !== 'notify') {
      this.engine.endAction(d.containerId, this.#now(), error === undefined, d.action);
      if (!this.#stopped) this.#schedule();
    }
    this.#write({
      kind: 'outcome',
      rule: d.rule,
      container: d.container,
      containerId: d.containerId,
      action: d.action,
      ok: error === undefined,
      ...(error !== undefined ? { error } : {}),
      durationMs,
      ...(latencyMs !== undefined ? { latencyMs } : {}),
      reason:
        error === undefined
          ? `${describeAction(d.action)} of ${d.container} done in ${durationMs} ms${detail}`
          : `${describeAction(d.action)} of ${d.container} failed: ${error}${detail}`,
    });
  }

  #notify(message: string, d: Decision): void {
    this.#write({ kind: 'notify', rule: d.rule, container: d.container, containerId: d.containerId, trigger: d.trigger, reason: message });
    const url = this.#webhook;
    if (!url) return;
    const payload = { node: this.#o.node.name, container: d.container, rule: d.rule, kind: d.kind, message, ts: d.ts };
    const p = postWebhook(this.#o.fetch ?? fetch, url, payload)
      .then((problem) => {
        if (problem) this.#write({ kind: 'error', container: d.container, reason: problem });
      })
      .finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  /** Waits for actions and webhooks in flight (tests and a clean shutdown). */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#journal) this.#saveState();
    if (this.#reloadTimer) clearTimeout(this.#reloadTimer);
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    for (const w of this.#watchers) w.close();
    for (const d of this.#disposers) d();
    this.#statsOff?.();
    this.#hostOff?.();
    for (const s of this.#logs.values()) s.close();
    this.#logs.clear();
    await Promise.race([this.settle(), new Promise((r) => setTimeout(r, 15_000).unref())]);
    this.#write({ kind: 'agent', reason: `agent stopped (pid ${process.pid})` });
    this.#unlinkJournal?.();
    this.#unlinkJournal = null;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#flushHeld();
    const held = this.#journal?.heldCount ?? 0;
    if (held > 0) this.#log(`stopping with ${held} journal entr${held === 1 ? 'y' : 'ies'} not written (${this.#journal?.problem ?? 'the journal cannot be written'}): they are lost`);
    this.#journal?.close();
    this.#journal = null;
    removeAgentRecord(this.#o.stateDir, process.pid);
    this.#releaseLock?.();
    this.#releaseLock = null;
  }
}

/** What is paused, in words, in a stable order: "rules paused for web until 2026-12-02T07:00:00.000Z; for db until resumed". */
export function describeMaintenance(m: Maintenance): string {
  const until = (t: number | null) => (t === null ? 'until resumed' : `until ${new Date(t).toISOString()}`);
  const parts: string[] = [];
  if (m.node) parts.push(`on the whole node ${until(m.node.until)}`);
  for (const name of Object.keys(m.containers ?? {}).sort()) parts.push(`for ${name} ${until(m.containers?.[name]?.until ?? null)}`);
  return parts.length === 0 ? 'no rules paused' : `rules paused ${parts.join('; ')}`;
}

/** Whether every exited container of a list says when it finished (an inspected list does; the engine's bare list does not). */
function exitTimesKnown(containers: readonly ContainerSummary[]): boolean {
  return containers.every((c) => (c.state !== 'exited' && c.state !== 'dead') || (typeof c.finishedAt === 'number' && c.finishedAt > 0));
}
