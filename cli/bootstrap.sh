#!/bin/sh
# Installs the project's npm packages (Deno itself among them) when they are
# missing or older than package-lock.json, so every entry point works on a
# machine that has only Node and npm.
# cli/swamp sources it (no process of its own on every command), having set
# swamp_root; run by itself, it finds the checkout from its own path.
set -e
swamp_root=${swamp_root:-$(cd "$(dirname "$0")/.." && pwd)}
if [ ! -x "$swamp_root/node_modules/.bin/deno" ] || [ ! -f "$swamp_root/node_modules/.package-lock.json" ] ||
  [ "$swamp_root/package-lock.json" -nt "$swamp_root/node_modules/.package-lock.json" ]; then
  echo "swamp: installing dependencies (npm install)…" >&2
  (cd "$swamp_root" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
