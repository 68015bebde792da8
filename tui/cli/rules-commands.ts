/**
 * `outpost agent`, `outpost rules …` and `outpost journal`: the rule
 * engine's command line. Loaded only when one of them runs.
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { NODE_MEMORY_FLAGS } from './node-flags.js';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { LocalNode } from '../../core/docker/local-node.js';
import { BadInputError, NotAllowedError } from '../../core/model/errors.js';
import { parseDuration } from '../../core/model/duration.js';
import { RuleAgent, assertNoOtherAgent, loadRulesFile } from '../../core/agent/agent.js';
import { describeAction, type RuleStatus } from '../../core/rules/engine.js';
import type { JournalEntry } from '../../core/agent/journal.js';
import type { RulesPort } from '../../core/rules/port.js';
import { formatIssue } from '../../core/rules/parse.js';
import { defaultRulesFile, stateDir } from '../../core/agent/store.js';
import { inert } from '../presentation/inert.js';
import { clip } from '../../core/model/clip.js';
import type { CliIO, RulesPaths } from './program.js';

export type { RulesPaths } from './program.js';

export function pathsFrom(io: CliIO, opts: { rules?: string; stateDir?: string }): RulesPaths & { explicitRules: boolean } {
  return {
    rulesFile: opts.rules ? resolve(opts.rules) : defaultRulesFile(io.env),
    stateDir: opts.stateDir ? resolve(opts.stateDir) : stateDir(io.env),
    explicitRules: opts.rules !== undefined,
  };
}

/** `outpost agent`: runs until SIGTERM/SIGINT; SIGHUP re-reads the rules. */
export async function runAgent(node: LocalNode, endpoint: string, paths: RulesPaths, io: CliIO): Promise<number> {
  const log = (line: string) => io.err(`${new Date().toISOString()} ${line}\n`);
  // What the agent does goes to its log too (systemd's journal when it runs as a service).
  const onEntry = (e: JournalEntry) => {
    if (e.kind === 'act' || e.kind === 'give-up' || e.kind === 'error' || e.kind === 'defer' || (e.kind === 'outcome' && e.ok === false)) {
      log(`${e.kind}: ${e.reason}`);
    }
  };
  // Another agent first: nothing is opened (no engine connection, no journal) for an agent that may not run.
  assertNoOtherAgent(paths.stateDir);
  // The signals are ours from here: a SIGTERM during start-up (systemd stopping a unit that is
  // starting) ends the agent cleanly once its start is done, instead of killing it mid-write.
  let stopWith: ((signal: string) => void) | null = null;
  let early: string | null = null;
  const onSignal = (signal: string) => (stopWith ? stopWith(signal) : (early ??= signal));
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  const agent = new RuleAgent({ node, endpoint, rulesFile: paths.rulesFile, stateDir: paths.stateDir, log, onEntry });
  try {
    try {
      await node.connect();
    } catch (err) {
      log(`engine unreachable (${(err as Error).message}); retrying in the background`);
    }
    await agent.start();
  } catch (err) {
    // Every error path closes what was opened, so the process can exit with the error's code.
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await agent.stop().catch(() => undefined);
    await node.close().catch(() => undefined);
    throw err;
  }
  const loaded = agent.rules;
  log(
    `outpost agent (pid ${process.pid}) on ${endpoint}: ${loaded?.ruleSet.rules.length ?? 0} rule(s) from ${paths.rulesFile}${
      loaded?.missing ? ' (no such file: label rules only)' : ''
    }; state in ${paths.stateDir}`,
  );
  const code = await new Promise<number>((done) => {
    stopWith = (signal: string) => {
      log(`${signal}: stopping`);
      done(0);
    };
    if (early) stopWith(early);
    process.on('SIGHUP', () => {
      const issues = agent.reload();
      log(issues.length === 0 ? 'SIGHUP: rules reloaded' : `SIGHUP: the rules file has ${issues.length} problem(s); kept the rules in force`);
    });
  });
  await agent.stop();
  await node.close();
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}

