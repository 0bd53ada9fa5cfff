#!/usr/bin/env bash
# Makes PostgreSQL's server binaries (initdb, pg_ctl, postgres, psql) present
# for the PostgreSQL store's tests: installs Debian's `postgresql` package when
# no initdb is found under /usr/lib/postgresql/*/bin or on PATH. It starts no
# server: each test file starts its own throwaway cluster in a temporary
# directory (test/helpers/postgres.ts) and stops it by pid. Exit status 0 only
# when an initdb is there afterwards.
set -uo pipefail
log=${SWAMP_CI_POSTGRES_LOG:-/tmp/swamp-ci-postgres.log}
: >"$log"
say() { echo "$*" | tee -a "$log"; }

find_initdb() {
  ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
  command -v initdb 2>/dev/null
}

if [ -z "$(find_initdb)" ]; then
  say "installing postgresql"
  if ! (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql) \
    >>"$log" 2>&1; then
    say "apt-get install failed (its output is in $log)"
  fi
  # Debian's package starts a system cluster; the tests do not use it.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for conf in /etc/postgresql/*/main; do
      [ -d "$conf" ] || continue
      version=$(basename "$(dirname "$conf")")
      pg_ctlcluster "$version" main stop >>"$log" 2>&1 || true
    done
  fi
fi

initdb=$(find_initdb | head -n 1)
[ -n "$initdb" ] || { say "no initdb after install"; exit 1; }
say "postgresql: $("$initdb" --version)"
