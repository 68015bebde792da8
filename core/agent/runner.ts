import type { Node } from '../node.js';
import type { Action } from '../rules/types.js';

/** How long a rule's `exec` may run before it counts as failed. */
export const EXEC_TIMEOUT_MS = 60_000;

/**
 * Carries out one rule action on a container through the node (any kind of
 * node). Never throws: a failure comes back as `error` in words; `detail`
 * says what an exec printed and how it ended.
 */
/** Moves a placed container to another node; resolves with where it went. */
export type Mover = (containerId: string) => Promise<string>;

export async function runAction(node: Node, containerId: string, action: Action, move?: Mover): Promise<{ error: string | undefined; detail: string }> {
  let error: string | undefined;
  let detail = '';
  try {
    const a = action;
    switch (a.kind) {
      case 'restart':
        await node.restart(containerId, { timeoutSeconds: 10 });
        break;
      case 'stop':
        await node.stop(containerId, { timeoutSeconds: 10 });
        break;
      case 'start':
        await node.start(containerId);
        break;
      case 'kill':
        await node.kill(containerId, a.signal);
        break;
      case 'exec': {
        const session = await node.exec(containerId, { cmd: a.command });
        let out = '';
        session.onOutput((data) => {
          if (out.length < 500) out += Buffer.from(data).toString('utf8');
        });
        const timeout = new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`still running after ${EXEC_TIMEOUT_MS / 1000}s`)), EXEC_TIMEOUT_MS).unref());
        try {
          const code = await Promise.race([session.wait(), timeout]);
          const output = out.trim() ? `output: ${JSON.stringify(out.trim().slice(0, 200))}` : '';
          // A failure says the code in its error; the detail then adds only the output.
          if (code !== 0) error = `the command exited with code ${code}`;
          detail = code !== 0 ? (output ? ` (${output})` : '') : ` (exit code ${code}${output ? `, ${output}` : ''})`;
        } finally {
          session.close();
        }
        break;
      }
      case 'notify':
        break;
      case 'move':
        if (!move) throw new Error('move needs the placement engine: run `outpost agent --listen` with peers and placement.yaml (`outpost docs placement`)');
        detail = ` (${await move(containerId)})`;
        break;
    }
  } catch (err) {
    error = (err as Error).message;
  }
  return { error, detail };
}
