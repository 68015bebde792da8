import type { ContainerStats } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { statsColumns } from '../presentation/container-row.js';
import { renderTable } from '../presentation/format.js';
import type { CliIO } from './program.js';

export interface StatsCommandOptions {
  once?: boolean;
  json?: boolean;
  interval: number;
}

const byName = (a: ContainerStats, b: ContainerStats) => a.name.localeCompare(b.name);

export async function runStats(node: Node, opts: StatsCommandOptions, io: CliIO): Promise<void> {
  if (opts.once) {
    const stats = (await node.statsOnce()).sort(byName);
    io.out(opts.json ? `${JSON.stringify(stats, null, 2)}\n` : `${renderTable(stats, statsColumns)}\n`);
    return;
  }
  await node.connect();
  await new Promise<void>((resolve) => {
    let first = true;
    const dispose = node.watchStats(
      (stats) => {
        // The first sample has no previous one to make CPU a rate: wait for the second.
        if (first) {
          first = false;
          return;
        }
        stats.sort(byName);
        if (opts.json) io.out(`${JSON.stringify(stats)}\n`);
        else {
          // Outpost's own screen control goes raw; the table (names from the engine) through the safe sink.
          if (io.isTTY) (io.outRaw ?? io.out)('\x1b[H\x1b[2J');
          io.out(`${renderTable(stats, statsColumns)}\n${io.isTTY ? '' : '\n'}`);
        }
      },
      { intervalMs: opts.interval },
    );
    process.once('SIGINT', () => {
      dispose();
      resolve();
    });
  });
}
