/**
 * Which build of Outpost this is: the package version and the commit it was
 * built from (`0.1.0+6c1cacb`, `+dirty` when the tree had changes), set by
 * the builds (scripts/build.mjs, scripts/release.mjs); `dev` when the
 * sources run under vitest. An agent says its build in `x-outpost-build`, so
 * a client can tell a protocol mismatch from a fault.
 */
declare const OUTPOST_BUILD: { version: string; sea: boolean; commit?: string } | undefined;

export interface BuildInfo {
  version: string;
  sea: boolean;
  commit: string | null;
}

export function buildInfo(): BuildInfo {
  if (typeof OUTPOST_BUILD === 'undefined') return { version: 'dev', sea: false, commit: null };
  return { version: OUTPOST_BUILD.version, sea: OUTPOST_BUILD.sea, commit: OUTPOST_BUILD.commit ?? null };
}

/** `0.1.0+6c1cacb`: the version and, when known, the commit. */
export function buildId(): string {
  const b = buildInfo();
  return b.commit ? `${b.version}+${b.commit}` : b.version;
}

/** A build id as a peer sent it, made safe to show: at most 64 characters of `[0-9A-Za-z.+-]`, else null. */
export function peerBuildId(header: unknown): string | null {
  return typeof header === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(header) ? header : null;
}
