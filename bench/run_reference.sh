#!/usr/bin/env bash
# Runs the `cairn bench` workloads behind docs/benchmarks.md and keeps each
# report (JSON and the human summary) in OUT_DIR.
#
#   bench/run_reference.sh [OUT_DIR]
#
# CAIRN     the cairn binary (default: build/tools/cairn)
# BENCH_DIR where the stores go (default: $TMPDIR or /tmp)
# QUIET     minimum idle CPU share, in percent, over 5 s before each run
#           (default 90): figures taken beside a compiler mean nothing.
#           0 disables the wait.
# QUIET_WAIT  give up waiting after this many seconds and run anyway,
#           noting it in the summary (default 1800).
set -euo pipefail

out=${1:-bench-results}
cairn=${CAIRN:-build/tools/cairn}
quiet=${QUIET:-90}
quiet_wait=${QUIET_WAIT:-1800}
dir_args=()
if [[ -n ${BENCH_DIR:-} ]]; then dir_args=(--dir "$BENCH_DIR"); fi
mkdir -p "$out"

# Idle share of all CPUs over 5 s, in percent, from /proc/stat.
idle_percent() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 5
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  local idle=$(((b[4] - a[4]) + (b[5] - a[5])))
  echo $((total > 0 ? 100 * idle / total : 0))
}

wait_quiet() {
  [[ $quiet -gt 0 ]] || return 0
  local waited=0 idle
  while :; do
    idle=$(idle_percent)
    if [[ $idle -ge $quiet ]]; then return 0; fi
    waited=$((waited + 5))
    if [[ $waited -ge $quiet_wait ]]; then
      echo "warning: machine still busy (${idle}% idle), running anyway" >&2
      return 0
    fi
  done
}

run() {
  local name=$1
  shift
  wait_quiet
  echo "== $name: cairn bench $* ($(date -u +%FT%TZ), idle $(idle_percent)%)" |
    tee -a "$out/commands.txt"
  "$cairn" bench "$@" "${dir_args[@]}" --json >"$out/$name.json"
}

run all --workload all --duration 5
run read-streams --workload read-streams --duration 5
run read-streams-1m --workload read-streams --streams 1000000 \
  --events 2000000 --duration 5
run scale --workload scale
run demo --workload all --duration 2
