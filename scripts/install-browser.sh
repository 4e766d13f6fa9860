#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the report's browser tests (tests/report/).
# Idempotent: does nothing when both binaries are there. Installs Debian's packages with
# apt-get when run as root; otherwise says why not and exits 0 (those tests then skip).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [ -x "$CHROMIUM" ] && [ -x "$DRIVER" ]; then
    echo "install-browser: $CHROMIUM and $DRIVER are installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-browser: not root, cannot apt-get install chromium chromium-driver; the browser tests will skip"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get on this system; install chromium and chromedriver to run the browser tests"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium chromium-driver; then
    apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver \
        || echo "install-browser: apt-get could not install chromium; the browser tests will skip"
fi
