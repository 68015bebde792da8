/** Set by the builds (scripts/build.mjs, scripts/release.mjs); absent when the sources run under vitest. */
declare const OUTPOST_BUILD: { version: string; sea: boolean } | undefined;

/** `outpost 0.1.0 (single executable, Node 26.12.1, linux-x64)`: what a technician reports in a bug. */
export function versionText(): string {
  const build = typeof OUTPOST_BUILD === 'undefined' ? { version: 'dev', sea: false } : OUTPOST_BUILD;
  return `outpost ${build.version} (${build.sea ? 'single executable' : 'npm package'}, Node ${process.versions.node}, ${process.platform}-${process.arch})`;
}
