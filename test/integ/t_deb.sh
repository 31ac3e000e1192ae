#!/bin/sh
# make deb's packages, for real: lintian over all nine (no error or warning, every override
# explained), their control fields and contents; then the amd64 packages installed with dpkg
# into a Debian 12 root made for the purpose (test/integ/debroot.sh), where the maintainer
# scripts make the user, enable and start the units (a stand-in systemctl runs them); a
# request through the installed router and worker; an upgrade to a newer version while one
# request runs on the worker and one waits in the router, both answered after it; remove,
# then purge. Redis and ollama-sim run outside the root, on loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/debroot.sh"
if [ -n "$ORION_WRAP" ] || [ -n "${ORION_SANITIZE:-}" ]; then
    skip "packages are built and installed by make check, not again by make sanitize or valgrind"
    done_testing
    exit 0
fi
t0=$(date +%s)
R=$T_TMP/root
trap 'debroot_kill "$R"; cleanup' EXIT
cd "$ORION_TOP" || exit 1
V1=0.0.0+test1-1
V2=0.0.0+test2-1

# --- build and lint ------------------------------------------------------------------------
tools/deb.sh --version $V1 --out "$T_TMP/v1" >"$T_TMP/deb1.log" 2>&1
ok $? "tools/deb.sh --version $V1 builds"
tools/deb.sh --version $V2 --arch amd64 --out "$T_TMP/v2" >"$T_TMP/deb2.log" 2>&1
ok $? "... and $V2 (amd64)"
is "$(ls "$T_TMP/v1"/*.deb 2>/dev/null | wc -l)" 9 "nine packages: 3 programs x amd64, arm64, armhf"
for a in amd64:62 arm64:183 armhf:40; do
    arch=${a%%:*}
    for p in orion-inference-worker orion-inference-router orionctl; do
        f=$T_TMP/v1/${p}_${V1}_$arch.deb
        is "$(dpkg-deb -f "$f" Package Version Architecture | tr '\n' ' ')" \
            "Package: $p Version: $V1 Architecture: $arch " "$p $arch: control fields"
    done
    x=$T_TMP/x-$arch
    dpkg-deb -x "$T_TMP/v1/orion-inference-worker_${V1}_$arch.deb" "$x"
    is "$(od -An -tu2 -j18 -N2 "$x/usr/sbin/orion-inference-worker" | tr -d ' ')" "${a#*:}" \
        "$arch: the worker is built for $arch"
    ! readelf -lW "$x/usr/sbin/orion-inference-worker" | grep -q INTERP
    ok $? "$arch: ... and static (no program interpreter)"
done
W1=$T_TMP/v1/orion-inference-worker_${V1}_amd64.deb
RT1=$T_TMP/v1/orion-inference-router_${V1}_amd64.deb
C1=$T_TMP/v1/orionctl_${V1}_amd64.deb
is "$(dpkg-deb -f "$W1" Depends)" adduser "worker: Depends: adduser only (static: no library)"
is "$(dpkg-deb -f "$C1" Depends)" "" "orionctl: no Depends"
is "$(dpkg-deb -f "$RT1" Recommends)" redis-server "router: Recommends: redis-server"
is "$(dpkg-deb --ctrl-tarfile "$RT1" | tar -xO ./conffiles)" /etc/default/orion-inference-router \
    "router: /etc/default/orion-inference-router is a conffile"
check "worker: unit, settings, man page, copyright, changelog" sh -c "dpkg-deb -c $W1 >$T_TMP/c &&
    grep -q ' ./lib/systemd/system/orion-inference-worker.service$' $T_TMP/c &&
    grep -q '^-rw------- root/root .* ./etc/default/orion-inference-worker$' $T_TMP/c &&
    grep -q ' ./usr/share/man/man8/orion-inference-worker.8.gz$' $T_TMP/c &&
    grep -q ' ./usr/share/doc/orion-inference-worker/copyright$' $T_TMP/c &&
    grep -q ' ./usr/share/doc/orion-inference-worker/changelog.Debian.gz$' $T_TMP/c"
