#!/bin/sh
# Install what the build and the tests need, when it is missing (Debian/Ubuntu, as root).
# Elsewhere, or as another user, say exactly what is missing and stop.
# Optional packages (chromium, for the status page test; nodejs and npm, for the tests with the
# npm ollama/openai clients) are installed when apt can; when it cannot, the tests that need
# them skip.
# Usage: tools/install-deps.sh [check|bench|valgrind]
set -u
what=${1:-check}

missing=""
lean=""
optional=""
need() { # need <test> <package>
    if ! eval "$1" >/dev/null 2>&1; then missing="$missing $2"; fi
}
need_lean() { # need_lean <test> <package>: required, installed without its Recommends
    if ! eval "$1" >/dev/null 2>&1; then lean="$lean $2"; fi
}
want() { # want <test> <package>: optional
    if ! eval "$1" >/dev/null 2>&1; then optional="$optional $2"; fi
}
need "command -v musl-gcc" musl-tools
need "command -v redis-server" redis-server
need "command -v redis-cli" redis-tools
need "command -v redis-sentinel" redis-sentinel # the failover tests (t_sentinel.sh)
need "command -v curl" curl
need "command -v dpkg-source" dpkg-dev
need "command -v aarch64-linux-gnu-gcc" gcc-aarch64-linux-gnu
need "command -v arm-linux-gnueabihf-gcc" gcc-arm-linux-gnueabihf
need "test -f /usr/lib/aarch64-linux-musl/libc.a" musl-dev:arm64
need "test -f /usr/lib/arm-linux-musleabihf/libc.a" musl-dev:armhf
need "command -v qemu-aarch64-static" qemu-user-static
if [ "$what" = check ]; then
    # the packages of make deb: lintian checks them, t_deb.sh installs them into a Debian
    # root made by debootstrap; t_deploy.sh runs tools/deploy.sh against a real sshd;
    # t_grafana.sh runs the dashboard's queries in a real Prometheus
    need_lean "command -v lintian" lintian
    need_lean "command -v debootstrap" debootstrap
    need_lean "test -x /usr/sbin/sshd" openssh-server
    need_lean "command -v ssh && command -v scp" openssh-client
    need_lean "command -v ip" iproute2
    need_lean "command -v prometheus" prometheus
    want "command -v chromium" chromium
    want "command -v node" nodejs # the npm client tests (t_clients.sh runs npm ci itself)
    want "command -v npm" npm
fi
if [ "$what" = valgrind ]; then # make valgrind: memcheck over the tests
    need "command -v valgrind" valgrind
fi
if [ "$what" = bench ]; then
    need "test -f /usr/include/hiredis/hiredis.h" libhiredis-dev
    need "command -v redis-benchmark" redis-tools
    need "command -v nginx || test -x /usr/sbin/nginx" nginx-light # cluster-sim's peer: nginx least_conn
fi

if [ -n "$missing$lean" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "install-deps: installing:$missing$lean"
        case "$missing" in *:arm64*|*:armhf*)
            dpkg --add-architecture arm64; dpkg --add-architecture armhf ;;
        esac
        # One index failing while a mirror syncs must not stop us: judge by the install.
        apt-get update -q >/dev/null 2>&1 || echo "install-deps: apt-get update reported errors; trying the install anyway"
        # shellcheck disable=SC2086
        if [ -n "$missing" ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/tmp/orion-apt.log 2>&1; then
            echo "install-deps: apt-get install failed:" >&2
            tail -20 /tmp/orion-apt.log >&2
            exit 1
        fi
        # shellcheck disable=SC2086
        if [ -n "$lean" ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            $lean >/tmp/orion-apt-lean.log 2>&1; then
            echo "install-deps: apt-get install failed:" >&2
            tail -20 /tmp/orion-apt-lean.log >&2
            exit 1
        fi
    else
        echo "install-deps: missing:$missing$lean" >&2
        echo "install-deps: as root: dpkg --add-architecture arm64 && dpkg --add-architecture armhf && apt-get update && apt-get install$missing$lean" >&2
        exit 1
    fi
fi
if [ -n "$optional" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "install-deps: installing (optional):$optional"
        [ -n "$missing$lean" ] || apt-get update -q >/dev/null 2>&1 || true
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $optional \
            >/tmp/orion-apt-optional.log 2>&1 ||
            echo "install-deps: could not install$optional; the tests that need it skip" >&2
    else
        echo "install-deps: optional, not installed:$optional (the tests that need it skip)" >&2
    fi
fi
exec "$(dirname "$0")/fetch-cjson.sh"
