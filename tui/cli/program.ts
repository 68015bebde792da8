/**
 * The `outpost` command line (commander). Why this file is ~470 lines: it is
 * the table of every command and option with their argument checks; each
 * command's work is in its own file (rules-commands, peers-commands,
 * api-commands, logs-command, stats-command, ps-all-nodes), loaded lazily.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BadInputError, exitCodeFor, OutpostError } from '../../core/model/errors.js';
import { FileWriteError } from '../../core/model/write-file.js';
import type { Node } from '../../core/node.js';
import type { RulesPort } from '../../core/rules/port.js';
import { normalizeSignal, SIGNAL_HINT } from '../../core/model/signals.js';
import { registerApiCommands } from './api-commands.js';
import { versionText } from './version.js';

/** Targets of one multi-target command (`stop a b c`) acted on at once. */
const MULTI_TARGET_CONCURRENCY = 8;

/**
 * Output sinks, injected so tests can capture them. `out` and `err` are safe
 * for a terminal: the program's sinks (tui/main.ts) make every control
 * character inert on stdout when it is a terminal and on stderr always
 * (diagnostics: a log file read later with `cat` is a terminal too).
 * `outRaw`/`errRaw` pass bytes through: Outpost's own screen control and
 * `logs --raw`, or logs written to a pipe or a file.
 */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  outRaw?: (text: string) => void;
  errRaw?: (text: string) => void;
  /** stdout is a terminal. */
  isTTY: boolean;
  /** stderr is a terminal (default: as stdout). */
  errIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
  /** Asks a person a question (stdin and stdout are a terminal); absent when nobody can answer. */
  ask?: (question: string) => Promise<string>;
}

export interface GlobalOptions {
  host?: string;
}

function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number.`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}.`);
    return n;
  };
}

/** One `outpost info` value on its line: labels as key=value pairs, not "[object Object]". */
export function infoValue(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(infoValue).join(', ');
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length === 0 ? '-' : entries.map(([k, x]) => `${k}=${infoValue(x)}`).join(', ');
  }
  return String(v);
}

function signalArg(value: string): string {
  const sig = normalizeSignal(value);
  if (!sig) throw new InvalidArgumentError(`\`${value.slice(0, 40)}\` is not ${SIGNAL_HINT}.`);
  return sig;
}

/** Where the rule agent's files are: the rules file, and the state directory (journal, maintenance, agent record). */
export interface RulesPaths {
  rulesFile: string;
  stateDir: string;
}

/** The composition root of the CLI's node: this machine's engine, with its rules port on the agent's files. */
async function nodeFor(program: Command, env: NodeJS.ProcessEnv, paths?: RulesPaths): Promise<Node> {
  const { LocalNode } = await import('../../core/docker/local-node.js');
  const { parseHostUrl, resolveEndpoint } = await import('../../core/docker/endpoint.js');
  // The rules code (engine, YAML, journal) loads only when a command asks the node for its rules.
  const { localRules } = await import('../../core/agent/lazy-rules.js');
  const g = program.opts<GlobalOptions>();
  const endpoint = g.host ? parseHostUrl(g.host, '--host') : resolveEndpoint(env);
  const { thisNodeName } = await import('../../core/peers/node-name.js');
  const { stateDir } = await import('../../core/agent/store.js');
  // The agent's state directory: a start or restart of a container failover fenced here is refused (FencedError) unless overridden.
  return new LocalNode({ name: thisNodeName(env), endpoint, rules: localRules(env, paths), stateDir: paths?.stateDir ?? stateDir(env) });
}

/**
 * Builds the `outpost` command line. Each action imports what it needs, so
 * `outpost --help` loads neither dockerode nor systeminformation.
 */
