#!/usr/bin/env bash
# The one test command: sets up what is missing, type-checks, builds the
# bundles the tests run (the CLI, the tray app), then runs every test against
# a private engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
npx tsc -p .
npx eslint .
node scripts/build.mjs
node desktop/scripts/build.mjs
# The single executables the tests run (no .tar.xz: `npm run release` makes those).
node scripts/release.mjs --no-archive
npx vitest run "$@"
