#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: system packages, the Python environment, then
# what the stack runs: InfluxDB 1.8 built once from the Go module proxy into
# ~/.cache/hazardwatch/ (HW_INFLUX_VERSION=1.6 takes Debian's package instead) and the Kafka
# jars from Maven Central (cached in ~/.m2; HW_KAFKA_VERSION chooses the release).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PYTHON="${PYTHON:-python3}"
mkdir -p .run
bg_pids=()
bg_logs=()

# The slow parts of a cold machine run in the background while apt and pip work: the InfluxDB
# build (minutes of `go install`; its file lock makes `stack install` below wait for it) and the
# Kafka jars' download into ~/.m2. Each is skipped when its result is already there.
go_bin() { command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; }; }
background() {  # NAME COMMAND...: run COMMAND in the background, its output in .run/setup-NAME.log
  local log=".run/setup-$1.log"
  shift
  "$@" >"$log" 2>&1 &
  bg_pids+=($!)
  bg_logs+=("$log")
}
start_influx_build() {
  if [ "${HW_INFLUX_VERSION:-}" = "1.6" ] || [ -n "${influx_started:-}" ] || [ -z "$(go_bin)" ]; then
    return 0
  fi
  influx_started=1
  # influx_build needs only the standard library, so the system Python runs it before .venv
  background influx env PYTHONPATH="$PWD" "$PYTHON" -c 'import os
from hazardwatch.stack import influx_build as b
b.build(os.environ.get("HW_INFLUX_VERSION") or b.DEFAULT_VERSION)'
}
prefetch_kafka() {  # VERSION (empty: the pom's default) POM
  local version="${1:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$2")}"
  if [ -f "$HOME/.m2/repository/org/apache/kafka/kafka_2.13/$version/kafka_2.13-$version.jar" ]; then
    return 0
  fi
  background "kafka-$version" mvn -q -B -f "$2" dependency:resolve "-Dkafka.version=$version"
}
kafka_pom() { case "$1" in 4.*) echo deploy/kafka/pom-4.xml ;; *) echo deploy/kafka/pom.xml ;; esac; }
start_influx_build  # now if Go is there, else after apt has installed it

missing=()
pkgs=(mosquitto chromium chromium-driver fonts-noto-cjk)  # the browser for the console tests
pkgs+=(poppler-utils)  # reports: pdftotext/pdffonts check the PDFs' Chinese (fonts-noto-cjk)
if [ "${HW_INFLUX_VERSION:-}" = "1.6" ]; then pkgs+=(influxdb); fi
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# a C compiler and Python's headers: the JT/T 808 gateway's fast path (ingest/jt808/_fast.c)
command -v gcc >/dev/null 2>&1 || missing+=("gcc")
"$PYTHON" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || missing+=("python3-dev")
command -v java >/dev/null 2>&1 || missing+=("openjdk-17-jre-headless")
command -v mvn >/dev/null 2>&1 || missing+=("maven")
# tests of the deployment files: Caddy runs deploy/Caddyfile, systemd-analyze verifies the units
command -v caddy >/dev/null 2>&1 || missing+=("caddy")
command -v systemd-analyze >/dev/null 2>&1 || missing+=("systemd")
if [ "${HW_INFLUX_VERSION:-}" != "1.6" ] && ! command -v go >/dev/null 2>&1 \
    && [ ! -x /usr/local/go/bin/go ]; then
  missing+=("golang-go")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
start_influx_build
prefetch_kafka "${HW_KAFKA_VERSION:-}" "$(kafka_pom "${HW_KAFKA_VERSION:-3}")"
if [ -n "${HW_SETUP_OTHER_KAFKA:-}" ]; then  # `make test` also runs tests/other_kafka.sh
  prefetch_kafka "${HW_OTHER_KAFKA_VERSION:-}" "$(kafka_pom "${HW_OTHER_KAFKA_VERSION:-4}")"
fi

stamp=".venv/.installed"
# the C fast path (ingest/jt808/_fast.c) is built by the install: its source counts too
want="$(cat pyproject.toml ingest/jt808/_fast.c | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating the Python environment in .venv"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi
if ! .venv/bin/python -c 'from hazardwatch.ingest.jt808 import _fast' 2>/dev/null; then
  echo "setup: building the JT/T 808 gateway's C fast path"  # e.g. gcc installed since
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  .venv/bin/python -c 'from hazardwatch.ingest.jt808 import _fast' \
    || { echo "setup: ingest/jt808/_fast.c did not build (gcc and Python's headers?)"; exit 1; }
fi

for i in "${!bg_pids[@]}"; do  # a failure here is reported (and retried) by `stack install`
  wait "${bg_pids[$i]}" || { echo "setup: ${bg_logs[$i]} failed:"; tail -n 20 "${bg_logs[$i]}"; }
  grep -h "built InfluxDB" "${bg_logs[$i]}" || true
done
.venv/bin/hazardwatch stack install
