#!/usr/bin/env bash
# `make test` after setup. The Kafka 4.x subset (tests/other_kafka.sh, on a second stack of its
# own) runs in the background while lint and the unit tests run: those use no service, and most
# of the subset's time is waiting (Kafka away 30 s, hand-overs, stack start). The rest of the
# suite (integration, acceptance, faults) starts only when both are done, so no two suites on
# real stacks compete. Every part runs; the exit status is non-zero if any failed.
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
"$BIN/pytest" tests --ignore=tests/unit || failed+=("integration, acceptance and fault tests")
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'make test: FAILED: %s\n' "${failed[*]}"
  exit 1
fi
echo "make test: passed"
