#!/bin/sh
# What the bench needs besides npm packages: wrk (the load) and nginx (the one-hop reference),
# from Debian's packages, installed when missing. redis-server is the machine's own (as for tests).
set -e
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
[ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
[ -z "$missing" ] && exit 0
echo "bench: installing$missing from Debian's packages" >&2
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
