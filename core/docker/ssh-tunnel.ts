/**
 * The SSH connection of an ssh:// engine, carrying every request.
 *
 * docker-modem's own ssh support builds a new ssh2 Client and a new HTTP
 * agent for every request, and ends the connection when the request ends:
 * a TCP connect, a key exchange and an authentication per `ps`, per
 * inspect, per stats sample. Here one Client is connected on first use and
 * kept; each HTTP connection is a `docker system dial-stdio` channel on it
 * (SSH multiplexes channels), kept alive for the next request.
 *
 * OpenSSH allows 10 sessions per connection by default (MaxSessions), and a
 * node holds some channels for good (the event stream, followed logs). So a
 * connection carries at most 8 channels; only when all of them are busy at
 * once is a second connection made (at most 4 in all, the rest of the
 * requests wait). A connection that breaks is forgotten and made again on
 * the next request; `destroy()` ends them all.
 */
import { Agent, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { inspect } from 'node:util';
import type { Client, ConnectConfig } from 'ssh2';
import { sshClientClass } from './ssh-module.js';

export const CHANNELS_PER_CONNECTION = 8;
export const MAX_CONNECTIONS = 4;

interface Link {
  ready: Promise<Client>;
  client: Client | null;
  channels: number;
  dead: boolean;
}

export class SshTunnelAgent extends Agent {
  readonly #config: ConnectConfig;
  readonly #links: Link[] = [];
  #destroyed = false;
  /** SSH connections made so far. */
  connections = 0;

  constructor(config: ConnectConfig) {
    super({ keepAlive: true, maxSockets: CHANNELS_PER_CONNECTION * MAX_CONNECTIONS, maxFreeSockets: 4, timeout: 60_000 });
    this.#config = config;
  }

  /** docker-modem formats its options (this agent among them) with util.inspect on every request: keep that cheap. */
  [inspect.custom](): string {
    return `SshTunnelAgent(${this.#config.host ?? '?'})`;
  }

  #open(): Link {
    const link: Link = { ready: Promise.resolve(null as unknown as Client), client: null, channels: 0, dead: false };
    this.connections++;
    const forget = () => {
      link.dead = true;
      link.client = null;
      const i = this.#links.indexOf(link);
      if (i >= 0) this.#links.splice(i, 1);
    };
    link.ready = (async () => {
      const SshClient = await sshClientClass();
      return new Promise<Client>((resolve, reject) => {
        const c = new SshClient();
        let up = false;
        c.once('ready', () => {
          up = true;
          if (this.#destroyed) {
            c.end();
            reject(new Error('the engine connection was closed'));
            return;
          }
          link.client = c;
          resolve(c);
        });
        c.on('error', (err) => {
          forget();
          if (!up) reject(err);
        });
        c.once('close', () => {
          forget();
          if (!up) reject(new Error('the SSH connection closed before it was ready'));
        });
        c.connect(this.#config);
      });
    })();
    link.ready.catch(forget);
    this.#links.push(link);
    return link;
  }

  /** A connection with a free channel: the first one if it has room, else a new one while under the cap. */
  #pick(): Link {
    const live = this.#links.filter((l) => !l.dead);
    const free = live.find((l) => l.channels < CHANNELS_PER_CONNECTION);
    if (free) return free;
    if (live.length < MAX_CONNECTIONS) return this.#open();
    // The agent's maxSockets keeps it from coming here; if it does, the least busy one.
    return live.reduce((a, b) => (b.channels < a.channels ? b : a));
  }

  override createConnection(_options: ClientRequestArgs, cb?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    const done = cb as (err: Error | null, socket?: Duplex) => void;
    const link = this.#pick();
    link.channels++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      link.channels--;
    };
    link.ready.then(
      (client) => {
        try {
          client.exec('docker system dial-stdio', (err, channel) => {
            if (err) {
              release();
              return done(err);
            }
            channel.once('close', release);
            // What the HTTP client asks of a socket that a channel does not have.
            const socket = channel as unknown as Duplex & Record<string, unknown>;
            for (const m of ['setKeepAlive', 'setNoDelay', 'ref', 'unref', 'setTimeout']) if (typeof socket[m] !== 'function') socket[m] = () => socket;
            done(null, socket);
          });
        } catch (err) {
          // ssh2 throws at once on a connection that has just gone ("Not connected").
          release();
          done(err as Error);
        }
      },
      (err: Error) => {
        release();
        done(err);
      },
    );
    return undefined;
  }

  override destroy(): void {
    this.#destroyed = true;
    super.destroy();
    for (const l of this.#links.splice(0)) {
      l.dead = true;
      l.client?.end();
    }
  }
}
