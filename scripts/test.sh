#!/usr/bin/env bash
# Everything the tests need, then the tests, the way a newcomer's machine would run them:
#   - a virtual environment of its own (.venv) on Python 3.12, Community Cloud's default, holding only
#     requirements-dev.txt, so no package the machine happens to carry takes part;
#   - Debian's Chromium for the real-browser tests (with fonts-noto-cjk, for Chinese) and Caddy for the scale-out
#     test (two servers behind the proxy);
#   - then ruff (lint and format), and pytest from that environment, in two processes. Arguments go to pytest
#     (e.g. scripts/test.sh -m "not browser").
# PYTHON=/path/to/python3.12 picks the interpreter the environment is made from.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
VENV=.venv
WANTED=3.12

find_python() {
  for candidate in "${PYTHON:-}" python$WANTED "$(pyenv root 2>/dev/null)/versions/$WANTED"*/bin/python \
                   /usr/bin/python$WANTED /usr/local/bin/python$WANTED; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c "import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))" 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sys; sys.exit(sys.version_info[:2] != (3, 12))"; then
  if ! python=$(find_python); then
    echo "Python $WANTED was not found. Install it (pyenv install $WANTED, apt-get install python$WANTED," \
         "or python.org), or name it with PYTHON=/path/to/python$WANTED." >&2
    exit 1
  fi
  echo "Making a fresh virtual environment in $VENV with $python ($("$python" --version))"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
fi
echo "Installing requirements-dev.txt into $VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements-dev.txt

missing=()
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if ! command -v caddy >/dev/null; then missing+=(caddy); fi
# A CJK font, so Chinese renders in the browser tests' screenshots (Debian's Chromium brings none).
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then missing+=(fonts-noto-cjk); fi
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
# Lint and format first: they take a second and fail before the fifteen minutes of tests would.
"$VENV/bin/ruff" check --quiet . || { echo "ruff check failed: fix the lines above (ruff check --fix . fixes many)." >&2; exit 1; }
"$VENV/bin/ruff" format --check --quiet . || { echo "ruff format --check failed: run ruff format ." >&2; exit 1; }
"$VENV/bin/python" -c "import sys; print('Testing on Python', sys.version.split()[0], 'in', sys.prefix)"
# Two workers (pytest-xdist): the run is mostly waiting on servers and browsers, 21 min in one process and 14 in two.
# DIGITLAB_TEST_WORKERS=0 runs it in one process.
exec "$VENV/bin/python" -m pytest -n "${DIGITLAB_TEST_WORKERS:-2}" "$@"