/** `stateDir`: this machine's agent state folder, or null for a peer's agent (its state is on its own machine). */
export async function agentStatusCommand(rules: RulesPort, stateDir: string | null, opts: { json?: boolean }, io: CliIO): Promise<number> {
  const where = stateDir ?? '(on the peer)';
  const st = await rules.agent();
  const last = (await rules.journal({ limit: 1 })).at(-1) ?? null;
  const problems = st.problems ?? [];
  if (opts.json) {
    io.out(`${JSON.stringify({ running: st.running, reason: st.reason, pid: st.pid ?? st.record?.pid ?? null, problems, agent: st.record, stateDir, lastEntry: last }, null, 2)}\n`);
  } else if (st.running) {
    const r = st.record;
    // Without its record (it could not write it: a full disk), the lock still says which agent runs.
    const head = r
      ? [
          `running: pid ${r.pid}, since ${new Date(r.startedAt).toISOString()}`,
          `engine: ${r.endpoint || '(default)'}`,
          `rules: ${r.rules} from ${r.rulesFile}${r.problems > 0 ? ` (${r.problems} problem(s): run \`outpost rules check\`)` : ''}`,
        ]
      : [`running: pid ${st.pid ?? '?'} (its record is not written)`];
    io.out(
      [
        ...head,
        `state: ${where}`,
        ...problems.map((p) => `problem: ${inert(p)}`),
        last ? `last: ${new Date(last.ts).toISOString()} ${last.kind}: ${inert(last.reason)}` : 'last: (journal empty)',
      ].join('\n') + '\n',
    );
  } else {
    io.out(`not running: ${st.reason}\nstate: ${where}\n${problems.map((p) => `problem: ${inert(p)}\n`).join('')}`);
  }
  // Scripts: 0 when an agent enforces the rules, 3 when none does.
  return st.running ? 0 : 3;
}

export function rulesCheck(file: string, opts: { json?: boolean }, io: CliIO): number {
  const loaded = loadRulesFile(file);
  if (loaded.missing) throw new BadInputError(`${file}: no such file.`);
  if (opts.json) {
    io.out(`${JSON.stringify({ file, valid: loaded.issues.length === 0, rules: loaded.ruleSet.rules.map((r) => r.name), issues: loaded.issues }, null, 2)}\n`);
  } else if (loaded.issues.length === 0) {
    io.out(`${file}: ${loaded.ruleSet.rules.length} rule(s), no problems\n`);
    for (const r of loaded.ruleSet.rules) io.out(`  ${r.name}: ${describeAction(r.action)}\n`);
  } else {
    for (const i of loaded.issues) io.err(`${inert(formatIssue(i))}\n`);
    io.err(`${file}: ${loaded.issues.length} problem(s)\n`);
  }
  return loaded.issues.length === 0 ? 0 : 2;
}

export async function rulesExplain(rules: RulesPort, name: string | undefined, opts: { json?: boolean }, io: CliIO): Promise<number> {
  const all = await rules.explain();
  const { problems } = all;
  let statuses: RuleStatus[] = all.statuses;
  const names = all.rules ?? [...new Set(all.statuses.map((s) => s.rule))];
  let unmatched = names.filter((r) => !statuses.some((s) => s.rule === r));
  if (name !== undefined) {
    if (names.includes(name)) {
      statuses = statuses.filter((s) => s.rule === name);
      unmatched = unmatched.filter((r) => r === name);
    } else {
      try {
        statuses = (await rules.explain(name)).statuses;
      } catch (err) {
        if (err instanceof BadInputError && err.details.field === 'container') throw new BadInputError(`\`${clip(name, 80)}\` is neither a rule nor a container.`);
        throw err;
      }
      unmatched = [];
    }
  }
  const agent = await rules.agent();
  if (opts.json) {
    io.out(`${JSON.stringify({ agent: { running: agent.running, reason: agent.reason, problems: agent.problems ?? [] }, problems, statuses, unmatched }, null, 2)}\n`);
    return 0;
  }
  io.out(agent.running ? `agent: running (pid ${agent.pid ?? agent.record?.pid ?? '?'})\n` : `agent: NOT RUNNING — nothing enforces these rules on this node (${agent.reason})\n`);
  // The agent's own problems first (a full disk, a rules file it could not load): what it enforces depends on them.
  for (const p of [...(agent.problems ?? []), ...problems]) io.out(`problem: ${inert(p)}\n`);
  if (statuses.length === 0 && unmatched.length === 0) io.out(names.length === 0 ? 'no rules (rules file missing or empty, and no container labels)\n' : 'no rule applies\n');
  for (const s of statuses) io.out(`${s.rule} → ${inert(s.container)}: ${inert(s.detail)}\n`);
  for (const r of unmatched) io.out(`${r}: matches no container now\n`);
  return 0;
}

