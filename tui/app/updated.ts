/**
 * Outpost replaced under a running TUI (`npm run build`, a new package, a
 * new single executable copied over): code the TUI loads only when asked
 * (the placement dialog, a peer's client) is then gone or of another build,
 * and the import fails with a path in dist/ that means nothing to a
 * technician. The TUI says what happened and what to do instead.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const UPDATED_TEXT = 'Outpost was updated while this screen was open (its files were replaced): quit with q and start it again.';

/** The file this code was loaded from (a chunk of dist/, the executable), as it was at start; null where it cannot be told. */
const loadedFrom = (() => {
  try {
    const path = fileURLToPath(import.meta.url);
    const st = statSync(path);
    return { path, ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
  } catch {
    return null;
  }
})();

/** Whether the file this code was loaded from is gone or another file now. */
export function buildReplaced(): boolean {
  if (!loadedFrom) return false;
  try {
    const st = statSync(loadedFrom.path);
    return st.ino !== loadedFrom.ino || st.mtimeMs !== loadedFrom.mtimeMs || st.size !== loadedFrom.size;
  } catch {
    return true;
  }
}

/** A module of this build that could not be loaded (Node's codes for a missing or unreadable module). */
export function isModuleLoadError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_IMPORT_ATTRIBUTE_MISSING';
}

/**
 * What the TUI shows for a failure: the failure itself, or, when Outpost was replaced under it,
 * that (alone for a module that could not be loaded, which is that and nothing else; before the
 * failure otherwise). `replaced` is injected by tests.
 */
export function failureText(err: unknown, replaced: () => boolean = buildReplaced): string {
  const text = err instanceof Error ? err.message : String(err);
  if (!replaced()) return text;
  return isModuleLoadError(err) ? UPDATED_TEXT : `${UPDATED_TEXT} (${text})`;
}
