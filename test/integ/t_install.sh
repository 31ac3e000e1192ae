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
done_testing