tools/deb.sh --version $V1 --arch amd64 --out "$T_TMP/again" >/dev/null 2>&1
cmp -s "$W1" "$T_TMP/again/orion-inference-worker_${V1}_amd64.deb"
ok $? "the build is reproducible (byte-identical a second time)"
if command -v lintian >/dev/null; then
    lintian -I --pedantic --fail-on error,warning "$T_TMP/v1"/*.deb >"$T_TMP/lintian.txt" 2>&1
    ok $? "lintian --pedantic --fail-on error,warning: all nine packages pass"
    is "$(grep -c '^[EW]:' "$T_TMP/lintian.txt")" 0 "... no error or warning tag"
    lintian --pedantic --show-overrides "$T_TMP/v1"/*amd64.deb >"$T_TMP/lintian-o.txt" 2>&1
    grep '^O:' "$T_TMP/lintian-o.txt" | sed 's/^/# /'
    # every override in a package is preceded by its reason
    check "every lintian override has a comment with its reason" sh -c "for f in $T_TMP/x-*/usr/share/lintian/overrides/*; do
        awk '/^[a-z]/ && prev !~ /^#/ { exit 1 } { prev = \$0 }' \$f || exit 1; done"
else
    skip "lintian not installed (tools/install-deps.sh installs it)"
    skip "lintian not installed"
    skip "lintian not installed"
fi
t_build=$(($(date +%s) - t0))

# --- a Debian root ------------------------------------------------------------------------
if ! debroot "$R" 2>"$T_TMP/debroot.err"; then
    cat "$T_TMP/debroot.err" | sed 's/^/# /'
    ok 1 "a Debian 12 root (debootstrap, cached in build/debroot)"
    done_testing
    exit 1
fi
ok 0 "a Debian 12 root (debootstrap, cached in build/debroot)"
t_root=$(($(date +%s) - t0 - t_build))
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
SIM_PORT=$(free_port)
mkdir -p "$R/srv/pi"
bg sim "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$SIM_PORT" --sysfs-root "$R/srv/pi" \
    --models gemma3:1b,qwen2.5:0.5b --load-ms 3000 --tokens-per-s 50
wait_for 5 curl -sf "http://127.0.0.1:$SIM_PORT/api/version"
ok $? "ollama-sim runs (outside the root)"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
# the settings, in place before the first install (as a configuration tool would put them):
# dpkg keeps them (--force-confold), and the first start already uses them
mkdir -p "$R/etc/default"
{
    cat contrib/env/worker.env
    echo "ORION_REDIS_ADDR=$REDIS_ADDR"
    echo "ORION_NODE_ID=pkg-node"
    echo "ORION_OLLAMA_URL=http://127.0.0.1:$SIM_PORT"
    echo "ORION_SYSFS_ROOT=/srv/pi"
    echo "ORION_HEALTH_INTERVAL=1"
} >"$R/etc/default/orion-inference-worker"
{
    cat contrib/env/router.env
    echo "ORION_REDIS_ADDR=$REDIS_ADDR"
    echo "ORION_HTTP_LISTEN=127.0.0.1:$HTTP_PORT"
    echo "ORION_ROUTER_ID=pkg-router"
} >"$R/etc/default/orion-inference-router"
chmod 600 "$R/etc/default/"orion-*
mkdir -p "$R/tmp/v1" "$R/tmp/v2"
cp "$T_TMP/v1/"*_amd64.deb "$R/tmp/v1/"
cp "$T_TMP/v2/"*_amd64.deb "$R/tmp/v2/"
pid_of() { cat "$R/run/orion-test/$1.service.pid" 2>/dev/null; }
running() { # running <unit>: its daemon is alive
    p=$(pid_of "$1")
    [ -n "$p" ] && [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status"
}
dpkg_in() { in_root "$R" dpkg --force-confdef --force-confold "$@" >>"$T_TMP/dpkg.log" 2>&1; }

# --- install ------------------------------------------------------------------------------
dpkg_in -i /tmp/v1/orion-inference-worker_${V1}_amd64.deb /tmp/v1/orion-inference-router_${V1}_amd64.deb \
    /tmp/v1/orionctl_${V1}_amd64.deb
ok $? "dpkg -i: the three packages install"
is "$(in_root "$R" dpkg-query -W -f='${Status} ${Version}\n' orion-inference-worker)" \
    "install ok installed $V1" "... orion-inference-worker $V1 installed"
u=$(in_root "$R" getent passwd _orion)
is "$(echo "$u" | cut -d: -f6,7)" "/nonexistent:/usr/sbin/nologin" "postinst made the system user _orion (no home, no shell)"
uid=$(echo "$u" | cut -d: -f3)
check "... with a system uid ($uid)" test "$uid" -ge 100 -a "$uid" -lt 1000
for s in orion-inference-worker orion-inference-router; do
    check "$s: enabled (multi-user.target.wants link)" test -L "$R/etc/systemd/system/multi-user.target.wants/$s.service"
    check "$s: started by postinst (systemctl start)" grep -q "^systemctl --quiet --system start $s.service" "$R/run/orion-test/systemctl.log"
    wait_for 5 running $s
    ok $? "$s: running"
    is "$(awk '/^Uid:/ { print $2 }' "/proc/$(pid_of $s)/status")" "$uid" "$s: runs as _orion"
done
check "the settings in place were kept (dpkg --force-confold)" grep -q '^ORION_NODE_ID=pkg-node' "$R/etc/default/orion-inference-worker"
check "... and the package's own beside them, as .dpkg-dist" cmp -s contrib/env/worker.env "$R/etc/default/orion-inference-worker.dpkg-dist"
wait_for 10 sh -c "curl -sf $URL/backends | grep -q '\"node\":\"pkg-node\",\"eligible\":true'"
ok $? "the installed router sees the installed worker (pkg-node) eligible"
a=$(curl -s -m 60 "$URL/api/generate" -d '{"model":"gemma3:1b","prompt":"hello from a package","stream":false}')
echo "$a" | grep -q '"done":true'
ok $? "a request through the installed router and worker is answered"
is "$(in_root "$R" orionctl --redis-addr "$REDIS_ADDR" status | awk '$1 == "pkg-node" { print $1 }')" pkg-node \
    "the installed orionctl shows the node"

# --- upgrade while one request runs and one waits -----------------------------------------
wpid=$(pid_of orion-inference-worker)
rpid=$(pid_of orion-inference-router)
# one that runs: a model not loaded yet (a 3 s cold load on ollama-sim)
in_root "$R" orionctl --redis-addr "$REDIS_ADDR" submit --model qwen2.5:0.5b --prompt "running during the upgrade" \
    --wait 120 >"$T_TMP/run.out" 2>"$T_TMP/run.err" &
T_PIDS="$T_PIDS $!"
wait_for 10 sh -c "redis-cli -p $REDIS_PORT HGET orion:inference:health pkg-node | grep -q '\"inflight\":1'"
ok $? "request 1 is running on pkg-node"
in_root "$R" orionctl --redis-addr "$REDIS_ADDR" drain pkg-node >/dev/null
# one that waits in the router: its only node is drained
in_root "$R" orionctl --redis-addr "$REDIS_ADDR" submit --model gemma3:1b --prompt "waiting during the upgrade" \
    --wait 120 >"$T_TMP/wait.out" 2>"$T_TMP/wait.err" &
waiter=$!
T_PIDS="$T_PIDS $waiter"
wait_for 10 sh -c "curl -s $URL/metrics | grep -q '^orion_queue_depth 1'"
ok $? "request 2 waits in the router (pkg-node drained)"
tu=$(date +%s)
dpkg_in -i /tmp/v2/orion-inference-worker_${V2}_amd64.deb /tmp/v2/orion-inference-router_${V2}_amd64.deb \
    /tmp/v2/orionctl_${V2}_amd64.deb
ok $? "dpkg -i: upgrade to $V2"
t_up=$(($(date +%s) - tu))
is "$(in_root "$R" dpkg-query -W -f='${Version}' orion-inference-router)" "$V2" "... $V2 installed"
for s in orion-inference-worker orion-inference-router; do
    check "$s: restarted by postinst (systemctl restart)" grep -q "^systemctl --quiet --system restart $s.service" "$R/run/orion-test/systemctl.log"
    wait_for 5 running $s
    ok $? "$s: running again"
done
check "... new processes (the worker was $wpid, the router $rpid)" test "$(pid_of orion-inference-worker)" != "$wpid" -a "$(pid_of orion-inference-router)" != "$rpid"
check "... running the new binaries (not a deleted inode)" sh -c "! readlink /proc/$(pid_of orion-inference-router)/exe | grep -q deleted"
check "request 1 finished on the old worker before it stopped (answer printed)" grep -q . "$T_TMP/run.out"
check "the edited settings survived the upgrade" grep -q "^ORION_HTTP_LISTEN=127.0.0.1:$HTTP_PORT" "$R/etc/default/orion-inference-router"
check "... with no .dpkg-new or .dpkg-old beside them (the package's file did not change)" sh -c "! ls $R/etc/default | grep -q 'dpkg-new\|dpkg-old'"
in_root "$R" orionctl --redis-addr "$REDIS_ADDR" undrain pkg-node >/dev/null
w_end=$(($(date +%s) + 60 * ORION_SLOW))
while ! gone "$waiter" && [ "$(date +%s)" -le "$w_end" ]; do sleep 0.2; done
wait "$waiter"
ok $? "request 2, held across the router's restart, is answered once pkg-node is back"
check "... with text" grep -q . "$T_TMP/wait.out"

# --- remove, purge ------------------------------------------------------------------------
wpid=$(pid_of orion-inference-worker)
dpkg_in -r orion-inference-worker orion-inference-router orionctl
ok $? "dpkg -r"
check "prerm stopped the daemons" sh -c "! test -e /proc/$wpid"
is "$(in_root "$R" dpkg-query -W -f='${db:Status-Abbrev}' orion-inference-worker)" "rc " "... state rc: removed, settings kept"
check "... binary gone, settings kept" sh -c "! test -e $R/usr/sbin/orion-inference-worker && test -f $R/etc/default/orion-inference-worker"
dpkg_in -P orion-inference-worker orion-inference-router orionctl
ok $? "dpkg -P"
check "purge: settings gone" sh -c "! test -e $R/etc/default/orion-inference-worker && ! test -e $R/etc/default/orion-inference-router"
check "... the enable link and deb-systemd-helper's state gone" sh -c \
    "! test -e $R/etc/systemd/system/multi-user.target.wants/orion-inference-worker.service &&
     ! ls $R/var/lib/systemd/deb-systemd-helper-enabled/ 2>/dev/null | grep -q orion &&
     ! ls -a $R/etc/systemd/system/ | grep -q orion"
is "$(in_root "$R" dpkg-query -W -f='${db:Status-Abbrev}' orion-inference-worker 2>/dev/null)" "" "... dpkg forgets the package"
check "... the user _orion stays (documented)" in_root "$R" getent passwd _orion
echo "# times: build+lint ${t_build}s, root ${t_root}s, upgrade ${t_up}s, all $(($(date +%s) - t0))s"
done_testing
