/**
 * A private Docker engine for tests and benchmarks: its own socket, data
 * root, exec root and pid file, no bridge and no iptables rules, so it can
 * never touch the machine's own engine or containers. Stopped (and its
 * directory removed) by whoever started it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

export interface PrivateEngine {
  readonly dir: string;
  readonly socket: string;
  readonly dockerHost: string;
  /** Kills dockerd, containerd and the container shims with SIGKILL, like a crash. */
  crash(): Promise<void>;
  /** Starts dockerd again on the same directories after `crash()` or `stop()`. */
  restart(): Promise<void>;
  /** Stops dockerd gracefully, cleans up mounts and the directory. */
  dispose(): Promise<void>;
}

function findDockerd(): string {
  for (const p of ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd']) if (existsSync(p)) return p;
  throw new Error('dockerd not found: install Debian\'s docker.io (`apt-get install -y docker.io`); `npm test` does it when run as root.');
}

export function ping(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startPrivateEngine(label = 'test', extraArgs: string[] = []): Promise<PrivateEngine> {
  if (process.getuid?.() !== 0) {
    throw new Error('The private Docker engine needs root (dockerd mounts overlays). Run the tests as root, as CI does.');
  }
  const dockerd = findDockerd();
  const dir = mkdtempSync(`/tmp/op-${label}-`);
  const socket = join(dir, 'docker.sock');
  const pidfile = join(dir, 'docker.pid');
  writeFileSync(join(dir, 'daemon.json'), '{}');
  let child: ChildProcess | null = null;

  const launch = async () => {
    if (existsSync(pidfile)) rmSync(pidfile);
    // After a crash the old containerd can linger as a zombie under an init that does not
    // reap; dockerd would take its pid for a live containerd and wait for it forever.
    rmSync(join(dir, 'exec', 'containerd', 'containerd.pid'), { force: true });
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    child = spawn(
      dockerd,
      [
        '--config-file', join(dir, 'daemon.json'),
        '--data-root', join(dir, 'data'),
        '--exec-root', join(dir, 'exec'),
        '--pidfile', pidfile,
        '-H', `unix://${socket}`,
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
        '--userland-proxy=false',
        '--log-level=warn',
        ...extraArgs,
      ],
      { stdio: ['ignore', log, log], detached: false },
    );
    closeSync(log);
    const started = child;
    let exited = false;
    started.once('exit', () => {
      exited = true;
    });
    await waitFor(
      async () => {
        if (exited) {
          throw new Error(`dockerd exited at start; its log:\n${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-3000)}`);
        }
        return ping(socket);
      },
      60_000,
      `the private engine at ${socket}`,
    );
  };

  const stopChild = async (signal: NodeJS.Signals) => {
    const c = child as ChildProcess | null;
    child = null;
    if (!c || c.exitCode !== null || c.pid === undefined) return;
    const pid = c.pid;
    c.kill(signal);
    await waitFor(() => !alive(pid), 30_000, 'dockerd to exit').catch(() => {
      c.kill('SIGKILL');
    });
  };

  await launch();
  return {
    dir,
    socket,
    dockerHost: `unix://${socket}`,
    async crash() {
      await stopChild('SIGKILL');
      // The whole engine goes down, as in a power cut: containerd and the container shims too.
      // (A containerd restarted next to surviving shims stalls dockerd's start for 10 s or more.)
      killUnder(dir);
      await waitFor(() => !anyMatching(dir), 30_000, 'engine processes to exit');
    },
    async restart() {
      await stopChild('SIGTERM');
      await launch();
    },
    async dispose() {
      await stopChild('SIGTERM');
      // A crashed-and-restarted engine can leave its containerd behind; end it and its shims.
      killUnder(dir);
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kills processes whose command line names the engine's directory. */
function killUnder(dir: string): void {
  killMatching(dir);
}

function anyMatching(pattern: string): boolean {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return false;
  }
}

function killMatching(pattern: string): void {
  try {
    const out = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' });
    for (const pid of out.split('\n').filter(Boolean).map(Number)) {
      if (pid !== process.pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  } catch {
    // pgrep exits 1 when nothing matches
  }
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // best effort: a busy mount is released lazily
    }
  }
}
