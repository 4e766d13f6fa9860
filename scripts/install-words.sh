#!/bin/sh
# The English word list of dataset `words`: Debian's wamerican package (/usr/share/dict/words).
set -eu
if [ -f /usr/share/dict/words ]; then
    echo "word list present: /usr/share/dict/words"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq wamerican
