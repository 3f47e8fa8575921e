#!/bin/sh
# The dashboard's browser tests drive Debian's Chromium, with a CJK font for the Chinese names
# the demo fleet carries. Installs both when either is missing; does nothing when both are there.
set -eu

CHROMIUM=/usr/bin/chromium
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
PACKAGES="chromium fonts-wqy-zenhei"

if [ -x "$CHROMIUM" ] && [ -f "$CJK_FONT" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/dashboard needs Chromium at $CHROMIUM and a CJK font ($CJK_FONT):" \
        "install them with your package manager (this is not a Debian-like system)" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=""
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT="sudo"
else
    echo "tests/dashboard needs Debian's $PACKAGES: run 'make test' as root, install sudo," \
        "or run 'apt-get install $PACKAGES' as root once" >&2
    exit 1
fi
# The package lists are refreshed only when they do not know the packages yet.
if ! apt-cache show $PACKAGES >/dev/null 2>&1; then
    $AS_ROOT apt-get update -qq
fi
echo "Installing $PACKAGES for the dashboard's browser tests"
$AS_ROOT env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
