import { existsSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AgentInfo } from '../rules/port.js';
import { BadInputError } from '../model/errors.js';
import type { GuardRecord, GuardSnapshot, Maintenance } from '../rules/engine.js';
import { isValidTime } from '../model/duration.js';
import { readRegularFile } from '../model/read-file.js';
import { lockHolder, pidAlive } from './lock.js';
import { clip } from '../model/clip.js';

/** `$XDG_CONFIG_HOME/outpost` (default ~/.config/outpost): where rules.yaml lives. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'outpost');
}

/** `$XDG_STATE_HOME/outpost` (default ~/.local/state/outpost): journal, agent status, maintenance. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'outpost');
}

/** The rules file: rules.yaml, else rules.yml or rules.json if one of those exists. */
export function defaultRulesFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  for (const name of ['rules.yaml', 'rules.yml', 'rules.json']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return join(dir, 'rules.yaml');
}

/** Writes a small file whole or not at all (core/model/write-file.ts); re-exported for the state directory's writers. */
export { writeAtomic } from '../model/write-file.js';
import { writeAtomic } from '../model/write-file.js';

/** A small state file's text; anything but a regular file of at most 64 KiB throws (a FIFO in its place cannot hold a reader). */
function smallFile(path: string): string {
  const f = readRegularFile(path, 64 * 1024);
  if (!f.ok) throw new Error(`${path} ${f.message}`);
  return f.text;
}

export const MAINTENANCE_FILE = 'maintenance.json';

/** Reads the maintenance file; a missing or damaged file means no maintenance (and says so in `problem`). */
export function readMaintenance(dir: string): { maintenance: Maintenance; problem: string | null } {
  const path = join(dir, MAINTENANCE_FILE);
  const file = readRegularFile(path, 1024 * 1024);
  if (!file.ok) return { maintenance: {}, problem: file.reason === 'missing' ? null : `${path} ${file.message}; ignoring it` };
  const text = file.text;
  try {
    const raw = JSON.parse(text) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
    const r = raw as Record<string, unknown>;
    const bad: string[] = [];
    const until = (v: unknown): { until: number | null } | null => {
      if (typeof v !== 'object' || v === null) return null;
      const u = (v as { until?: unknown }).until;
      if (u === null || u === undefined) return { until: null };
      if (isValidTime(u)) return { until: u };
      bad.push(String(u).slice(0, 40));
      return null;
    };
    const m: Maintenance = { node: until(r.node), containers: {} };
    if (typeof r.containers === 'object' && r.containers !== null) {
      for (const [name, v] of Object.entries(r.containers as Record<string, unknown>)) {
        const u = until(v);
        if (u) (m.containers as Record<string, { until: number | null }>)[name] = u;
      }
    }
    return { maintenance: m, problem: bad.length > 0 ? `${path}: ignored ${bad.length} pause(s) with a time out of range (${bad.join(', ')})` : null };
  } catch (err) {
    return { maintenance: {}, problem: `${path} is not valid maintenance JSON (${(err as Error).message}); ignoring it` };
  }
}

/** Pauses (or with `until === undefined` and `resume`, resumes) rules for the node or one container. */
export function setMaintenance(dir: string, target: { container?: string }, change: { pauseUntil: number | null } | 'resume'): Maintenance {
  const { maintenance } = readMaintenance(dir);
  const next: Maintenance = { node: maintenance.node ?? null, containers: { ...(maintenance.containers ?? {}) } };
  if (change !== 'resume' && change.pauseUntil !== null && !isValidTime(change.pauseUntil)) {
    throw new BadInputError(`a pause until ${String(change.pauseUntil)} is out of range.`);
  }
  if (target.container !== undefined) {
    if (!/^[\w][\w.-]{0,253}$/.test(target.container)) throw new BadInputError(`\`${clip(target.container, 80)}\` is not a container name.`, { field: 'container' });
    if (change === 'resume') delete next.containers?.[target.container];
    else (next.containers as Record<string, { until: number | null }>)[target.container] = { until: change.pauseUntil };
  } else {
    next.node = change === 'resume' ? null : { until: change.pauseUntil };
  }
  writeAtomic(join(dir, MAINTENANCE_FILE), `${JSON.stringify(next, null, 2)}\n`);
  return next;
}

export const AGENT_FILE = 'agent.json';

/** What a running agent says about itself (written at start and on reload, removed at exit): the port's AgentInfo. */
export type AgentRecord = AgentInfo;

/** Whether `pid` is a live agent (a recycled pid belongs to another program). */
export function isAgentPid(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent');
  } catch {
    return true;
  }
}

