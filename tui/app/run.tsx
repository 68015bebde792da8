/**
 * Composition root of the terminal UI: one Fleet (the local node for now),
 * the FleetView that listens to it, preferences, and Ink.
 */
import { render } from 'ink';
import { Fleet } from '../../core/fleet.js';
import type { Endpoint } from '../../core/docker/endpoint.js';
import { LocalNode } from '../../core/docker/local-node.js';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { App } from './app.js';
import { FleetView } from './fleet-view.js';
import { DEFAULT_PREFS, loadPrefs } from './prefs.js';
import { makeTheme } from './theme.js';
import { runShell } from './shell.js';

const ALT_ON = '\x1b[?1049h\x1b[H';
const ALT_OFF = '\x1b[?1049l';

export interface TuiOptions {
  endpoint: Endpoint;
  readOnly: boolean;
}

export async function runTui(options: TuiOptions): Promise<number> {
  const { stdin, stdout } = process;
  if (!stdin.isTTY || !stdout.isTTY) {
    process.stderr.write('Error: the terminal UI needs a terminal; for scripts use `outpost ps`, `outpost logs`, … (see --help).\n');
    return 2;
  }
  const node = new LocalNode({ endpoint: options.endpoint });
  const fleet = new Fleet([node]);
  // Preferences load off the startup path (conf pulls in a JSON-schema compiler); defaults until then.
  const prefs = { ...DEFAULT_PREFS };
  const view = new FleetView(fleet, { statsIntervalMs: prefs.statsIntervalMs, hostIntervalMs: prefs.hostIntervalMs });

  stdout.write(ALT_ON);
  const restore = () => stdout.write(`${ALT_OFF}\x1b[?25h`);
  process.once('exit', restore);

  let instance: ReturnType<typeof render> | null = null;
  const onExec = async (n: Node, c: ContainerSummary) => {
    await runShell(n, c, { stdin, stdout, altOn: ALT_ON, altOff: ALT_OFF });
    instance?.clear();
  };

  instance = render(
    <App fleet={fleet} view={view} theme={makeTheme(process.env)} readOnly={options.readOnly} prefs={prefs} onExec={onExec} />,
    { exitOnCtrlC: false, patchConsole: false, incrementalRendering: true, maxFps: 20 },
  );
  view.start();
  // Connect in the background: when the engine is down the UI says so and keeps retrying.
  node.connect().catch(() => undefined);
  void loadPrefs().then(({ prefs: loaded, problems }) => {
    prefs.logBufferLines = loaded.logBufferLines;
    prefs.saveDir = loaded.saveDir;
    if (problems.length > 0) process.emitWarning(problems.join('; '));
  });

  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => instance?.unmount());
  await instance.waitUntilExit();
  view.close();
  await fleet.close();
  restore();
  process.off('exit', restore);
  return 0;
}
