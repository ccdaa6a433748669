#!/usr/bin/env bash
# Everything the tests need, then the tests: the pinned packages, Debian's Chromium for the real-browser tests and
# Caddy for the scale-out test (two servers behind the proxy), then pytest. Arguments go to pytest
# (e.g. scripts/test.sh -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m pip install -q -r requirements-dev.txt
missing=()
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if ! command -v caddy >/dev/null; then missing+=(caddy); fi
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing ${missing[*]}: install them (CHROMIUM=/path/to/chrome names another browser), or add -m 'not browser'." >&2
    exit 1
  fi
fi
exec python3 -m pytest "$@"
