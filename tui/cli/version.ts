import { buildId, buildInfo } from '../../core/build-info.js';

/** `outpost 0.1.0+6c1cacb (single executable, Node 26.12.1, linux-x64)`: what a technician reports in a bug. */
export function versionText(): string {
  return `outpost ${buildId()} (${buildInfo().sea ? 'single executable' : 'npm package'}, Node ${process.versions.node}, ${process.platform}-${process.arch})`;
}