export async function rulesPause(rules: RulesPort, container: string | undefined, opts: { for?: string }, io: CliIO): Promise<number> {
  // `--for ''` is a malformed duration, not "forever"; `--for 0s` would be a pause that is over as it is written.
  let until: number | null = null;
  if (opts.for !== undefined) {
    const ms = parseDuration(opts.for, '--for');
    if (ms <= 0) throw new BadInputError(`--for \`${inert(opts.for)}\` must be longer than zero; leave --for out to pause until \`outpost rules resume\`.`);
    until = Date.now() + ms;
  }
  const gone = (await rules.pause(container === undefined ? {} : { container }, until === null ? {} : { until }))?.gone === true;
  io.out(`rules paused for ${container ?? 'this node'}${until === null ? ' until resumed' : ` until ${new Date(until).toISOString()}`}${gone ? ' (no such container now; it has journal history)' : ''}\n`);
  return 0;
}

export async function rulesResume(rules: RulesPort, container: string | undefined, io: CliIO): Promise<number> {
  await rules.resume(container === undefined ? {} : { container });
  io.out(`rules resumed for ${container ?? 'this node'}\n`);
  return 0;
}

/** `outpost rules reset CONTAINER [--rule R]`: asks the agent to re-arm a container, and waits to see it done. */
export async function rulesReset(rules: RulesPort, paths: RulesPaths, container: string, opts: { rule?: string }, io: CliIO): Promise<number> {
  const r = await rules.reset(container, opts.rule);
  const state = r.state ?? (r.applied ? 'applied' : 'queued');
  if (r.gone) io.out(`${container} is not on this node now; resetting what the journal remembers of it\n`);
  switch (state) {
    case 'applied':
      for (const e of r.entries ?? []) io.out(`${inert(e.reason)}\n`);
      return 0;
    case 'queued':
      io.out(`reset of ${container} requested; no agent runs now, the next one to start applies it\n`);
      return 0;
    case 'waiting':
      io.err(`the agent (pid ${r.agentPid}) has not applied the reset yet; it will when it reads ${paths.stateDir}\n`);
      return 1;
  }
}

export function formatEntry(e: JournalEntry): string {
  const t = new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19);
  const kind = e.kind === 'outcome' ? (e.ok ? 'done' : 'FAILED') : e.kind;
  return `${t}  ${kind.padEnd(7)} ${inert(e.reason)}`;
}

