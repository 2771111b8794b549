#!/bin/sh
# Installs Debian's chromium for the report-rendering test; does nothing when it is already there.
# Idempotent and non-interactive, so `make test` can call it every time (we run as root in CI).
set -eu

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_chromium.sh: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version