/** Below this much free space in the state directory, the agent's writes (a guard state file is up to megabytes) may not fit. */
const LOW_SPACE_BYTES = 64 * 1024;

/** The disk that holds the state directory, when it is (nearly) full, in words; null otherwise. */
export function diskProblem(dir: string, agentRuns: boolean): string | null {
  let available: number;
  try {
    const st = statfsSync(dir);
    available = st.bavail * st.bsize;
  } catch {
    return null;
  }
  if (available >= LOW_SPACE_BYTES) return null;
  return `the disk holding ${dir} is full (${available} bytes available): ${
    agentRuns ? 'the agent cannot write its journal or state; it enforces its rules from memory and journals what it held once there is space' : 'an agent cannot write its journal or state there'
  }; free space on it`;
}

export interface AgentStatus {
  running: boolean;
  record: AgentRecord | null;
  /** Why it is not running, in words, when it is not. */
  reason: string | null;
  /** The running agent's pid (from its record, or from the lock when it could not write its record). */
  pid: number | null;
  /** What is wrong with the running agent's state, in words: a full disk, a rules file it could not load. */
  problems: string[];
}

/**
 * Whether an agent is enforcing rules with this state directory. Its record
 * (agent.json) says most; an agent that could not write it (a full disk)
 * still holds the lock, which says its pid.
 */
export function agentStatus(dir: string): AgentStatus {
  let record: AgentRecord | null = null;
  try {
    const r = JSON.parse(smallFile(join(dir, AGENT_FILE))) as AgentRecord;
    if (!Number.isSafeInteger(r?.pid) || r.pid <= 0 || !isValidTime(r.startedAt)) throw new Error('not an agent record');
    record = r;
  } catch {
    // none, or damaged: the lock may still tell
  }
  if (record && isAgentPid(record.pid)) {
    const issues = Array.isArray(record.issues) ? record.issues.filter((i): i is string => typeof i === 'string').slice(0, 5).map((i) => clip(i, 1000)) : [];
    const disk = diskProblem(dir, true);
    return { running: true, record, reason: null, pid: record.pid, problems: [...(disk ? [disk] : []), ...issues] };
  }
  const holder = lockHolder(dir);
  if (holder !== null && isAgentPid(holder)) {
    const disk = diskProblem(dir, true);
    return { running: true, record: null, reason: null, pid: holder, problems: [disk ?? `the agent (pid ${holder}) has not written its record ${join(dir, AGENT_FILE)} yet`] };
  }
  const reason = record ? `the agent (pid ${record.pid}) is gone; it did not stop cleanly` : 'no agent is running (none was started, or it stopped)';
  const disk = diskProblem(dir, false);
  return { running: false, record, reason, pid: null, problems: disk ? [disk] : [] };
}

