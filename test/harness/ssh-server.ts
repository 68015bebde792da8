/**
 * A real SSH server on loopback (ssh2's Server) that does what sshd does for
 * the docker CLI: it carries `docker system dial-stdio` to an engine's
 * socket. Any user is accepted (the tests are about the host key and the
 * connection, not about authentication). It counts connections and
 * channels, so a test can see how many a client opened.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Server, utils } from 'ssh2';

export interface SshServer {
  port: number;
  /** `ssh-ed25519 AAAA…`: the line known_hosts holds for it. */
  publicKey: string;
  connections: number;
  channels: number;
  /** Writes `home/.ssh/known_hosts` listing this server (or `line` instead). */
  trust(home: string, line?: string): void;
  close(): Promise<void>;
}

/**
 * An ed25519 key pair that ssh2 can read back: its generator drops a leading zero byte of the
 * public key, so about 1 in 256 pairs is malformed (mscdex/ssh2#1390, #1513); such a pair is
 * made again.
 */
export function hostKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

export async function startSshServer(engineSocket: string, hostKey = hostKeyPair()): Promise<SshServer> {
  const state = { connections: 0, channels: 0 };
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    state.connections++;
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', () => undefined);
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          if (info.command !== 'docker system dial-stdio') {
            stream.exit(127);
            stream.end();
            return;
          }
          state.channels++;
          const engine = connect(engineSocket);
          stream.pipe(engine).pipe(stream);
          engine.on('error', () => stream.end());
          stream.on('close', () => engine.destroy());
        });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    publicKey: hostKey.public,
    get connections() {
      return state.connections;
    },
    get channels() {
      return state.channels;
    },
    trust(home, line = `[127.0.0.1]:${port} ${hostKey.public}`) {
      mkdirSync(join(home, '.ssh'), { recursive: true });
      writeFileSync(join(home, '.ssh', 'known_hosts'), `${line}\n`);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
