#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: system packages, the Python environment, then
# what the stack runs: InfluxDB 1.8 built once from the Go module proxy into
# ~/.cache/hazardwatch/ (HW_INFLUX_VERSION=1.6 takes Debian's package instead) and the Kafka
# jars from Maven Central (cached in ~/.m2; HW_KAFKA_VERSION chooses the release).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
pkgs=(mosquitto chromium chromium-driver fonts-noto-cjk)  # the browser for the console tests
pkgs+=(poppler-utils)  # reports: pdftotext/pdffonts check the PDFs' Chinese (fonts-noto-cjk)
if [ "${HW_INFLUX_VERSION:-}" = "1.6" ]; then pkgs+=(influxdb); fi
for pkg in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
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

PYTHON="${PYTHON:-python3}"
stamp=".venv/.installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating the Python environment in .venv"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi

.venv/bin/hazardwatch stack install
