/**
 * The `outpost` program: with a subcommand, the CLI; without one, the
 * terminal UI.
 */
import { runCli, type CliIO } from './cli/program.js';

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
void runCli(args, io).then((code) => {
  process.exitCode = code;
});
