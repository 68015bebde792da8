/**
 * Drives a program in a real terminal: a tmux server of its own (-L), one
 * window of a given size, send-keys to type, capture-pane to read.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export class Tmux {
  readonly socket = `outpost-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly session = 'tui';

  #tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  start(command: string, opts: { cols: number; rows: number; env: Record<string, string> }): void {
    const env = Object.entries(opts.env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
    // Set before the program starts (one tmux call): remain-on-exit keeps the pane so a crash (or
    // a command that ends at once) can still be read; set-clipboard on lets an OSC 52 from the
    // program reach tmux's paste buffers, where clipboard() finds it.
    this.#tmux([
      'start-server', ';',
      'set-option', '-s', 'set-clipboard', 'on', ';',
      'set-option', '-g', 'remain-on-exit', 'on', ';',
      'new-session', '-d', '-s', this.session, '-x', String(opts.cols), '-y', String(opts.rows), `env ${env} ${command}`,
    ]);
  }

  /** What programs in the pane wrote to the clipboard (OSC 52), '' when nothing. */
  clipboard(): string {
    try {
      return this.#tmux(['show-buffer']);
    } catch {
      return '';
    }
  }

  /** Keys as tmux names them (`Enter`, `Escape`, `C-c`) or literal text with `literal`. */
  keys(...keys: string[]): void {
    this.#tmux(['send-keys', '-t', this.session, ...keys]);
  }

  type(text: string): void {
    this.#tmux(['send-keys', '-t', this.session, '-l', text]);
  }

  screen(): string {
    return this.#tmux(['capture-pane', '-t', this.session, '-p']);
  }

  paneTitle(): string {
    return this.#tmux(['display-message', '-t', this.session, '-p', '#{pane_title}']).trim();
  }

  dead(): boolean {
    return this.#tmux(['display-message', '-t', this.session, '-p', '#{pane_dead}']).trim() === '1';
  }

  resize(cols: number, rows: number): void {
    this.#tmux(['resize-window', '-t', this.session, '-x', String(cols), '-y', String(rows)]);
  }

  async waitFor(check: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (check(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen was:\n${last}`);
  }

  /**
   * Ends the server and waits (at most 10 s) until every process that ran in
   * its pane has exited: a program that was running there (an agent) writes
   * its state as it shuts down on the hang-up, and a test that removes its
   * directory straight after would race it.
   */
  kill(): void {
    let pids: number[] = [];
    try {
      const pane = Number(this.#tmux(['display-message', '-t', this.session, '-p', '#{pane_pid}']).trim());
      if (pane > 0) pids = [pane, ...descendants(pane)];
    } catch {
      // no pane: nothing to wait for
    }
    try {
      this.#tmux(['kill-server']);
    } catch {
      // already gone
    }
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) execFileSync('sleep', ['0.05']);
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter((n) => n > 0);
  } catch {
    // ps exits 1 when there are none
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/** Running, not a zombie (a zombie whose parent never reaps it has finished all the same). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}
