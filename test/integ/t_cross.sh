#!/bin/sh
# The cross-built binaries run: each answers --version under qemu-user with its own triple.
. "$(dirname "$0")/lib.sh"
if [ -n "$ORION_WRAP" ]; then
    skip "under valgrind: the cross binaries are static musl run by qemu-user, which memcheck cannot instrument; make check runs this"
    done_testing
    exit 0
fi
if [ -n "${ORION_SANITIZE:-}" ]; then # the cross binaries are the same in both runs
    skip "cross builds are checked by make check, not again by make sanitize"
    done_testing
    exit 0
fi
for arch in aarch64 armv7; do
    case $arch in
    aarch64) qemu=qemu-aarch64-static triple=aarch64-linux-musl ;;
    armv7) qemu=qemu-arm-static triple=armv7-linux-musleabihf ;;
    esac
    if ! command -v $qemu >/dev/null 2>&1; then
        skip "$qemu not installed"
        continue
    fi
    for prog in orion-inference-worker orion-inference-router; do
        b=$ORION_TOP/bin/$arch/$prog
        if [ ! -x "$b" ]; then
            ok 1 "$arch $prog built (run make cross)"
            continue
        fi
        out=$($qemu "$b" --version 2>&1)
        case "$out" in *"$prog"*"$triple"*) ok 0 "$arch $prog --version under $qemu: $out" ;;
        *) ok 1 "$arch $prog --version under $qemu: $out" ;; esac
        out=$($qemu "$b" --help 2>&1 | grep -c ORION_REDIS_ADDR)
        is "$out" 1 "$arch $prog --help lists flags with their variables"
        $qemu "$b" --no-such-flag >/dev/null 2>&1
        is "$?" 100 "$arch $prog: unknown flag exits 100"
    done
done
done_testing
