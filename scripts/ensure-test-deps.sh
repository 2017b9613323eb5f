#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, only when it is missing:
# Debian's Chromium for the browser test (playwright-core drives it; no browser is downloaded),
# a running Redis on 127.0.0.1:6379 (the limits tests use a real server), and promtool (from
# Debian's prometheus package) to validate and unit-test deploy/prometheus/alerts.yml.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  echo "ensure-test-deps: installing Debian's chromium for the browser test" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-test-deps: chromium is missing; run 'sudo apt-get install chromium' (or run as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-test-deps: installing Debian's redis-server" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "ensure-test-deps: starting redis-server on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

if ! command -v promtool >/dev/null 2>&1; then
  echo "ensure-test-deps: installing Debian's prometheus package for promtool" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-test-deps: promtool is missing; run 'sudo apt-get install prometheus' (or run as root)" >&2
    exit 1
  fi
  apt-get update -qq
  # Only its promtool is used; no Prometheus server is started (no service manager in CI).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
