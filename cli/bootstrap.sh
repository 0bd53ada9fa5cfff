#!/bin/sh
# Installs the project's npm packages (Deno itself among them) when they are
# missing or older than package-lock.json, so every entry point works on a
# machine that has only Node and npm.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
stamp="$root/node_modules/.package-lock.json"
if [ ! -x "$root/node_modules/.bin/deno" ] || [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
  echo "swamp: installing dependencies (npm install)…" >&2
  (cd "$root" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
