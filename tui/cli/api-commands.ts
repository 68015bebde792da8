/**
 * The agent API's command line: `outpost agent --listen ADDR:PORT
 * [--insecure-http]` and `outpost tokens create|list|revoke`. Registered on
 * the program by one call in program.ts; each action imports what it needs.
 */
import { Option, type Command } from 'commander';
import { BadInputError } from '../../core/model/errors.js';
import type { CliIO } from './program.js';

/** `HOST:PORT`, `[V6]:PORT`; the port 0 to 65535. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new BadInputError(`--listen \`${value.slice(0, 80)}\` must be ADDRESS:PORT, e.g. 0.0.0.0:8443, 127.0.0.1:8443 or [::1]:8443.`, { field: 'listen' });
  return { host: (m[1] ?? m[2]) as string, port };
}

/** An address a peer can reach this agent at, for the join code (a wildcard bind names no address). */
async function advertisedHost(host: string): Promise<string> {
  if (host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
  const os = await import('node:os');
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return os.hostname();
}

export function registerApiCommands(program: Command, io: CliIO): void {
  const agent = program.commands.find((c) => c.name() === 'agent');
  if (agent) {
    agent
      .option('--listen <address:port>', 'also serve this node over HTTPS (the agent API: `outpost docs api`), e.g. 0.0.0.0:8443')
      .option('--insecure-http', 'plain HTTP instead of HTTPS (only on a loopback address)');
    agent.hook('preAction', async (_cmd, action) => {
      if (action !== agent) return;
      const opts = agent.opts<{ listen?: string; insecureHttp?: boolean; rules?: string; stateDir?: string }>();
      if (!opts.listen) {
        if (opts.insecureHttp) throw new BadInputError('--insecure-http goes with --listen.');
        return;
      }
      try {
        await startAgentApi(program, agent, opts as { listen: string; insecureHttp?: boolean; rules?: string; stateDir?: string }, io);
      } catch (err) {
        // The rules are enforced whatever becomes of the API (a full disk that cannot take the
        // first certificate, a port taken): a crash loop is still restarted, and the log says why
        // the node is not served to its peers. Bad input (a malformed --listen) still stops here.
        if (err instanceof BadInputError) throw err;
        io.err(`${new Date().toISOString()} api: not serving this node to its peers: ${err instanceof Error ? err.message : String(err)}; the rules are enforced all the same\n`);
      }
    });
  }

  const stateOpt = (c: Command) => c.option('--state-dir <dir>', 'agent state (default: $XDG_STATE_HOME/outpost)');
  const dirOf = async (opts: { stateDir?: string }) => (await import('./rules-commands.js')).pathsFrom(io, opts).stateDir;
  const tokens = program.command('tokens').description("the agent API's tokens (roles: viewer, operator, admin; peer for another agent)");
  stateOpt(tokens.command('create').description('make a token; prints it alone on stdout (it is shown only once)'))
    .argument('<name>', 'a name for it (who or what uses it)')
    .addOption(new Option('--role <role>', 'viewer (read), operator (lifecycle, logs, exec, pause rules), admin (tokens, rules file), peer (another agent: failover and placement only)').choices(['viewer', 'operator', 'admin', 'peer']).makeOptionMandatory())
    .action(async (name: string, opts: { role: 'viewer' | 'operator' | 'admin' | 'peer'; stateDir?: string }) => {
      const { createToken } = await import('../../core/api/tokens.js');
      io.out(`${createToken(await dirOf(opts), name, opts.role)}\n`);
    });
  stateOpt(tokens.command('join-code').description('a join code for `outpost peers add CODE` on another machine: good once, for --ttl, for --role (never the admin token)'))
    .addOption(new Option('--role <role>', 'peer (another agent: failover and placement), operator or viewer (a person)').choices(['peer', 'operator', 'viewer']).default('peer'))
    .option('--ttl <duration>', 'how long it is good: 1m to 7d', '1h')
    .option('--url <url>', "this agent's address as the other machine reaches it (default: the one the running agent announced)")
    .action(async (opts: { role: 'peer' | 'operator' | 'viewer'; ttl: string; url?: string; stateDir?: string }) => {
      const dir = await dirOf(opts);
      const { parseDuration } = await import('../../core/model/duration.js');
      const ttl = parseDuration(opts.ttl, '--ttl', { min: 60_000, max: 7 * 86_400_000 });
      const url = opts.url ?? (await announcedUrl(dir));
      const { fingerprintOfPem, CERT_FILE } = await import('../../core/api/tls.js');
      const { readFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      let fingerprint: string;
      try {
        fingerprint = fingerprintOfPem(readFileSync(join(dir, CERT_FILE), 'utf8'));
      } catch {
        throw new BadInputError(`No agent certificate in ${dir}: start \`outpost agent --listen ADDR:PORT\` once first (it makes one).`, { field: 'state-dir' });
      }
      const { createEnrolment } = await import('../../core/api/enrol.js');
      const { encodeJoinCode } = await import('../../core/api/join-code.js');
      const made = createEnrolment(dir, opts.role, ttl);
      const code = encodeJoinCode({ url, fingerprint, secret: made.secret });
      io.out(`${code}\n`);
      io.err(`${opts.role === 'operator' ? 'an' : 'a'} ${opts.role} join code for ${url}, good once until ${new Date(made.expires).toISOString()}\n`);
    });
  stateOpt(tokens.command('list').description('the tokens: name, role, created (never the tokens themselves)'))
    .option('--json', 'print JSON')
    .action(async (opts: { stateDir?: string; json?: boolean }) => {
      const { readTokens } = await import('../../core/api/tokens.js');
      const list = readTokens(await dirOf(opts)).map((t) => ({ name: t.name, role: t.role, created: new Date(t.created).toISOString() }));
      if (opts.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      const w = Math.max(4, ...list.map((t) => t.name.length));
      io.out(`${'NAME'.padEnd(w)}  ROLE      CREATED\n${list.map((t) => `${t.name.padEnd(w)}  ${t.role.padEnd(8)}  ${t.created}\n`).join('')}`);
    });
  stateOpt(tokens.command('revoke').description('revoke a token (a running agent refuses it at once and ends its streams)'))
    .argument('<name>', 'the token name')
    .action(async (name: string, opts: { stateDir?: string }) => {
      const { readTokens, revokeToken } = await import('../../core/api/tokens.js');
      const dir = await dirOf(opts);
      revokeToken(dir, name);
      io.err(`revoked ${name}\n`);
      // Nobody can change tokens, rules or placement through the API now: say how to get that back.
      if (!readTokens(dir).some((t) => t.role === 'admin')) io.err('warning: no admin token is left; make one on this machine with `outpost tokens create NAME --role admin`.\n');
    });
}

/** The running agent's address as it announced it (state directory). */
const ANNOUNCED_FILE = 'api.json';

async function announcedUrl(stateDir: string): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  try {
    const doc = JSON.parse(readFileSync(join(stateDir, ANNOUNCED_FILE), 'utf8')) as { url?: unknown };
    if (typeof doc.url === 'string' && /^https?:\/\/[^\s/]+$/.test(doc.url)) return doc.url;
  } catch {
    // fall through
  }
  throw new BadInputError(`No address of this agent is known (${join(stateDir, ANNOUNCED_FILE)} is missing or damaged: has \`outpost agent --listen\` run here?); give it with --url https://HOST:PORT.`, { field: 'url' });
}

/** Starts the API next to the rule agent: its own LocalNode with the rules port on the agent's files; stopped on SIGTERM/SIGINT. */
async function startAgentApi(program: Command, agent: Command, opts: { listen: string; insecureHttp?: boolean; rules?: string; stateDir?: string }, io: CliIO): Promise<void> {
  const { host, port } = parseListen(opts.listen);
  const { ApiServer, isLoopback } = await import('../../core/api/server.js');
  if (opts.insecureHttp && !isLoopback(host)) throw new BadInputError(`--insecure-http is allowed only on a loopback address (127.0.0.1, ::1), not ${host}: tokens would cross the network in clear.`, { field: 'listen' });
  const paths = (await import('./rules-commands.js')).pathsFrom(io, opts);
  (await import('../../core/agent/agent.js')).assertNoOtherAgent(paths.stateDir);
  const { loadOrCreateIdentity } = await import('../../core/api/tls.js');
  const { createToken, readTokens, tokensPath } = await import('../../core/api/tokens.js');
  const { existsSync, mkdirSync } = await import('node:fs');
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const identity = opts.insecureHttp ? undefined : await loadOrCreateIdentity(paths.stateDir);
  const firstToken = existsSync(tokensPath(paths.stateDir)) ? null : createToken(paths.stateDir, 'admin', 'admin');
  const { LocalNode } = await import('../../core/docker/local-node.js');
  const { LocalRules } = await import('../../core/agent/local-rules.js');
  const { parseHostUrl, resolveEndpoint } = await import('../../core/docker/endpoint.js');
  const g = program.opts<{ host?: string }>();
  const endpoint = g.host ? parseHostUrl(g.host, '--host') : resolveEndpoint(io.env);
  const log = (line: string) => io.err(`${new Date().toISOString()} ${line}\n`);
  const { thisNodeName } = await import('../../core/peers/node-name.js');
  const { loadPlacementConfig, placementFile } = await import('../../core/placement/controller.js');
  const { DEFAULT_RUN_POLICY } = await import('../../core/placement/run-policy.js');
  const placement = loadPlacementConfig(placementFile(io.env));
  // What this node runs for anyone else (the API's run, failover, a rule's move): its own policy,
  // the default one (no host root, engine socket or mknod) when placement.yaml says none.
  const runPolicy = placement.config?.runPolicy ?? DEFAULT_RUN_POLICY;
  const node = new LocalNode({ name: thisNodeName(io.env), endpoint, rules: (n) => new LocalRules(n, paths), onError: log, runPolicy, stateDir: paths.stateDir });
  node.connect().catch((err: unknown) => log(`api: engine unreachable (${(err as Error).message}); retrying in the background`));
  let served: import('../../core/api/server.js').ApiServer | null = null;
  const controller = await failoverController(node, paths.stateDir, io, log, placement, identity, (e) => served?.auditLink(e));
  const server = await ApiServer.start({ node, stateDir: paths.stateDir, host, port, ...(identity ? { identity } : {}), insecureHttp: opts.insecureHttp === true, log, placement: () => controller });
  served = server;
  const advertised = `${identity ? 'https' : 'http'}://${await advertisedHost(host)}:${server.port}`;
  // Where this agent is reached, for `outpost tokens join-code` (which runs beside it).
  const { writeAtomic } = await import('../../core/agent/store.js');
  const { join } = await import('node:path');
  try {
    writeAtomic(join(paths.stateDir, ANNOUNCED_FILE), `${JSON.stringify({ url: advertised })}\n`);
  } catch (err) {
    log(`api: cannot write ${ANNOUNCED_FILE} (${(err as Error).message}); give \`outpost tokens join-code\` the address with --url`);
  }
  log(`api: listening on ${server.url}${identity ? ` (certificate SHA-256 ${identity.fingerprint})` : ' (plain HTTP, loopback only)'}`);
  if (readTokens(paths.stateDir).length === 0) log('api: no tokens: nothing is accepted until `outpost tokens create NAME --role ROLE` makes one');
  if (identity?.created || firstToken) {
    const lines = ['outpost agent: first start of the API; save what follows (the token is shown only this once).'];
    if (identity) lines.push(`certificate fingerprint (SHA-256): ${identity.fingerprint}`);
    if (firstToken) lines.push(`admin token: ${firstToken}`);
    if (firstToken && identity) {
      // For another agent: a peer credential, once, within the hour. Never the admin token.
      const { encodeJoinCode } = await import('../../core/api/join-code.js');
      const { createEnrolment } = await import('../../core/api/enrol.js');
      const made = createEnrolment(paths.stateDir, 'peer');
      lines.push(`join code (for \`outpost peers add CODE\` on another machine): ${encodeJoinCode({ url: advertised, fingerprint: identity.fingerprint, secret: made.secret })}`);
      lines.push('(it is good once, for an hour, for another agent; make more with `outpost tokens join-code [--role peer|operator|viewer]`)');
    }
    io.out(`${lines.join('\n')}\n`);
  }
  controller?.start();
  const stop = () => {
    void (controller?.stop() ?? Promise.resolve()).then(() => server.close()).then(() => node.close());
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  void agent;
}

/**
 * The failover controller of this agent (docs/placement.md, "Failover without split brain"), when
 * $XDG_CONFIG_HOME/outpost/placement.yaml names this node; otherwise failover is off and the log
 * says so once (a broken file too, with each problem at its line).
 */
async function failoverController(
  node: import('../../core/node.js').Node,
  stateDir: string,
  io: CliIO,
  log: (line: string) => void,
  loaded: ReturnType<typeof import('../../core/placement/controller.js').loadPlacementConfig>,
  identity: { cert: string; key: string } | undefined,
  audit: NonNullable<import('../../core/placement/controller.js').ControllerOptions['audit']>,
) {
  const { FailoverController, placementFile } = await import('../../core/placement/controller.js');
  const file = placementFile(io.env);
  if (loaded.missing) {
    log(`placement: failover is off: no ${file} (it names this node in the fleet: \`node: NAME\`, and its \`failover:\` settings)`);
    return null;
  }
  if (!loaded.config) {
    const { formatIssue } = await import('../../core/rules/fields.js');
    for (const i of loaded.issues) log(`placement: ${formatIssue(i)}`);
    log(`placement: failover is off: ${file} has ${loaded.issues.length} problem(s)`);
    return null;
  }
  return new FailoverController({ config: loaded.config, stateDir, local: node, env: io.env, log, audit, ...(identity ? { identity: { cert: identity.cert, key: identity.key } } : {}) });
}
