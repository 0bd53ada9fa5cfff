#!/bin/sh
# Fails on a breaking change to the contracts against the main branch. On main
# itself, or before main has any contracts, there is nothing to compare.
set -e
cd "$(dirname "$0")/../.."
if ! git rev-parse --verify --quiet main >/dev/null; then
  echo "buf breaking: no main branch here; skipped"
  exit 0
fi
if [ -z "$(git ls-tree -r --name-only main -- proto/swamp 2>/dev/null)" ]; then
  echo "buf breaking: main has no contracts yet; nothing to compare"
  exit 0
fi
./node_modules/.bin/buf breaking --against '.git#branch=main'
echo "buf breaking: no breaking changes against main"
