// The commit a build is made from, for `outpost --version` and the agent's x-outpost-build
// header: `6c1cacb`, `6c1cacb-dirty` with uncommitted changes, undefined outside a git checkout.
import { execFileSync } from 'node:child_process';

export function buildCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return /^[0-9a-f]{7,40}$/.test(head) ? `${head}${dirty ? '-dirty' : ''}` : undefined;
  } catch {
    return undefined;
  }
}
