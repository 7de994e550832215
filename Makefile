# Quick start: `make demo` (the main job) and `make test`. Both install what they need.
VENV := .venv
BIN := $(VENV)/bin
HW := $(BIN)/hazardwatch

.PHONY: setup demo test test-other-kafka unit package-check lint stack-up stack-down stack-status bench clean

setup:
	@bash deploy/setup.sh

demo: setup
	$(HW) stack up
	$(HW) drill combined

# setup fetches the other Kafka release's jars too (in the background) for tests/other_kafka.sh
test test-other-kafka: export HW_SETUP_OTHER_KAFKA := 1
# lint (ruff, mypy; the complexity check is a unit test) and the unit tests while
# tests/other_kafka.sh runs on its own stack; then the integration and acceptance tests on the
# default stack while the fault tests run on stacks of their own (see tests/make_test.sh)
test: setup
	bash tests/make_test.sh

# streams, hand-over and bridge tests on Kafka 4.x, on a second stack (also part of `test`)
test-other-kafka: setup
	bash tests/other_kafka.sh

unit: setup
	$(BIN)/pytest -m unit tests

# fault injection (Kafka, Mosquitto, InfluxDB, workers, alerting) on stacks of its own;
# `make test` runs it too, one test after the other, alongside the integration tests. Here two lanes run at once, each with one
# fault stack shared by its tests (tests/faults/conftest.py); the worker freeze has its own.
FAULT_LANE = tests/faults/test_worker_freeze.py tests/faults/test_broker.py
faults: setup
	@log=$$(mktemp); $(BIN)/pytest -s -p no:cacheprovider $(FAULT_LANE) >$$log 2>&1 & lane=$$!; \
	$(BIN)/pytest -s -p no:cacheprovider tests/faults $(FAULT_LANE:%=--deselect %); rc=$$?; \
	wait $$lane; lrc=$$?; echo "--- $(FAULT_LANE)"; cat $$log; rm -f $$log; \
	test $$rc = 0 && test $$lrc = 0

# the built wheel in a fresh virtual environment outside the checkout (also part of `test`)
package-check: setup
	$(BIN)/pytest tests/acceptance/test_wheel_contents.py tests/acceptance/test_installed_package.py \
		tests/acceptance/test_installed_stack.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider tests/unit/test_complexity.py

stack-up: setup
	$(HW) stack up

stack-down: setup
	$(HW) stack down

stack-status: setup
	$(HW) stack status

bench: setup
	$(BIN)/python bench/stack.py

clean: stack-down
	rm -rf .run
