#!/bin/sh
# make install / install-systemd / install-runit into a DESTDIR, and the units' syntax.
. "$(dirname "$0")/lib.sh"
if [ -n "$ORION_WRAP" ]; then
    skip "under valgrind: make install runs no daemon; make check runs this"
    done_testing
    exit 0
fi
if [ -n "${ORION_SANITIZE:-}" ]; then # installing is the same in both runs
    skip "make install is checked by make check, not again by make sanitize"
    done_testing
    exit 0
fi
D=$T_TMP/root
cd "$ORION_TOP" || exit 1
env -u BUILD -u BINDIR -u MAKEFLAGS -u MAKELEVEL make -n build >"$T_TMP/build-n.log" 2>&1
ok $? "make build (the seeds' quick start) is a target: it does what make does"
grep -q '(DEPLOY.md)' docs/INFERENCE-SETUP.md 2>/dev/null
ok $? "docs/INFERENCE-SETUP.md (the seeds' name) leads to the deployment guide"
env -u BUILD -u BINDIR -u MAKEFLAGS -u MAKELEVEL make -s install install-systemd install-runit DESTDIR="$D" PREFIX=/usr >"$T_TMP/install.log" 2>&1
ok $? "make install install-systemd install-runit DESTDIR=... PREFIX=/usr"
for f in usr/bin/orion-inference-worker usr/bin/orion-inference-router usr/bin/orionctl \
    etc/systemd/system/orion-inference-worker.service etc/systemd/system/orion-inference-router.service \
    etc/systemd/system/orion-inference-worker.service.d/order.conf \
    etc/default/orion-inference-worker etc/default/orion-inference-router \
    etc/sv/orion-inference-worker/run etc/sv/orion-inference-worker/log/run etc/orion/worker.env \
    usr/share/doc/orion-inference/PROTOCOL.md; do
    check "installed $f" test -e "$D/$f"
done
grep -q 'ExecStart=/usr/bin/orion-inference-worker' "$D/etc/systemd/system/orion-inference-worker.service"
ok $? "the unit points at PREFIX/bin"
is "$(stat -c %a "$D/etc/default/orion-inference-worker")" 600 "settings file (may hold a password) is mode 600"
echo "ORION_NODE_ID=kept" >"$D/etc/default/orion-inference-worker"
env -u BUILD -u BINDIR -u MAKEFLAGS -u MAKELEVEL make -s install-systemd DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
grep -q kept "$D/etc/default/orion-inference-worker"; ok $? "a second install keeps edited settings"
if command -v systemd-analyze >/dev/null 2>&1; then
    out=$(systemd-analyze verify "$D/etc/systemd/system/orion-inference-worker.service" 2>&1 | grep -v 'Cannot find\|is not executable\|No such file')
    is "$out" "" "systemd-analyze verify: no complaint about the unit"
else
    skip "systemd-analyze not installed"
fi
for f in contrib/env/worker.env contrib/env/router.env; do
    n=$(grep -c '^#ORION_' "$f")
    test "$n" -ge 10; ok $? "$f lists every setting ($n)"
done
# make release: one tarball per target with the right static binaries, and SHA256SUMS over them.
rm -rf "$ORION_TOP/dist"
env -u BUILD -u BINDIR -u MAKEFLAGS -u MAKELEVEL make -s release >"$T_TMP/release.log" 2>&1
ok $? "make release"
(cd "$ORION_TOP/dist" && sha256sum -c --quiet SHA256SUMS) >"$T_TMP/sums.log" 2>&1
ok $? "SHA256SUMS verifies every tarball"
is "$(grep -c 'orion-inference-.*-\(x86_64\|aarch64\|armv7\)\.tar\.gz$' "$ORION_TOP/dist/SHA256SUMS")" 3 \
    "SHA256SUMS lists three tarballs"
elf_machine() { # the ELF e_machine of a file, in decimal: 62 x86-64, 183 aarch64, 40 arm
    od -An -tu2 -j18 -N2 "$1" | tr -d ' '
}
for t in x86_64:62 aarch64:183 armv7:40; do
    name=${t%%:*}
    tgz=$(ls "$ORION_TOP"/dist/orion-inference-*-"$name".tar.gz 2>/dev/null | head -1)
    x=$T_TMP/rel-$name
    mkdir -p "$x"
    tar -C "$x" -xzf "$tgz" 2>/dev/null
    ok $? "$name: the tarball unpacks"
    pkg=$(ls -d "$x"/orion-inference-* | head -1)
    for f in bin/orion-inference-worker bin/orion-inference-router bin/orionctl README.md \
        docs/DEPLOY.md contrib/systemd/orion-inference-worker.service \
        contrib/runit/orion-inference-router/run contrib/env/worker.env; do
        check "$name: has $f" test -e "$pkg/$f"
    done
    is "$(elf_machine "$pkg/bin/orion-inference-worker")" "${t#*:}" "$name: the worker is built for $name"
    ! grep -q 'PT_INTERP\|ld-linux\|ld-musl' "$pkg/bin/orion-inference-router"
    ok $? "$name: the router names no dynamic loader (static)"
done
done_testing
