#!/usr/bin/env bash
# `npm ci` when node_modules is missing or was installed from another lock file.
set -euo pipefail
stamp=node_modules/.outpost-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
