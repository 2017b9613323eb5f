#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, only when it is missing:
# Debian's Chromium for the browser test (playwright-core drives it; no browser is downloaded),
# nginx for the fleet test,
# a running Redis on 127.0.0.1:6379 (the limits tests use a real server), redis-sentinel and
# openssl (the Redis Cluster, Sentinel and TLS tests start their own servers and make their own
# certificates), and promtool (from Debian's prometheus package) to validate and unit-test
# deploy/prometheus/alerts.yml. kubectl, which it cannot install from Debian, it only reports when
# missing.
set -euo pipefail

# ensure COMMAND PACKAGE WHY [apt-get options]: installs PACKAGE when COMMAND is missing.
ensure() {
  local command="$1" package="$2" why="$3"
  shift 3
  command -v "$command" >/dev/null 2>&1 && return 0
  echo "ensure-test-deps: installing Debian's $package for $why" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-test-deps: $command is missing; run 'sudo apt-get install $package' (or run as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" "$package" >/dev/null
}

ensure chromium chromium 'the browser tests'
ensure redis-server redis-server 'the limits tests'
ensure redis-sentinel redis-sentinel 'the Sentinel failover test'
ensure openssl openssl 'the Redis TLS test certificates'
# The fleet test puts three gateways behind a real nginx (started by the test, on a free port).
ensure nginx nginx 'the fleet test' --no-install-recommends
# Only its promtool is used; no Prometheus server is started (no service manager in CI).
ensure promtool prometheus 'promtool' --no-install-recommends

# kubectl renders deploy/kubernetes/ (kubectl kustomize; no cluster) for the manifests test. Not
# installed from Debian: bookworm's kubernetes-client is 1.20, whose kustomize v2 cannot render the
# overlays. The test fails naming what is missing; the rest of the suite runs.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "ensure-test-deps: kubectl is missing: test/deploy/kubernetes-manifests.test.ts needs kubectl 1.27 or later (pkgs.k8s.io or your cloud's SDK)" >&2
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "ensure-test-deps: starting redis-server on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
