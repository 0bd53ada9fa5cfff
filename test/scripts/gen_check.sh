#!/bin/sh
# Regenerates proto/gen and fails if the result differs from the files on disk
# (which is what gets committed); the files are left as they were.
set -e
cd "$(dirname "$0")/../.."
saved=$(mktemp -d)
trap 'rm -rf "$saved"' EXIT
cp -R proto/gen "$saved/gen"
./node_modules/.bin/buf generate
./node_modules/deno/deno fmt --quiet proto/gen
if ! diff -r "$saved/gen" proto/gen >/dev/null; then
  diff -r "$saved/gen" proto/gen | head -20 >&2 || true
  rm -rf proto/gen && cp -R "$saved/gen" proto/gen
  echo "proto/gen is out of date with proto/: run \`deno task gen\` and commit the result" >&2
  exit 1
fi
echo "proto/gen matches proto/"
