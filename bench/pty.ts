/**
 * Runs a program in a pseudo-terminal of a given size (util-linux `script`),
 * collecting what it draws. The screen is kept by a headless xterm.js, so a
 * benchmark can read it like a person would without tmux in between (tmux's
 * own send-keys/capture-pane round trip is ~60 ms, more than what is measured).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import xterm from '@xterm/headless';

export class PtyRun {
  readonly child: ChildProcess;
  output = '';
  bytes = 0;
  /** Output since the last `mark()`. */
  fresh = '';
  #waiters: { test: (out: string) => boolean; resolve: (at: number) => void }[] = [];
  readonly #term: InstanceType<typeof xterm.Terminal>;
  #screenWaiters: { test: (screen: string[]) => boolean; resolve: (at: number) => void }[] = [];

  constructor(command: string, cols: number, rows: number, env: NodeJS.ProcessEnv) {
    this.#term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
    this.child = spawn('script', ['-qfec', `stty cols ${cols} rows ${rows}; exec ${command}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      const at = performance.now();
      this.#term.write(d, () => {
        if (this.#screenWaiters.length === 0) return;
        const screen = this.screen();
        for (const w of [...this.#screenWaiters]) {
          if (w.test(screen)) {
            this.#screenWaiters.splice(this.#screenWaiters.indexOf(w), 1);
            w.resolve(at);
          }
        }
      });
      this.bytes += d.length;
      // Keep the tail only: what the benchmarks look for is recent.
      const text = d.toString('utf8');
      this.output = (this.output + text).slice(-200_000);
      this.fresh = (this.fresh + text).slice(-200_000);
      for (const w of [...this.#waiters]) {
        if (w.test(this.output)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(at);
        }
      }
    });
  }

  /** Resolves with the time (performance.now) of the chunk that made `test` true. */
  waitFor(test: (out: string) => boolean, timeoutMs = 30_000): Promise<number> {
    if (test(this.output)) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting in the terminal; last output: ${JSON.stringify(this.output.slice(-500))}`)), timeoutMs);
      this.#waiters.push({ test, resolve: (at) => { clearTimeout(t); resolve(at); } });
    });
  }

  /** The visible rows as text (what a person sees). */
  screen(): string[] {
    const b = this.#term.buffer.active;
    const rows: string[] = [];
    for (let i = 0; i < this.#term.rows; i++) rows.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
    return rows;
  }

  /** Resolves with the arrival time (performance.now) of the output that made the screen pass `test`. */
  waitForScreen(test: (screen: string[]) => boolean, timeoutMs = 30_000): Promise<number> {
    if (test(this.screen())) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for the screen; it shows:\n${this.screen().join('\n')}`)), timeoutMs);
      this.#screenWaiters.push({ test, resolve: (at) => { clearTimeout(t); resolve(at); } });
    });
  }

  mark(): void {
    this.fresh = '';
  }

  type(keys: string): void {
    this.child.stdin?.write(keys);
  }

  /** PID of the program inside (script → the exec'd command). */
  innerPid(): number {
    const out = execFileSync('pgrep', ['-P', String(this.child.pid)], { encoding: 'utf8' }).trim().split('\n');
    return Number(out[0]);
  }

  async stop(): Promise<void> {
    this.#term.dispose();
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        r(undefined);
      }, 3000);
      this.child.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
  }
}

/** RSS split: anonymous memory (heap, stacks) and pages of mapped files (the executable's code and data, clean and shared). */
export function rssParts(pid: number): { anon: number; file: number; filePmd: number } {
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  const rollup = execFileSync('cat', [`/proc/${pid}/smaps_rollup`], { encoding: 'utf8' });
  const kb = (text: string, key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return { anon: kb(status, 'RssAnon'), file: kb(status, 'RssFile'), filePmd: kb(rollup, 'FilePmdMapped') };
}

export function rssBytes(pid: number): number {
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
