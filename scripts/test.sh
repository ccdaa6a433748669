#!/usr/bin/env bash
# Everything the tests need, then the tests: the pinned packages, a Chromium for the real-browser tests, pytest.
# Arguments go to pytest (e.g. scripts/test.sh -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m pip install -q -r requirements-dev.txt
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then  # Debian's Chromium drives the browser tests
  if command -v apt-get >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq chromium >/dev/null
  else
    echo "No Chromium at /usr/bin/chromium: set CHROMIUM=/path/to/chrome, or add -m 'not browser'." >&2
    exit 1
  fi
fi
exec python3 -m pytest "$@"
