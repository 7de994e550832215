#!/usr/bin/env bash
# The streams, worker hand-over and bridge integration tests on the other Kafka release (4.x;
# the default stack runs 3.9.1), on a second stack with its own run directory and free ports,
# stopped and removed afterwards. `make test` runs it after the whole suite on the default.
# HW_OTHER_KAFKA_VERSION chooses the release (default 4.1.2).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export HW_KAFKA_VERSION="${HW_OTHER_KAFKA_VERSION:-4.1.2}"
mkdir -p .run
HW_RUN_DIR="$(mktemp -d "$PWD/.run/kafka-$HW_KAFKA_VERSION.XXXXXX")"
export HW_RUN_DIR
read -r HW_MQTT_PORT HW_KAFKA_PORT HW_KAFKA_CONTROLLER_PORT HW_INFLUX_PORT HW_INFLUX_RPC_PORT \
  < <("$BIN/python" -c 'from hazardwatch.stack.process import free_port as f; print(*(f() for _ in range(5)))')
export HW_MQTT_PORT HW_KAFKA_PORT HW_KAFKA_CONTROLLER_PORT HW_INFLUX_PORT HW_INFLUX_RPC_PORT
cleanup() {
  "$BIN/hazardwatch" stack down || true
  rm -rf "$HW_RUN_DIR"
}
trap cleanup EXIT
echo "other Kafka: $HW_KAFKA_VERSION on 127.0.0.1:$HW_KAFKA_PORT, run dir $HW_RUN_DIR"
"$BIN/hazardwatch" stack up
"$BIN/pytest" -p no:cacheprovider tests/integration/test_streams.py \
  tests/integration/test_worker_handover.py tests/integration/test_bridge.py \
  tests/integration/test_bridge_resilience.py "$@"
