#!/bin/sh
# Regenerates proto/gen and fails if the committed code differs from it.
set -e
cd "$(dirname "$0")/../.."
./node_modules/.bin/buf generate
./node_modules/deno/deno fmt --quiet proto/gen
if ! git diff --quiet -- proto/gen || [ -n "$(git ls-files --others --exclude-standard proto/gen)" ]; then
  echo "proto/gen is out of date with proto/: run \`deno task gen\` and commit the result" >&2
  git status --short proto/gen >&2
  exit 1
fi
echo "proto/gen matches proto/"