export function writeAgentRecord(dir: string, record: AgentRecord): void {
  writeAtomic(join(dir, AGENT_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

export function removeAgentRecord(dir: string, pid: number): void {
  const path = join(dir, AGENT_FILE);
  try {
    const r = JSON.parse(smallFile(path)) as AgentRecord;
    if (r.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(path, { force: true });
}

const RESET_PREFIX = 'reset-request.';

/** Whether a file name in the state directory is a reset request. */
export function isResetRequest(name: string | null | undefined): boolean {
  return typeof name === 'string' && name.startsWith(RESET_PREFIX) && name.endsWith('.json');
}

export interface ResetRequest {
  container: string;
  rule?: string;
  at: number;
}

/**
 * Asks the agent to forget the back-off, budget and give-up of a container
 * (all its rules, or one). Each request is its own file, created atomically,
 * so several writers never clash; the agent applies and deletes them.
 */
export function requestReset(dir: string, request: ResetRequest): string {
  if (!/^[\w][\w.-]{0,253}$/.test(request.container)) throw new BadInputError(`\`${clip(request.container, 80)}\` is not a container name.`, { field: 'container' });
  if (request.rule !== undefined && !/^[\w.:-]{1,80}$/.test(request.rule)) throw new BadInputError(`\`${clip(request.rule, 80)}\` is not a rule name.`, { field: 'rule' });
  const name = `${RESET_PREFIX}${request.at}.${randomBytes(4).toString('hex')}.json`;
  writeAtomic(join(dir, name), JSON.stringify(request));
  return name;
}

/** Reads and removes the pending reset requests, oldest first; damaged ones are removed and reported. */
export function takeResetRequests(dir: string): { requests: ResetRequest[]; problems: string[] } {
  const requests: ResetRequest[] = [];
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter(isResetRequest).sort();
  } catch {
    return { requests, problems };
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const r = JSON.parse(smallFile(path)) as ResetRequest;
      if (typeof r?.container !== 'string' || (r.rule !== undefined && typeof r.rule !== 'string')) throw new Error('expected {container, rule?}');
      requests.push({ container: r.container, ...(r.rule !== undefined ? { rule: r.rule } : {}), at: Number(r.at) || 0 });
    } catch (err) {
      problems.push(`ignored the damaged reset request ${name}: ${(err as Error).message}`);
    }
    rmSync(path, { force: true });
  }
  return { requests, problems };
}

export const GUARD_FILE = 'guards.json';

/** The guard state file: back-off, budgets, give-ups, deferred actions and exits seen, as of journal entry `seq`. */
export interface GuardFile {
  seq: number;
  savedAt: number;
  snapshot: GuardSnapshot;
}

const MAX_GUARD_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Reads the guard state file. Missing: null. Damaged, out of range or too
 * large: null with a `problem` in words (the agent journals it and falls back
 * on the journal); a record that is out of range is dropped and reported.
 */
export function readGuardState(dir: string): { state: GuardFile | null; problem: string | null } {
  const path = join(dir, GUARD_FILE);
  const file = readRegularFile(path, MAX_GUARD_FILE_BYTES);
  if (!file.ok) return { state: null, problem: file.reason === 'missing' ? null : `${path} ${file.message}; ignoring it` };
  let raw: unknown;
  try {
    raw = JSON.parse(file.text);
  } catch (err) {
    return { state: null, problem: `${path} is not valid JSON (${(err as Error).message}); ignoring it` };
  }
  const r = raw as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.seq) || !isValidTime(r.savedAt) || !Array.isArray(r.guards)) {
    return { state: null, problem: `${path} is not a guard state file (expected {seq, savedAt, guards, exits}); ignoring it` };
  }
  const time = (v: unknown) => v === null || isValidTime(v);
  const guards: GuardRecord[] = [];
  let dropped = 0;
  for (const g of r.guards as unknown[]) {
    const x = g as Record<string, unknown>;
    const pending = x?.pending as Record<string, unknown> | null | undefined;
    const ok =
      typeof x === 'object' && x !== null &&
      typeof x.rule === 'string' && x.rule.length <= 200 &&
      typeof x.container === 'string' && x.container.length <= 300 &&
      Number.isSafeInteger(x.level) && (x.level as number) >= 0 && (x.level as number) <= 1000 &&
      time(x.lastActionAt) && time(x.gaveUpAt) && time(x.troubleAt) &&
      Array.isArray(x.actions) && (x.actions as unknown[]).length <= 10_000 && (x.actions as unknown[]).every(isValidTime) &&
      (x.recentActs === undefined || (Array.isArray(x.recentActs) && (x.recentActs as unknown[]).length <= 1000 && (x.recentActs as unknown[]).every(isValidTime))) &&
      (pending === null || (typeof pending === 'object' && isValidTime(pending.at) && typeof pending.action === 'object' && pending.action !== null && typeof pending.trigger === 'object' && pending.trigger !== null));
    if (!ok) {
      dropped++;
      continue;
    }
    guards.push({
      rule: x.rule as string,
      container: x.container as string,
      level: x.level as number,
      lastActionAt: x.lastActionAt as number | null,
      actions: x.actions as number[],
      gaveUpAt: x.gaveUpAt as number | null,
      troubleAt: x.troubleAt as number | null,
      pending: (pending ?? null) as GuardRecord['pending'],
      ...(x.recentActs !== undefined ? { recentActs: x.recentActs as number[] } : {}),
    });
  }
  const exits: Record<string, number> = {};
  if (typeof r.exits === 'object' && r.exits !== null) {
    for (const [name, at] of Object.entries(r.exits as Record<string, unknown>)) {
      if (isValidTime(at)) exits[name] = at;
      else dropped++;
    }
  }
  return {
    state: { seq: r.seq as number, savedAt: r.savedAt as number, snapshot: { guards, exits } },
    problem: dropped > 0 ? `${path}: ignored ${dropped} damaged or out-of-range record(s)` : null,
  };
}

/** Writes the guard state file atomically (temp file, fsync, rename). */
export function writeGuardState(dir: string, state: GuardFile): void {
  writeAtomic(join(dir, GUARD_FILE), JSON.stringify({ seq: state.seq, savedAt: state.savedAt, ...state.snapshot }));
}

export { AGENT_LOCK, claimAgentLock, lockHolder, removeStaleTemps } from './lock.js';
