/**
 * The `outpost` program: with a subcommand, the CLI; without one, the
 * terminal UI.
 *
 * This is the start file (dist/outpost.mjs), built as one self-contained
 * file: for the terminal UI it paints the first frame (tui/app/first-frame.ts)
 * before anything else loads. Loading the same code as a dozen shared chunks
 * cost ~50 ms more. The rest of the program is dist/app.mjs (tui/app-entry.ts).
 */
// First: the engine's list is asked for before the terminal's modules load (early-request.ts).
import { early } from './early-request.js';
import type { CliIO } from './cli/program.js';
import { paintFirstFrame } from './app/first-frame.js';
import { fastPs } from './cli/fast-ps.js';
import { versionText } from './cli/version.js';
import { applyMemoryFlags } from './cli/node-flags.js';
import { inertLines } from './presentation/inert.js';
import { thisNodeName } from '../core/peers/node-name.js';

// Deprecation warnings from libraries (docker-modem parses ssh:// addresses with url.parse) are
// for their developers: printed to stderr they would land in the middle of the terminal UI.
process.noDeprecation = true;

const { args, tui } = early;

function write(stream: NodeJS.WriteStream) {
  return (text: string) => {
    stream.write(text);
  };
}

/**
 * The CLI's output and questions. Made once the engine request has left: the terminal streams
 * load node:tty and set up the terminal, which the request need not wait for.
 */
function makeIo(): CliIO {
  // A reader that goes away (`outpost logs x | head`) is not an error.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE: the reader went away; EIO: the terminal (an SSH session, a tmux pane) closed.
      if (err.code === 'EPIPE' || err.code === 'EIO') process.exit(0);
      throw err;
    });
  }
  // Nothing foreign reaches a terminal raw: the CLI's text sinks make every control character
  // inert (on stdout when it is a terminal, on stderr always); only the raw sinks pass bytes.
  const outRaw = write(process.stdout);
  const errRaw = write(process.stderr);
  const outTTY = process.stdout.isTTY === true;
  const inertSink = (raw: (text: string) => void) => (text: string) => raw(inertLines(text));
  return {
    out: outTTY ? inertSink(outRaw) : outRaw,
    err: inertSink(errRaw),
    outRaw,
    errRaw,
    isTTY: outTTY,
    errIsTTY: process.stderr.isTTY === true,
    env: process.env,
    // A question needs a person: stdin and stdout both terminals.
    ...(outTTY && process.stdin.isTTY
      ? {
          ask: async (question: string) => {
            const { createInterface } = await import('node:readline/promises');
            const rl = createInterface({ input: process.stdin, output: process.stdout });
            try {
              return await rl.question(question);
            } finally {
              rl.close();
            }
          },
        }
      : {}),
  };
}

/** The rest of `outpost`. The specifier names the built file next to this one (see scripts/build.mjs); the single executable's build puts the module itself in its place (scripts/release.mjs). */
const app = './app.mjs';
const loadApp = () => import(app) as Promise<typeof import('./app-entry.js')>;

// An async function rather than top-level await: the single executable's main script is CommonJS.
async function main(): Promise<void> {
  // One turn of the event loop first: the engine request (early-request.ts) is written on its
  // socket only then, and the engine works on it while the terminal is set up.
  if (early.list) await new Promise((r) => setImmediate(r));
  const io = makeIo();
  // `outpost --version` and a plain `outpost ps` are answered here, without the rest of the program.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    io.out(`${versionText()}\n`);
    return;
  }
  if (early.ps && early.endpoint) {
    const code = await fastPs(early.endpoint, early.ps, io, early.timeoutMs, early.list, thisNodeName(process.env));
    if (code !== null) {
      process.exitCode = code;
      return;
    }
  }
  // `outpost` (the terminal UI): the container list goes on the screen before the UI's code
  // loads. If the frame is not painted (a small terminal, a refused request), the UI finds and
  // explains what is wrong.
  const list = tui && process.stdin.isTTY && process.stdout.isTTY ? early.list : null;
  if (list) {
    try {
      await paintFirstFrame({ list, readOnly: args.length > 0, env: process.env });
    } catch {
      // Whatever went wrong here, the UI finds and explains it.
    }
  }
  // After the first frame, before the UI grows its heap (see node-flags.ts).
  if (tui) await applyMemoryFlags();
  // The CLI (commander and the rest) loads after the first frame is on the screen.
  const { runCli } = await loadApp();
  const code = await runCli(args, io);
  process.exitCode = code;
  // The UI has quit and put the terminal back: nothing left may hold the exit (`q` always exits).
  if (tui) process.exit(code);
}

void main();
