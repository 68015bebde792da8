/**
 * The `outpost` program: with a subcommand, the CLI; without one, the
 * terminal UI.
 */
import type { CliIO } from './cli/program.js';

function write(stream: NodeJS.WriteStream) {
  return (text: string) => {
    stream.write(text);
  };
}

// A reader that goes away (`outpost logs x | head`) is not an error.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (err: NodeJS.ErrnoException) => {
    // EPIPE: the reader went away; EIO: the terminal (an SSH session, a tmux pane) closed.
    if (err.code === 'EPIPE' || err.code === 'EIO') process.exit(0);
    throw err;
  });
}

const io: CliIO = { out: write(process.stdout), err: write(process.stderr), isTTY: process.stdout.isTTY === true, env: process.env };
const args = process.argv.slice(2);

// `outpost` (the terminal UI): the container list goes on the screen before the UI's code loads.
if (args.every((a) => a === '--read-only') && process.stdout.isTTY && process.stdin.isTTY) {
  try {
    const [{ resolveEndpoint }, { requestList }] = await Promise.all([import('../core/docker/endpoint.js'), import('./app/engine-list.js')]);
    // The request leaves now; the painting code loads while the engine answers.
    const list = requestList(resolveEndpoint(process.env));
    list.catch(() => undefined);
    const { paintFirstFrame } = await import('./app/first-frame.js');
    await paintFirstFrame({ list, readOnly: args.length > 0, env: process.env });
  } catch {
    // Whatever went wrong here, the UI finds and explains it.
  }
}
// The CLI (commander and the rest) loads after the first frame is on the screen.
const { runCli } = await import('./cli/program.js');
void runCli(args, io).then((code) => {
  process.exitCode = code;
});
