import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { containerRef } from '../presentation/container-ref.js';
import { inert } from '../presentation/inert.js';

interface Terminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** Enters the alternate screen (again: a program in the shell may have left it). */
  altOn: string;
}

/**
 * Steps the TUI aside for an interactive shell: hands the real terminal
 * (raw keys, resizes) to an exec session with a TTY, and comes back when the
 * shell exits, with its exit code. bash where the image has it, sh
 * otherwise. The shell runs on the alternate screen too, cleared before and
 * after: what the terminal showed before outpost started is still there
 * when it quits, not the shell's transcript.
 */
export async function runShell(node: Node, c: ContainerSummary, t: Terminal): Promise<number> {
  // Let Ink release stdin (its input hooks went inactive on the last render).
  await new Promise((r) => setTimeout(r, 30));
  t.stdout.write('\x1b[0m\x1b[?25h\x1b[H\x1b[2J');
  t.stdout.write(`Outpost: shell in ${inert(containerRef(c))} (exit to return)\r\n`);
  const restore = () => t.stdout.write(`${t.altOn}\x1b[0m\x1b[r\x1b[?25l\x1b[H\x1b[2J`);
  let session: Awaited<ReturnType<Node['exec']>>;
  try {
    session = await node.exec(c.id, {
      cmd: ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi'],
      tty: true,
      cols: t.stdout.columns || 80,
      rows: t.stdout.rows || 24,
      env: ['TERM=xterm-256color'],
    });
  } catch (err) {
    // No shell (the container stopped meanwhile, the engine refused): the screen goes back as it was.
    restore();
    throw err;
  }
  const wasRaw = t.stdin.isRaw;
  t.stdin.setRawMode(true);
  t.stdin.resume();
  const onData = (d: Buffer) => session.write(d);
  const onResize = () => void session.resize(t.stdout.columns || 80, t.stdout.rows || 24).catch(() => undefined);
  t.stdin.on('data', onData);
  t.stdout.on('resize', onResize);
  const stopOutput = session.onOutput((d) => t.stdout.write(d));
  try {
    return await session.wait();
  } finally {
    stopOutput();
    t.stdin.off('data', onData);
    t.stdout.off('resize', onResize);
    session.close();
    t.stdin.setRawMode(wasRaw);
    // Whatever the shell left (colours, a scroll region, a hidden cursor, …) goes with it.
    restore();
  }
}
