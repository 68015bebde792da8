/**
 * Signal names and numbers a person or a rules file may give to `kill`.
 * Checked here, before anything reaches the engine, so a typo is a bad
 * argument (exit 2, or a rules-file problem) and not an engine refusal found
 * only when the kill is tried. Linux numbering, which is what the engine uses.
 */

const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9,
  USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17,
  CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
  VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** Real-time signals run from 34 to 64 (SIGRTMIN to SIGRTMAX). */
const MAX_SIGNAL = 64;

/**
 * The canonical form (`SIGTERM`, or the number as text) of a signal given as
 * `SIGTERM`, `TERM`, `sigterm`, `15`, `SIGRTMIN+3`; null when it is none.
 */
export function normalizeSignal(text: string): string | null {
  const t = text.trim().toUpperCase();
  if (/^\d{1,2}$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= MAX_SIGNAL ? String(n) : null;
  }
  const name = t.startsWith('SIG') ? t.slice(3) : t;
  if (Object.hasOwn(SIGNALS, name)) return `SIG${name}`;
  const rt = /^RT(MIN|MAX)([+-]\d{1,2})?$/.exec(name);
  if (rt) {
    const offset = rt[2] ? Number(rt[2]) : 0;
    const n = (rt[1] === 'MIN' ? 34 : MAX_SIGNAL) + offset;
    return n >= 34 && n <= MAX_SIGNAL ? `SIG${name}` : null;
  }
  return null;
}

export const SIGNAL_HINT = 'a signal name or number such as SIGTERM, HUP or 9';
