/** Mounts the Ink app on the terminal for a fleet; resolves with the exit code when it quits. */
import { inert } from '../presentation/inert.js';
import { render } from 'ink';
import type { Fleet } from '../../core/fleet.js';
import type { ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';
import { App } from './app.js';
import { FleetView } from './fleet-view.js';
import { DEFAULT_PREFS, loadPrefs } from './prefs.js';
import { makeTheme } from './theme.js';
import { runShell } from './shell.js';
import { ScreenWriter } from './screen-writer.js';
import { ALT_SCREEN_OFF as ALT_OFF, ALT_SCREEN_ON as ALT_ON, takePaintedFrame } from './first-frame.js';

export async function mountTui(fleet: Fleet, readOnly: boolean, attachErrors?: (sink: (text: string) => void) => void): Promise<number> {
  const { stdin, stdout } = process;
  // Preferences load off the startup path (conf pulls in a JSON-schema compiler); defaults until then.
  const prefs = { ...DEFAULT_PREFS };
  const view = new FleetView(fleet, { statsIntervalMs: prefs.statsIntervalMs, hostIntervalMs: prefs.hostIntervalMs });

  // Ink renders whole frames into the writer; only changed cells reach the terminal.
  const screen = new ScreenWriter(stdout as unknown as ConstructorParameters<typeof ScreenWriter>[0]);
  const painted = takePaintedFrame();
  if (painted) {
    // The first frame is on the screen already (first-frame.ts): carry on from it.
    screen.seed(painted.grid, painted.columns, painted.rows);
  } else {
    stdout.write(`${ALT_ON}\x1b[?25l`);
  }
  const restore = () => stdout.write(`${ALT_OFF}\x1b[?25h`);
  process.once('exit', restore);

  // Anything written to stderr would land in the middle of the screen: notices go to the status line.
  const noticeListeners = new Set<(text: string) => void>();
  const notices = {
    subscribe(listener: (text: string) => void) {
      noticeListeners.add(listener);
      return () => noticeListeners.delete(listener);
    },
  };

  attachErrors?.((text) => {
    for (const l of noticeListeners) l(text);
  });

  let instance: ReturnType<typeof render> | null = null;
  const onExec = async (n: Node, c: ContainerSummary) => {
    try {
      return await runShell(n, c, { stdin, stdout, altOn: ALT_ON });
    } finally {
      screen.invalidate();
    }
  };

  instance = render(
    <App fleet={fleet} view={view} theme={makeTheme(process.env)} readOnly={readOnly} prefs={prefs} onExec={onExec} onRedraw={() => screen.repaint()} notices={notices} />,
    { stdout: screen as unknown as NodeJS.WriteStream, debug: true, exitOnCtrlC: false, patchConsole: false },
  );
  view.start();
  // Exact widths for unusual text (emoji sequences, combining marks) once the first frames are out.
  setTimeout(() => void import('./fast-string-width.js').then((m) => m.loadFullWidth()), 500).unref();
  let prefsProblems: string[] = [];
  void loadPrefs().then(({ prefs: loaded, problems }) => {
    Object.assign(prefs, loaded);
    view.setIntervals({ statsIntervalMs: loaded.statsIntervalMs, hostIntervalMs: loaded.hostIntervalMs });
    // One line each (the status area wraps them). A small terminal shows the first ones: they are all
    // printed again when the UI ends, on the normal screen, where they stay to be read.
    prefsProblems = problems;
    if (problems.length > 0) {
      const head = `preferences: ${problems.length} problem(s), all printed when you quit`;
      for (const l of noticeListeners) l([head, ...problems].join('\n'));
    }
  });

  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => instance?.unmount());
  await instance.waitUntilExit();
  view.close();
  screen.close();
  await fleet.close();
  restore();
  process.off('exit', restore);
  if (prefsProblems.length > 0) process.stderr.write(`${prefsProblems.map((p) => `preferences: ${inert(p)}`).join('\n')}\n`);
  return 0;
}