export async function journalCommand(rules: RulesPort, opts: { follow?: boolean; json?: boolean; lines: number; container?: string }, io: CliIO): Promise<number> {
  const keep = (e: JournalEntry) => opts.container === undefined || e.container === opts.container;
  const print = (e: JournalEntry) => io.out(opts.json ? `${JSON.stringify(e)}\n` : `${formatEntry(e)}\n`);
  // A container neither the journal nor the node knows is refused by the port (a typo must not look like a quiet container).
  const entries = await rules.journal({ ...(opts.container !== undefined ? { container: opts.container } : {}), ...(opts.lines > 0 ? { limit: opts.lines } : {}) });
  for (const e of entries) print(e);
  const unreadable = entries.unreadable ?? 0;
  if (unreadable > 0) io.err(`(${unreadable} unreadable line(s) skipped)\n`);
  if (!opts.follow) return 0;
  await new Promise<void>((done) => {
    const stop = rules.followJournal((e) => {
      if (keep(e)) print(e);
    });
    const end = () => {
      stop();
      done();
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  });
  return 0;
}

/** The systemd unit that runs the agent as a service. */
/** Paths the service needs that PrivateTmp=yes would hide from it (under /tmp or /var/tmp): the executable, the script, the engine's socket, the rules file. */
export function pathsUnderTmp(opts: { env: NodeJS.ProcessEnv; nodePath: string; script: string; rulesFile?: string; sea?: boolean }): string[] {
  const host = opts.env.DOCKER_HOST ?? '';
  const socket = host.startsWith('unix://') ? host.slice('unix://'.length) : host.startsWith('/') ? host : null;
  const paths = [opts.nodePath, ...(opts.sea ? [] : [opts.script]), ...(socket ? [socket] : []), ...(opts.rulesFile ? [opts.rulesFile] : [])];
  return [...new Set(paths.filter((p) => /^\/+(var\/+)?tmp(\/|$)/.test(p)))];
}

export function systemdUnit(opts: { user: boolean; env: NodeJS.ProcessEnv; nodePath: string; script: string; rulesFile?: string; sea?: boolean }): string {
  // The single executable is the program itself (its arguments are all Outpost's; the agent sets
  // its memory limits from inside); the npm build runs under node with the limits as V8 flags.
  const program = opts.sea
    ? [unitValue(opts.nodePath, 'the path of the node executable')]
    : [unitValue(opts.nodePath, 'the path of the node executable'), ...NODE_MEMORY_FLAGS, unitValue(opts.script, 'the path of the outpost script')];
  const exec = [...program, 'agent', ...(opts.rulesFile ? ['--rules', unitValue(opts.rulesFile, '--rules')] : [])].map(quoteExecWord).join(' ');
  const env: string[] = [];
  if (opts.env.DOCKER_HOST) env.push(`Environment=${quoteEnvironment(`DOCKER_HOST=${unitValue(opts.env.DOCKER_HOST, 'DOCKER_HOST')}`)}`);
  if (!opts.user) {
    // A system service keeps its rules in /etc/outpost and its state in /var/lib/outpost.
    env.push('Environment=XDG_CONFIG_HOME=/etc', 'Environment=XDG_STATE_HOME=/var/lib');
  }
  return [
    '[Unit]',
    'Description=Outpost agent: enforces container restart and remediation rules on this node',
    ...(opts.user ? [] : ['After=docker.service network-online.target', 'Wants=docker.service']),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    ...env,
    ...(opts.user ? [] : ['StateDirectory=outpost', 'ConfigurationDirectory=outpost', 'StateDirectoryMode=0700']),
    // A supervisor must not be starved by what it supervises: in a restart storm on a 2-core box this
    // priority lowers the agent's reaction p99 (bench/results/agent.json: "storm" against "stormNice").
    // Only the system manager can grant a negative nice value: a user unit with it fails to start.
    ...(opts.user ? [] : ['Nice=-5']),
    'Restart=always',
    'RestartSec=2',
    'TimeoutStopSec=20',
    'NoNewPrivileges=yes',
    // A private /tmp would hide an executable or an engine socket that lives there.
    ...(pathsUnderTmp(opts).length > 0 ? [] : ['PrivateTmp=yes']),
    '',
    '[Install]',
    `WantedBy=${opts.user ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
}

/**
 * A value for a unit file, refused when it holds a control character: a
 * newline ends the line, and what follows it is a directive of its own
 * (`--rules $'/etc/x\nExecStartPre=…'` wrote an ExecStartPre= line).
 * No quoting can carry one; `what` names where the value came from.
 */
function unitValue(value: string, what: string): string {
  const bad = /[\u0000-\u001f\u007f]/.exec(value);
  if (bad) {
    const code = `\\x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')}`;
    throw new BadInputError(`${what} \`${inert(clip(value, 200))}\` holds a control character (${code}); a systemd unit cannot hold it: use a path without one.`, { field: what });
  }
  return value;
}

/**
 * One word of ExecStart= (systemd.service, "Command lines"): double-quoted
 * unless plainly safe, with `\` and `"` escaped, `$` doubled (no variable
 * expansion) and `%` doubled (no specifier: specifiers expand in unquoted
 * words too, so `%` never counts as safe).
 */
function quoteExecWord(word: string): string {
  if (/^[\w@+=:,./-]+$/.test(word)) return word;
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%');
  return /[\s"'\\;$]/.test(word) ? `"${escaped}"` : escaped;
}

/** An Environment= assignment: quoted the same way, but `$` stays one `$` (Environment= expands no variables, only specifiers). */
function quoteEnvironment(assignment: string): string {
  if (/^[\w@+=:,./-]+$/.test(assignment)) return assignment;
  return `"${assignment.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/** Whether this is the single executable (scripts/release.mjs), not node running the npm build. */
function isSingleExecutable(): boolean {
  // getBuiltinModule, not import(): a single executable's code cache leaves it no dynamic import.
  const sea = process.getBuiltinModule?.('node:sea') as typeof import('node:sea') | undefined;
  return sea?.isSea() === true;
}

export async function installService(
  opts: { user?: boolean; print?: boolean; unitDir?: string; now?: boolean; rules?: string },
  io: CliIO,
): Promise<number> {
  const sea = isSingleExecutable();
  const script = sea ? process.execPath : realpathSync(process.argv[1] ?? '');
  const unit = systemdUnit({
    user: opts.user === true,
    env: io.env,
    nodePath: realpathSync(process.execPath),
    script,
    sea,
    ...(opts.rules ? { rulesFile: resolve(opts.rules) } : {}),
  });
  const hidden = pathsUnderTmp({ env: io.env, nodePath: realpathSync(process.execPath), script, sea, ...(opts.rules ? { rulesFile: resolve(opts.rules) } : {}) });
  if (hidden.length > 0) {
    io.err(`note: no PrivateTmp=yes in the unit: the service needs ${hidden.map(inert).join(', ')}, which a private /tmp would hide; a path outside /tmp and /var/tmp is safer\n`);
  }
  if (opts.print) {
    io.out(unit);
    return 0;
  }
  const dir = opts.unitDir
    ? resolve(opts.unitDir)
    : opts.user
      ? join(io.env.XDG_CONFIG_HOME || join(io.env.HOME || homedir(), '.config'), 'systemd', 'user')
      : '/etc/systemd/system';
  if (!opts.user && !opts.unitDir && process.getuid?.() !== 0) {
    throw new NotAllowedError('Installing a system service needs root: run it with sudo, or use --user for a user service.');
  }
  const path = join(dir, 'outpost-agent.service');
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, unit, { mode: 0o644 });
  } catch (err) {
    throw new NotAllowedError(`Cannot write ${path}: ${(err as Error).message}`);
  }
  const ctl = opts.user ? 'systemctl --user' : 'systemctl';
  io.out(`wrote ${path}\n`);
  if (opts.now) {
    const { spawnSync } = await import('node:child_process');
    for (const args of [['daemon-reload'], ['enable', '--now', 'outpost-agent.service']]) {
      const r = spawnSync('systemctl', [...(opts.user ? ['--user'] : []), ...args], { stdio: 'inherit' });
      if (r.status !== 0) {
        io.err(`\`${ctl} ${args.join(' ')}\` failed${r.error ? `: ${r.error.message}` : ''}\n`);
        return 4;
      }
    }
    io.out('outpost-agent is enabled and running\n');
  } else {
    io.out(`next: ${ctl} daemon-reload && ${ctl} enable --now outpost-agent\n`);
  }
  if (!existsSync('/run/systemd/system')) io.err('note: systemd does not seem to be running on this machine\n');
  return 0;
}
