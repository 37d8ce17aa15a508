#!/usr/bin/env bash
# A headless browser for the rendered-book checks (tests/book/test_rendered_book.py), installed when none
# is found: Debian's chromium where apt-get exists (Debian, Ubuntu, CI); elsewhere (macOS, other Linux)
# Playwright's own Chromium build, which `python -m playwright install chromium` downloads.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ -n "${LANDSCAPES_CHROMIUM:-}" ] && [ -x "$LANDSCAPES_CHROMIUM" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing Debian's chromium for the browser checks"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  command -v chromium
  exit 0
fi
echo "no apt-get here: installing Playwright's Chromium for the browser checks (python -m playwright install chromium)"
if ! .venv/bin/python -m playwright install chromium; then
  cat >&2 <<'MSG'
Could not install a browser for the rendered-book checks. Install Chromium or Google Chrome yourself
(e.g. `brew install --cask chromium` on macOS), or point LANDSCAPES_CHROMIUM at a Chromium-based browser's
executable, then run `make test` again.
MSG
  exit 1
fi
