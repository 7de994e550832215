#!/usr/bin/env bash
# `make test` after setup, in two phases of two lanes each; most of every lane's time is waiting
# (outages the tests are about, hand-overs, stack starts), so two lanes share the 2 cores well.
# 1. The Kafka 4.x subset (tests/other_kafka.sh, on a second stack of its own) runs in the
#    background while lint and the unit tests (no service) run.
# 2. The fault tests (tests/faults, on fault stacks of their own with free ports: about 9 min of
#    outages of 60–70 s) run in the background while the integration and acceptance tests run
#    on the default stack.
# Every part runs; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p .run
log=.run/other-kafka.log
bash tests/other_kafka.sh >"$log" 2>&1 &
other=$!
trap 'kill -TERM "$other" 2>/dev/null; wait "$other"; exit 130' INT TERM
failed=()
"$BIN/ruff" check . || failed+=(ruff)
"$BIN/mypy" || failed+=(mypy)
"$BIN/pytest" tests/unit || failed+=("unit tests")
echo "tests/other_kafka.sh (running alongside lint and the unit tests; its output: $log)"
wait "$other" || failed+=(tests/other_kafka.sh)
tail -n 60 "$log"
trap - INT TERM
"$BIN/hazardwatch" stack up || failed+=("stack up")
flog=.run/faults.log
"$BIN/pytest" -p no:cacheprovider tests/faults >"$flog" 2>&1 &
faults=$!
trap 'kill -INT "$faults" 2>/dev/null; wait "$faults"; exit 130' INT TERM
"$BIN/pytest" tests --ignore=tests/unit --ignore=tests/faults \
  || failed+=("integration and acceptance tests")
echo "tests/faults (running alongside the integration and acceptance tests; its output: $flog)"
wait "$faults" || failed+=("fault tests")
tail -n 80 "$flog"
trap - INT TERM
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'make test: FAILED: %s\n' "${failed[*]}"
  exit 1
fi
echo "make test: passed"
