#!/bin/sh
# Fetch cJSON into vendor/cjson/ from Debian's source package at the pinned version, and check
# both files against vendor/cjson.sha256. Nothing else is taken from the package.
set -eu
VERSION=1.7.15-1+deb12u4
top=$(cd "$(dirname "$0")/.." && pwd)
dest="$top/vendor/cjson"
sums="$top/vendor/cjson.sha256"

check() {
    (cd "$top" && grep -v '^#' "$sums" | sha256sum -c --quiet -) >/dev/null 2>&1
}

if [ -f "$dest/cJSON.c" ] && [ -f "$dest/cJSON.h" ] && check; then
    exit 0
fi

have_src() {
    apt-get source --print-uris "cjson=$VERSION" 2>/dev/null | grep -q "cjson_1.7.15"
}

if ! command -v apt-get >/dev/null 2>&1; then
    echo "fetch-cjson: apt-get not found: put cJSON.c and cJSON.h of Debian's cjson $VERSION into vendor/cjson/ (see vendor/README.md)" >&2
    exit 1
fi
if ! have_src; then
    if [ "$(id -u)" != 0 ]; then
        echo "fetch-cjson: no deb-src entry for bookworm: add one (see vendor/README.md) or run as root" >&2
        exit 1
    fi
    # A deb-src entry for bookworm and bookworm-security, the only change made to apt's setup.
    cat > /etc/apt/sources.list.d/orion-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update >/dev/null 2>&1 || true
    if ! have_src; then
        echo "fetch-cjson: apt cannot find the source of cjson $VERSION" >&2
        exit 1
    fi
fi
if ! command -v dpkg-source >/dev/null 2>&1; then
    echo "fetch-cjson: dpkg-source missing: apt-get install dpkg-dev" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get source "cjson=$VERSION" >log 2>&1) || {
    echo "fetch-cjson: apt-get source cjson=$VERSION failed:" >&2
    tail -5 "$tmp/log" >&2
    exit 1
}
mkdir -p "$dest"
cp "$tmp/cjson-1.7.15/cJSON.c" "$tmp/cjson-1.7.15/cJSON.h" "$tmp/cjson-1.7.15/LICENSE" "$dest/"
if ! check; then
    echo "fetch-cjson: checksum mismatch for vendor/cjson (expected vendor/cjson.sha256)" >&2
    rm -f "$dest/cJSON.c" "$dest/cJSON.h"
    exit 1
fi
echo "fetch-cjson: vendor/cjson from Debian cjson $VERSION, checksums match"
