#!/usr/bin/env bash
# The Debian packages some tests use: headless Chromium and its WebDriver (the report's browser
# tests, tests/report/) and the wamerican word list (dataset `words`). Idempotent: installs only
# what is missing, with apt-get when run as root; otherwise says why not and exits 0 (the tests
# that need a missing package then skip, saying why).
set -euo pipefail

declare -A NEEDED=([chromium]=/usr/bin/chromium [chromium-driver]=/usr/bin/chromedriver [wamerican]=/usr/share/dict/words)
missing=()
for package in "${!NEEDED[@]}"; do
    [ -e "${NEEDED[$package]}" ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-debian-packages: chromium, chromium-driver and wamerican are installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-debian-packages: not root, cannot apt-get install ${missing[*]}; the tests that need them will skip"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-debian-packages: no apt-get here; install ${missing[*]} by hand to run the tests that need them"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update && apt-get install -y --no-install-recommends "${missing[@]}" \
        || echo "install-debian-packages: apt-get could not install ${missing[*]}; the tests that need them will skip"
fi
