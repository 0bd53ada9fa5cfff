#!/usr/bin/env bash
# Makes a Docker engine answer on /var/run/docker.sock for the Docker tests:
# installs docker.io and busybox-static when missing, clears what a previous
# engine left behind (a pid file naming a process that is no dockerd, a dead
# socket), starts dockerd without a bridge, and waits for it. Exit status 0
# only when `docker info` answers. Everything it did is in $SWAMP_CI_DOCKER_LOG.
set -uo pipefail
log=${SWAMP_CI_DOCKER_LOG:-/tmp/swamp-ci-docker.log}
: >"$log"
say() { echo "$*" | tee -a "$log"; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null 2>&1 || ! command -v busybox >/dev/null 2>&1 \
  || ! command -v docker >/dev/null 2>&1; then
  say "installing docker.io and busybox-static"
  if ! (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io busybox-static) \
    >>"$log" 2>&1; then
    say "apt-get install failed (its output is in $log)"
  fi
fi

engine_answers && { say "docker engine already answers"; exit 0; }
command -v dockerd >/dev/null 2>&1 || { say "no dockerd binary after install"; exit 1; }

# A pid file survives a machine snapshot or a killed engine; dockerd refuses to
# start while the pid in it names a live process, even one that is not dockerd.
for pidfile in /var/run/docker.pid /run/docker.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile" 2>/dev/null)
  comm=$(cat "/proc/$pid/comm" 2>/dev/null)
  if [ "$comm" != "dockerd" ]; then
    say "removing stale $pidfile (pid ${pid:-?} is ${comm:-not running})"
    rm -f "$pidfile"
  else
    say "dockerd pid $pid is alive but does not answer; stopping it"
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 20); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$pidfile"
  fi
done
for sock in /var/run/docker.sock /run/docker.sock; do
  [ -S "$sock" ] && { say "removing dead socket $sock"; rm -f "$sock"; }
done

start_engine() {
  say "starting dockerd $*"
  nohup dockerd --bridge=none --iptables=false --ip6tables=false "$@" \
    >>"$log" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 90); do
    engine_answers && { say "docker engine $(docker version --format '{{.Server.Version}}') answers"; return 0; }
    [ -d "/proc/$pid" ] || { say "dockerd exited before answering"; return 1; }
    sleep 1
  done
  say "dockerd did not answer within 90 s"
  kill "$pid" 2>/dev/null
  return 1
}

# overlay2 cannot sit on some nested file systems; vfs always works, slower.
start_engine || start_engine --storage-driver vfs
