/**
 * A site on one machine, for the multi-node tests: private engines, each with the built
 * `outpost agent --listen` on its own loopback address (127.0.0.2, .3, …), their state in
 * their own home directories. Each agent reaches the others through the test links of a `Mesh`
 * (test/harness/link.ts): `peerThroughLinks` adds every node b to every a's peers file with the
 * link a → b as b's address, so a test cuts, shapes and counts the wire between agents.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { decodeJoinCode } from '../../core/api/join-code.js';
import { createToken, readTokens, revokeToken } from '../../core/api/tokens.js';
import { BIN, runCommand } from './cli.js';
import { startPrivateEngine, type PrivateEngine } from './engine.js';
import { importTestImage } from './image.js';
import { Mesh, type Shape } from './link.js';

export interface SiteNode {
  name: string;
  ip: string;
  port: number;
  engine: PrivateEngine;
  home: string;
  agent: ChildProcess | null;
  log: string;
  /** Started before: its state directory holds its certificate and tokens, so no join code is printed. */
  started: boolean;
  /** The join code its first start printed. */
  joinCode: string | null;
}

/** The config and state directories under a home, as the CLI and the agent find them. */
export function homeEnv(home: string): Record<string, string> {
  return { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.state') };
}

export function freePort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, ip, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A node of the site: its private engine (with `engineArgs`, e.g. `--label zone=line-2`) and the test image; no agent yet. */
export async function siteNode(parent: string, name: string, ip: string, engineArgs: string[] = []): Promise<SiteNode> {
  const engine = await startPrivateEngine(name, engineArgs);
  await importTestImage(engine.dockerHost);
  const home = join(parent, name);
  mkdirSync(home, { recursive: true });
  return { name, ip, port: await freePort(ip), engine, home, agent: null, log: '', started: false, joinCode: null };
}

/** Starts the node's agent (extra environment in `env`); on its first start it resolves with the join code it printed. */
export function startAgent(site: SiteNode, env: Record<string, string> = {}): Promise<string | null> {
  const again = site.started;
  site.started = true;
  const child = spawn(process.execPath, [BIN, 'agent', '--listen', `${site.ip}:${site.port}`], {
    env: { PATH: process.env.PATH ?? '', DOCKER_HOST: site.engine.dockerHost, ...homeEnv(site.home), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  site.agent = child;
  site.log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent ${site.name} did not start; its output:\n${site.log}`)), 30_000);
    const look = (d: Buffer) => {
      site.log += d.toString();
      const code = /join code \(for `outpost peers add CODE` on another machine\): (\S+)/.exec(site.log)?.[1];
      if (code) {
        clearTimeout(timer);
        site.joinCode = code;
        resolve(code);
      } else if (again && /api: listening on https:\/\//.test(site.log)) {
        clearTimeout(timer);
        resolve(null);
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!/api: listening/.test(site.log)) reject(new Error(`agent ${site.name} exited (${code}); its output:\n${site.log}`));
    });
  });
}

export async function stopAgent(site: SiteNode, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const c = site.agent;
  site.agent = null;
  // A process killed by a signal has no exit code but a signal code: it has exited too.
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  await exited;
}

/**
 * What node `forName` presents to `site`'s agent, and the certificate it pins: THE one place
 * the tests and benchmarks take an agent peer's credential from. Today it is the token in the
 * join code the agent printed on its first start (the admin token); when agents enrol with each
 * other under a peer role, only this function changes.
 */
export function peerCredential(site: SiteNode, forName: string): { fingerprint: string; token: string } {
  if (!site.joinCode) throw new Error(`${site.name} printed no join code (its agent has not started yet) for ${forName} to use`);
  // What an agent holds for another: a peer token, made on that node (the join code carries only a single-use secret).
  const stateDir = join(homeEnv(site.home).XDG_STATE_HOME as string, 'outpost');
  const name = `peer-${forName}`;
  const token = readTokens(stateDir).some((t) => t.name === name) ? (revokeToken(stateDir, name), createToken(stateDir, name, 'peer')) : createToken(stateDir, name, 'peer');
  return { fingerprint: decodeJoinCode(site.joinCode).fingerprint, token };
}

/** Adds `peer` to `site`'s peers file (`outpost peers add`) at `url`, with the credential from `peerCredential`. */
export async function addPeer(site: SiteNode, peer: SiteNode, url: string): Promise<void> {
  const { fingerprint, token } = peerCredential(peer, site.name);
  const r = await runCommand([process.execPath, BIN, 'peers', 'add', url, '--name', peer.name, '--fingerprint', fingerprint, '--token', token], { PATH: process.env.PATH ?? '', ...homeEnv(site.home) });
  if (r.code !== 0 || r.stderr !== '') throw new Error(`outpost peers add ${peer.name} on ${site.name} failed (${r.code}): ${r.stderr}`);
}

/**
 * A link for every ordered pair of the sites (each listening on the first node's loopback IP,
 * connecting from it), started, and every node added to every other's peers file through its
 * link. The agents must have started (their join codes printed). Close the mesh after the agents.
 */
export async function peerThroughLinks(sites: readonly SiteNode[], o: { shape?: Shape; retransmit?: boolean } = {}): Promise<Mesh> {
  const mesh = new Mesh(sites, o);
  await mesh.start();
  for (const a of sites) for (const b of sites) if (a !== b) await addPeer(a, b, mesh.link(a.name, b.name).url);
  return mesh;
}
