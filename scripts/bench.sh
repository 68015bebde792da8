#!/usr/bin/env bash
# Benchmarks against a private engine; figures are printed and saved to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
node scripts/build.mjs
npx esbuild bench/main.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/bench.mjs --log-level=warning
node dist/bench.mjs "$@"
