#!/usr/bin/env bash
# Install what tools/ui_test.py needs, idempotently: Debian's Chromium (only if /usr/bin/chromium is missing) and the
# Python playwright package (pinned) in the virtualenv given as $1 (default .venv). Playwright drives the system
# Chromium: this never runs `playwright install`, whose browser download is not needed (and not reachable offline).
#   tools/install_ui_deps.sh [VENV]
set -euo pipefail
VENV=${1:-.venv}
PLAYWRIGHT_VERSION=1.65.2          # verified with Debian 12's chromium 156 and JupyterLab 4.6

if [ ! -x /usr/bin/chromium ]; then
  if ! command -v apt-get >/dev/null; then
    echo "install_ui_deps: /usr/bin/chromium is missing and there is no apt-get here: install Chromium yourself" >&2; exit 2
  fi
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install_ui_deps: installing chromium with apt-get"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
  # Ubuntu's chromium package is a snap wrapper that does not work in containers; say so instead of failing later.
  /usr/bin/chromium --version >/dev/null 2>&1 \
    || { echo "install_ui_deps: /usr/bin/chromium does not run (on Ubuntu it is a snap): pass --chromium to tools/ui_test.py" >&2; exit 2; }
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "install_ui_deps: no virtualenv at $VENV (run make install first)" >&2; exit 2
fi
if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null)" != "$PLAYWRIGHT_VERSION" ]; then
  echo "install_ui_deps: installing playwright==$PLAYWRIGHT_VERSION into $VENV"
  "$VENV/bin/python" -m pip install -q "playwright==$PLAYWRIGHT_VERSION"
fi
echo "install_ui_deps: $(/usr/bin/chromium --version 2>/dev/null | head -1), playwright $PLAYWRIGHT_VERSION in $VENV"
