/**
 * The TUI's preferences, in conf's format (project `outpost`, the same store
 * the tray will read). Validated here by hand so that a bad value is
 * reported with its key and what was expected, and the file is never
 * rewritten or cleared on a read: a person's broken edit is theirs to fix.
 */
export interface Prefs {
  /** Lines kept per logs view (the ring buffer). */
  logBufferLines: number;
  /** How often container figures refresh, in ms. */
  statsIntervalMs: number;
  /** How often host figures refresh, in ms. */
  hostIntervalMs: number;
  /** Where `S` in the logs view saves. */
  saveDir: string;
  /** `K` asks before it kills (false: kills at once). */
  confirmKill: boolean;
}

export const DEFAULT_PREFS: Prefs = {
  logBufferLines: 10_000,
  statsIntervalMs: 2000,
  hostIntervalMs: 2000,
  saveDir: '.',
  confirmKill: true,
};

const limits: Record<Exclude<keyof Prefs, 'saveDir' | 'confirmKill'>, [number, number]> = {
  logBufferLines: [100, 1_000_000],
  statsIntervalMs: [500, 60_000],
  hostIntervalMs: [500, 60_000],
};

/** Merges stored values over the defaults; every bad value is named and skipped. */
export function validatePrefs(raw: unknown): { prefs: Prefs; problems: string[] } {
  const prefs: Prefs = { ...DEFAULT_PREFS };
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { prefs, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { prefs, problems: ['preferences must be a JSON object'] };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'saveDir') {
      if (typeof value === 'string' && value.length > 0 && !value.includes('\0')) prefs.saveDir = value;
      else problems.push(`\`saveDir\` must be a directory path, got ${JSON.stringify(value)}`);
      continue;
    }
    if (key === 'confirmKill') {
      if (typeof value === 'boolean') prefs.confirmKill = value;
      else problems.push(`\`confirmKill\` must be true or false, got ${JSON.stringify(value)}`);
      continue;
    }
    // Own keys only: `constructor`, `toString` or `__proto__` in the file are unknown keys, not Object's.
    if (!Object.hasOwn(limits, key)) {
      problems.push(`unknown preference \`${key}\` (known: ${[...Object.keys(limits), 'saveDir', 'confirmKill'].join(', ')})`);
      continue;
    }
    const [min, max] = limits[key as keyof typeof limits];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`\`${key}\` must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
      continue;
    }
    prefs[key as keyof typeof limits] = value;
  }
  return { prefs, problems };
}

/** A preferences file is a few hundred bytes; anything over this is not one. */
export const MAX_PREFS_BYTES = 64 * 1024;

/**
 * Reads the store (XDG_CONFIG_HOME moves it). Never throws nor blocks:
 * problems come back as sentences. The file is checked first (a regular
 * file of at most 64 KiB): conf would read a FIFO, /dev/zero or a 55 MB file
 * to its end, which froze the UI. It is parsed here too, not by conf: conf
 * took `5` or `[]` silently, turned `"x"` into "unknown preference `0`" and
 * refused a file that starts with a byte order mark (editors on Windows
 * write one). The format is conf's: one JSON object.
 */
export async function loadPrefs(cwd?: string): Promise<{ prefs: Prefs; problems: string[]; path: string }> {
  const { homedir } = await import('node:os');
  const path = `${cwd ?? `${process.env.XDG_CONFIG_HOME || `${homedir()}/.config`}/outpost`}/tui.json`;
  const { readRegularFile } = await import('../../core/model/read-file.js');
  const file = readRegularFile(path, MAX_PREFS_BYTES);
  const defaults = (problem: string) => ({ prefs: { ...DEFAULT_PREFS }, problems: [`${path}${problem}; using the defaults until it is fixed`], path });
  if (!file.ok && file.reason === 'missing') return { prefs: { ...DEFAULT_PREFS }, problems: [], path };
  if (!file.ok) return defaults(` ${file.message}`);
  const text = file.text.replace(/^\uFEFF/, '');
  if (text.trim() === '') return { prefs: { ...DEFAULT_PREFS }, problems: [], path };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { prefs: { ...DEFAULT_PREFS }, problems: [`cannot read ${path}: not valid JSON (${(err as Error).message.slice(0, 200)}); using the defaults until it is fixed`], path };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return defaults(`: expected a JSON object of preferences (like {"logBufferLines": 10000}), got ${kindOf(raw)}`);
  }
  const { prefs, problems } = validatePrefs(raw);
  return { prefs, problems: problems.map((p) => `${path}: ${p}`), path };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    default:
      return typeof value;
  }
}
