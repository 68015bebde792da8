/**
 * The TUI's preferences, stored with conf (project `outpost`, the same store
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
}

export const DEFAULT_PREFS: Prefs = {
  logBufferLines: 10_000,
  statsIntervalMs: 2000,
  hostIntervalMs: 2000,
  saveDir: '.',
};

const limits: Record<Exclude<keyof Prefs, 'saveDir'>, [number, number]> = {
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
    if (!(key in limits)) {
      problems.push(`unknown preference \`${key}\` (known: ${[...Object.keys(limits), 'saveDir'].join(', ')})`);
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

/** Reads the store (XDG_CONFIG_HOME moves it). Never throws: problems come back as sentences. */
export async function loadPrefs(cwd?: string): Promise<{ prefs: Prefs; problems: string[]; path: string }> {
  const { default: Conf } = await import('conf');
  let store: InstanceType<typeof Conf>;
  try {
    store = new Conf({ projectName: 'outpost', projectSuffix: '', configName: 'tui', ...(cwd ? { cwd } : {}) });
  } catch (err) {
    const { homedir } = await import('node:os');
    const path = `${cwd ?? `${process.env.XDG_CONFIG_HOME || `${homedir()}/.config`}/outpost`}/tui.json`;
    return { prefs: { ...DEFAULT_PREFS }, problems: [`cannot read ${path} (${(err as Error).message}); using defaults until it is fixed`], path };
  }
  const { prefs, problems } = validatePrefs(store.store);
  return { prefs, problems: problems.map((p) => `${store.path}: ${p}`), path: store.path };
}