export function buildProgram(io: CliIO, result: { code: number } = { code: 0 }): Command {
  const program = new Command('outpost');
  program
    .description('Manage the Docker containers of this edge node and its peers.\n\nWith no command, `outpost` opens the terminal UI (press ? in it for the keys).')
    .usage('[options] [command]')
    .version(versionText(), '-V, --version', 'print the Outpost version, its Node runtime and the platform')
    .option('-H, --host <url>', 'engine to use (unix://, tcp://, ssh://); default: DOCKER_HOST, docker context, /var/run/docker.sock')
    .option('--read-only', 'terminal UI without any action that changes containers')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  // No subcommand: the terminal UI. Anything else left over is a command that does not exist.
  program.action(async (opts: { readOnly?: boolean; host?: string }) => {
    if (program.args.length > 0) {
      // Commander's own message and suggestion: "unknown command 'sp'" … "(Did you mean ps?)".
      (program as unknown as { unknownCommand(): void }).unknownCommand();
      return;
    }
    const { parseHostUrl, resolveEndpoint } = await import('../../core/docker/endpoint.js');
    const endpoint = opts.host ? parseHostUrl(opts.host, '--host') : resolveEndpoint(io.env);
    // Ink draws only a final frame when CI or CONTINUOUS_INTEGRATION is set (it decides when it
    // loads). A person at a terminal gets the interactive UI whatever their environment says.
    if (process.stdout.isTTY && process.stdin.isTTY) {
      delete process.env.CI;
      delete process.env.CONTINUOUS_INTEGRATION;
    }
    const { runTui } = await import('../app/run.js');
    result.code = await runTui({ endpoint, readOnly: opts.readOnly === true });
  });

  /** The node a command acts on: `--node NAME` (a peer from the peers file, or `local`), else this machine. */
  const nodeNamed = async (name: string | undefined): Promise<Node> => {
    if (name === undefined) return nodeFor(program, io.env);
    const { nodeByName } = await import('../../core/peers/fleet-from-config.js');
    return nodeByName(io.env, name, () => nodeFor(program, io.env));
  };
  const withNode = <A extends unknown[]>(fn: (node: Node, ...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      // Commander passes the command last; its options hold --node.
      const cmd = args[args.length - 1] as Command;
      const node = await nodeNamed(cmd.opts<{ node?: string }>().node);
      try {
        await fn(node, ...args);
      } finally {
        await node.close();
      }
    };
  const nodeOpt = (c: Command) => c.option('--node <name>', 'the node to act on (default: this machine; `outpost peers list` names the others)');

  nodeOpt(
    program
      .command('ps')
      .description('list containers')
      .option('-a, --all', 'include stopped containers')
      .option('--all-nodes', 'list the containers of every node (this machine and its peers), with a NODE column')
      .option('--json', 'print a JSON array (fields: `outpost docs cli`)')
      .option('-q, --quiet', 'print only container IDs')
      .option('-w, --wide', 'do not truncate; add the command column'),
  ).action(async (opts: { all?: boolean; allNodes?: boolean; node?: string; json?: boolean; quiet?: boolean; wide?: boolean }, cmd: Command) => {
    if (opts.allNodes) {
      if (opts.node !== undefined) throw new BadInputError('--all-nodes and --node: give one of them.');
      const { psAllNodes } = await import('./ps-all-nodes.js');
      const { buildFleet, PEER_REQUEST_DEADLINE_MS } = await import('../../core/peers/fleet-from-config.js');
      const fleet = await buildFleet(io.env, await nodeFor(program, io.env), { requestTimeoutMs: PEER_REQUEST_DEADLINE_MS });
      try {
        await psAllNodes(fleet, opts, io);
      } finally {
        await fleet.close();
      }
      return;
    }
    await withNode(async (node, o: typeof opts, _cmd: Command) => {
      const list = await node.list({ all: o.all === true });
      if (o.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      if (o.quiet) return io.out(list.map((c) => `${c.id.slice(0, 12)}\n`).join(''));
      const { renderTable } = await import('../presentation/format.js');
      const { psColumns } = await import('../presentation/container-row.js');
      io.out(`${renderTable(list, psColumns(Date.now(), o.wide === true))}\n`);
    })(opts, cmd);
  });

  nodeOpt(program
    .command('inspect')
    .description("show a container's full configuration and state as JSON")
    .argument('<container>', 'name or ID prefix')
    .option('--raw', "print the engine's own inspect document"))
    .action(
      withNode(async (node, ref: string, opts: { raw?: boolean }) => {
        const details = await node.inspect(ref);
        if (opts.raw) return io.out(`${JSON.stringify(details.raw, null, 2)}\n`);
        const { raw: _raw, ...rest } = details;
        io.out(`${JSON.stringify(rest, null, 2)}\n`);
      }),
    );

  nodeOpt(program
    .command('logs')
    .description("print a container's logs")
    .argument('<container>', 'name or ID prefix')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --tail <lines>', 'lines from the end ("all" for everything)', 'all')
    .option('--since <when>', 'only lines after: a duration (10m), an RFC 3339 time or Unix seconds')
    .option('-t, --timestamps', 'show timestamps')
    .option('--raw', 'print control characters as they are (default when not a terminal)'))
    .action(
      withNode(async (node, ref: string, opts: { follow?: boolean; tail: string; since?: string; timestamps?: boolean; raw?: boolean }) => {
        const { runLogs } = await import('./logs-command.js');
        await runLogs(node, ref, opts, io);
      }),
    );

  const lifecycle = (name: string, description: string, configure: (c: Command) => Command, run: (node: Node, ref: string, opts: Record<string, unknown>) => Promise<void>) => {
    configure(
      program
        .command(name)
        .description(description)
        .argument('<containers...>', 'names or ID prefixes')
        .option('--node <name>', 'the node to act on (default: this machine; `outpost peers list` names the others)'),
    ).action(
      withNode(async (node, refs: string[], opts: Record<string, unknown>) => {
        // Side by side, as docker does (`stop a b` waited for a's timeout before asking b), at
        // most MULTI_TARGET_CONCURRENCY at once; each is printed as it is done.
        const { mapLimit } = await import('../../core/shared/map-limit.js');
        let failed: unknown = null;
        await mapLimit(refs, MULTI_TARGET_CONCURRENCY, async (ref) => {
          try {
            await run(node, ref, opts);
            io.out(`${ref}\n`);
          } catch (err) {
            failed ??= err;
            io.err(`Error: ${ref}: ${err instanceof Error ? err.message : String(err)}\n`);
          }
        });
        if (failed) throw new ReportedError(failed);
      }),
    );
  };

  const overrideFence = (c: Command) =>
    c.option('--override-fence', 'start even a container that placement failover fenced on its node (a replacement may run elsewhere: it may then run twice)');
  lifecycle('start', 'start stopped containers', overrideFence, (n, r, o) => n.start(r, o.overrideFence === true ? { overrideFence: true } : {}));
  lifecycle(
    'stop',
    'stop running containers (SIGTERM, then SIGKILL after the timeout)',
    (c) => c.addOption(new Option('-t, --time <seconds>', 'seconds to wait before killing').argParser(intArg('--time', 0, 86400))),
    (n, r, o) => n.stop(r, o.time === undefined ? {} : { timeoutSeconds: o.time as number }),
  );
  lifecycle(
    'restart',
    'restart containers',
    (c) => overrideFence(c.addOption(new Option('-t, --time <seconds>', 'seconds to wait before killing').argParser(intArg('--time', 0, 86400)))),
    (n, r, o) => n.restart(r, { ...(o.time === undefined ? {} : { timeoutSeconds: o.time as number }), ...(o.overrideFence === true ? { overrideFence: true } : {}) }),
  );
  lifecycle(
    'kill',
    'send a signal to containers (default SIGKILL)',
    (c) => c.addOption(new Option('-s, --signal <signal>', 'signal name or number').default('SIGKILL').argParser(signalArg)),
    (n, r, o) => n.kill(r, o.signal as string),
  );
  lifecycle(
    'rm',
    'remove containers',
    (c) => c.option('-f, --force', 'kill a running container first').option('-v, --volumes', 'remove its anonymous volumes too'),
    (n, r, o) => n.remove(r, { force: o.force === true, volumes: o.volumes === true }),
  );
  lifecycle('pause', 'pause containers', (c) => c, (n, r) => n.pause(r));
  lifecycle('unpause', 'unpause containers', (c) => c, (n, r) => n.unpause(r));

  nodeOpt(program
    .command('stats')
    .description('live CPU, memory, network and block I/O of running containers')
    .option('--once', 'print one sample and exit')
    .option('--json', 'JSON: an array with --once, otherwise one array per line')
    .addOption(new Option('--interval <ms>', 'milliseconds between samples').default(2000).argParser(intArg('--interval', 200, 3_600_000))))
    .action(
      withNode(async (node, opts: { once?: boolean; json?: boolean; interval: number }) => {
        const { runStats } = await import('./stats-command.js');
        await runStats(node, opts, io);
      }),
    );

  nodeOpt(program
    .command('host')
    .description("this node's CPU, memory, disks, temperature, load and network")
    .option('--json', 'print JSON (fields: `outpost docs cli`)'))
    .action(
      withNode(async (node, opts: { json?: boolean }) => {
        if (!node.reportsHost) {
          throw new BadInputError(`${node.name} reports no host figures: it is an engine-only peer, reached through its Docker engine alone, whose API has none. Run \`outpost agent\` on it and add it as an agent peer to see them.`);
        }
        const host = await node.host();
        if (!host) throw new BadInputError(`${node.name} reports no host figures.`);
        if (opts.json) return io.out(`${JSON.stringify(host, null, 2)}\n`);
        const { formatHost } = await import('../presentation/container-row.js');
        io.out(`${formatHost(host)}\n`);
      }),
    );

  nodeOpt(program
    .command('info')
    .description('the engine this node talks to')
    .option('--json', 'print JSON'))
    .action(
      withNode(async (node, opts: { json?: boolean }) => {
        const info = await node.info();
        if (opts.json) return io.out(`${JSON.stringify(info, null, 2)}\n`);
        io.out(
          Object.entries(info)
            .map(([k, v]) => `${k.padEnd(14)} ${infoValue(v)}\n`)
            .join(''),
        );
      }),
    );

  // ---- rules, agent, journal ----------------------------------------------
  const rulesOpts = (c: Command) =>
    c
      .option('--rules <file>', 'rules file (default: $XDG_CONFIG_HOME/outpost/rules.yaml)')
      .option('--state-dir <dir>', 'journal and agent state (default: $XDG_STATE_HOME/outpost)');
  const rulesModule = () => import('./rules-commands.js');
  const paths = async (opts: { rules?: string; stateDir?: string }) => (await rulesModule()).pathsFrom(io, opts);
  /**
   * Runs a rules command on the node's rules port. `engineOptional`: the command reads the
   * agent's files first (agent status, journal), so an engine address that does not parse
   * fails only the checks that need the engine, as before the port.
   */
  const withRules = async (opts: { rules?: string; stateDir?: string; node?: string }, fn: (rules: RulesPort, p: RulesPaths) => Promise<number>, engineOptional = false): Promise<void> => {
    const p = await paths(opts);
    const { meansThisMachine, thisNodeName } = await import('../../core/peers/node-name.js');
    if (opts.node !== undefined && !meansThisMachine(opts.node, thisNodeName(io.env))) {
      // A peer's rules, through its agent: its files are its own, so local paths make no sense here.
      if (opts.rules !== undefined || opts.stateDir !== undefined) throw new BadInputError('--node: --rules and --state-dir name this machine\'s files; a peer\'s agent uses its own.', { field: 'node' });
      const peer = await nodeNamed(opts.node);
      try {
        if (!peer.rules) throw new BadInputError(`--node: ${opts.node} is an engine-only peer: it has no rule agent to ask (add it through its agent to see its rules).`, { field: 'node' });
        result.code = await fn(peer.rules, p);
      } finally {
        await peer.close();
      }
      return;
    }
    let node: Node;
    try {
      node = await nodeFor(program, io.env, p);
    } catch (err) {
      if (!engineOptional) throw err;
      const { LocalRules } = await import('../../core/agent/local-rules.js');
      const offline = { name: thisNodeName(io.env), containers: () => [], list: () => Promise.reject(err), statsOnce: () => Promise.reject(err) };
      result.code = await fn(new LocalRules(offline, p), p);
      return;
    }
    try {
      if (!node.rules) throw new BadInputError(`The node ${node.name} has no rule engine to ask.`);
      result.code = await fn(node.rules, p);
    } finally {
      await node.close();
    }
  };

  const agent = rulesOpts(program.command('agent').description('run the rule engine for this node in the foreground (a service)'));
  agent.action(async (opts: { rules?: string; stateDir?: string }) => {
    const { runAgent } = await rulesModule();
    const { parseHostUrl, resolveEndpoint, describeEndpoint } = await import('../../core/docker/endpoint.js');
    const g = program.opts<GlobalOptions>();
    const endpoint = g.host ? parseHostUrl(g.host, '--host') : resolveEndpoint(io.env);
    const { LocalNode } = await import('../../core/docker/local-node.js');
    // Started by hand through the bin (no V8 flags on its interpreter line): the unit's limits.
    await (await import('./node-flags.js')).applyMemoryFlags();
    const { thisNodeName } = await import('../../core/peers/node-name.js');
    const node = new LocalNode({ name: thisNodeName(io.env), endpoint, onError: (m) => io.err(`${new Date().toISOString()} ${m}\n`) });
    result.code = await runAgent(node, describeEndpoint(endpoint), await paths(opts), io);
  });
  nodeOpt(rulesOpts(agent.command('status').description('whether an agent enforces the rules (exit 0) or not (exit 3)')))
    .option('--json', 'print JSON')
    .action(async (_opts: { rules?: string; stateDir?: string; json?: boolean }, cmd: Command) => {
      // `agent` takes --state-dir and --rules too, and takes them first: read them wherever they were given.
      const opts = cmd.optsWithGlobals<{ rules?: string; stateDir?: string; json?: boolean; node?: string }>();
      const m = await rulesModule();
      // A peer's agent keeps its state on its own machine: this machine's folder is not named for it.
      const mine = opts.node === undefined || (await import('../../core/peers/node-name.js')).meansThisMachine(opts.node, (await import('../../core/peers/node-name.js')).thisNodeName(io.env));
      await withRules(opts, (r, p) => m.agentStatusCommand(r, mine ? p.stateDir : null, opts, io), true);
    });
  agent
    .command('install')
    .description('install the systemd unit that runs the agent as a service')
    .option('--user', 'a user service (~/.config/systemd/user) instead of a system one')
    .option('--print', 'print the unit instead of installing it')
    .option('--now', 'also run systemctl daemon-reload and enable --now')
    .option('--unit-dir <dir>', 'write the unit into this directory')
    .option('--rules <file>', 'rules file the service uses')
    .action(async (_opts: { user?: boolean; print?: boolean; now?: boolean; unitDir?: string; rules?: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ user?: boolean; print?: boolean; now?: boolean; unitDir?: string; rules?: string; host?: string }>();
      // `-H URL` names the engine the service manages, as DOCKER_HOST does (it was dropped: the unit managed the default socket).
      if (opts.host !== undefined) (await import('../../core/docker/endpoint.js')).parseHostUrl(opts.host, '--host');
      const env = opts.host !== undefined ? { ...io.env, DOCKER_HOST: opts.host } : io.env;
      result.code = await (await rulesModule()).installService(opts, { ...io, env });
    });

  const rules = program.command('rules').description('check, explain and pause the restart and remediation rules');
  rules
    .command('check')
    .description('validate a rules file (exit 2 when it has problems)')
    .argument('[file]', 'rules file (default: $XDG_CONFIG_HOME/outpost/rules.yaml)')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { json?: boolean }) => {
      const m = await rulesModule();
      result.code = m.rulesCheck(file ?? m.pathsFrom(io, {}).rulesFile, opts, io);
    });
  nodeOpt(rulesOpts(rules.command('explain').description('what each rule would do now, and why')))
    .argument('[name]', 'a rule or a container')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: { rules?: string; stateDir?: string; json?: boolean }) => {
      const m = await rulesModule();
      await withRules(opts, (r) => m.rulesExplain(r, name, opts, io));
    });
  nodeOpt(rulesOpts(rules.command('pause').description('silence the rules on this node, or for one container')))
    .argument('[container]', 'container name (default: the whole node)')
    .option('--for <duration>', 'for how long (default: until resumed)')
    .action(async (container: string | undefined, opts: { rules?: string; stateDir?: string; for?: string }) => {
      const m = await rulesModule();
      await withRules(opts, (r) => m.rulesPause(r, container, opts, io));
    });
  nodeOpt(rulesOpts(rules.command('resume').description('end a pause')))
    .argument('[container]', 'container name (default: the whole node)')
    .action(async (container: string | undefined, opts: { rules?: string; stateDir?: string }) => {
      const m = await rulesModule();
      await withRules(opts, (r) => m.rulesResume(r, container, io));
    });

  nodeOpt(rulesOpts(rules.command('reset').description("re-arm a container: forget its back-off, budget and give-up")))
    .argument('<container>', 'container name')
    .option('--rule <name>', 'only this rule')
    .action(async (container: string, opts: { rules?: string; stateDir?: string; rule?: string }) => {
      const m = await rulesModule();
      await withRules(opts, (r, p) => m.rulesReset(r, p, container, opts, io));
    });

  nodeOpt(rulesOpts(program.command('journal').description("what the rule engine decided and did, and why")))
    .option('-f, --follow', 'keep printing new entries')
    .option('--json', 'one JSON object per line')
    .option('-c, --container <name>', 'only entries about this container')
    .addOption(new Option('-n, --lines <n>', 'entries from the end (0 for all)').default(50).argParser(intArg('--lines', 0, 10_000_000)))
    .action(async (opts: { rules?: string; stateDir?: string; follow?: boolean; json?: boolean; container?: string; lines: number }) => {
      // The engine is asked only when the journal has no entry about the container named.
      const m = await rulesModule();
      await withRules(opts, (r) => m.journalCommand(r, opts, io), true);
    });

  // ---- the reference -----------------------------------------------------------
  program
    .command('docs')
    .description('the reference, carried inside this build: cli, rules, placement, api')
    .argument('[topic]', 'one of cli, rules, placement, api (none: the list)')
    .action(async (topic: string | undefined) => {
      const { docsText } = await import('./docs-command.js');
      io.out(docsText(topic));
    });

  // ---- peers ----------------------------------------------------------------
  const peersModule = () => import('./peers-commands.js');
  const peers = program.command('peers').description('the nodes beside this one ($XDG_CONFIG_HOME/outpost/peers.json; tokens in peer-tokens.json, mode 0600)');
  peers
    .command('add')
    .description("add a peer: an engine URL (ssh://, tcp://, unix://), an agent's https URL, or a join code")
    .argument('<url-or-join-code>', 'where the peer is')
    .option('--name <name>', 'its name (default: from the host name)')
    .option('--token <token>', "the agent's token (agent peers)")
    .option('--fingerprint <hex>', "the agent certificate's SHA-256 (default: fetched, shown and confirmed on a terminal)")
    .option('--kind <kind>', 'agent or engine (default: from the URL)')
    .action(async (arg: string, opts: { name?: string; token?: string; fingerprint?: string; kind?: string }) => {
      result.code = await (await peersModule()).peersAdd(arg, opts, io);
    });
  peers
    .command('list')
    .description('the configured peers')
    .option('--json', 'print JSON')
    .option('--check', 'connect to each and show its state and latency')
    .action(async (opts: { json?: boolean; check?: boolean }) => {
      result.code = await (await peersModule()).peersList(opts, io);
    });
  peers
    .command('remove')
    .description('remove a peer (and its token)')
    .argument('<name>', 'the peer')
    .action(async (name: string) => {
      result.code = (await peersModule()).peersRemove(name, io);
    });
  peers
    .command('rename')
    .description('rename a peer')
    .argument('<old>', 'its name now')
    .argument('<new>', 'its new name')
    .action(async (from: string, to: string) => {
      result.code = (await peersModule()).peersRename(from, to, io);
    });

  // ---- placement --------------------------------------------------------------
  const placementModule = () => import('./placement-commands.js');
  /** The fleet placement acts on: this machine and the peers file's nodes (this machine alone without peers). */
  const withFleet = async (fn: (nodes: readonly Node[]) => Promise<number>): Promise<number> => {
    const { buildFleet, PEER_REQUEST_DEADLINE_MS } = await import('../../core/peers/fleet-from-config.js');
    const fleet = await buildFleet(io.env, await nodeFor(program, io.env), { requestTimeoutMs: PEER_REQUEST_DEADLINE_MS });
    try {
      return await fn(fleet.nodes());
    } finally {
      await fleet.close();
    }
  };
  program
    .command('place')
    .description('choose the node(s) for a workload, explain every node\'s verdict, and run it there (`outpost docs placement`)')
    .argument('<file>', 'the workload spec (YAML or JSON)')
    .option('--dry-run', 'print the table only (exit 3 when nothing fits)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const m = await placementModule();
      result.code = await withFleet((nodes) => m.placeCommand(nodes, file, opts, io));
    });
  const workloads = program.command('workloads').description('placed workloads: check a spec, list where they run, remove one');
  workloads
    .command('list', { isDefault: true })
    .description('every placed workload, its replicas and where they run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const m = await placementModule();
      result.code = await withFleet((nodes) => m.workloadsList(nodes, opts, io));
    });
  workloads
    .command('check')
    .description('validate a workload spec (exit 2 when it has problems)')
    .argument('<file>', 'the workload spec')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      result.code = (await placementModule()).workloadsCheck(file, opts, io);
    });
  workloads
    .command('rm')
    .description("remove a placed workload's containers from every node")
    .argument('<name>', 'the workload')
    .action(async (name: string) => {
      const m = await placementModule();
      result.code = await withFleet((nodes) => m.workloadsRemove(nodes, name, io));
    });

  registerApiCommands(program, io);

  // Only the top level takes leftovers (to name an unknown command); set after the subcommands
  // are made so that they keep refusing extra arguments.
  program.allowExcessArguments(true);
  return program;
}

/** An error already printed per container; only its exit code is left to give. */
export class ReportedError extends Error {
  constructor(readonly original: unknown) {
    super('reported');
  }
}

/** Runs the CLI and returns the process exit code (never throws). */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage mistakes exit 2 like most Unix tools.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ReportedError) return exitCodeFor(err.original);
    if (err instanceof OutpostError) {
      io.err(`Error: ${err.message}\n`);
      return exitCodeFor(err);
    }
    // A full disk is the machine's state, not a bug: its message names the file and the remedy.
    if (err instanceof FileWriteError) {
      io.err(`Error: ${err.message}\n`);
      return 1;
    }
    io.err(`Error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
