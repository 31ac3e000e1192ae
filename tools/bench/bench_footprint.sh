#!/bin/sh
# Footprint: stripped binary sizes (x86_64, aarch64, armv7; peer = the issue's goal: worker
# 128 KiB, router 192 KiB), idle RSS of worker and router after 10 s (peer = a redis-server
# started and measured in the same run), idle CPU over the next 30 s (same peer).
# The idle cluster: redis-server, one ollama-sim, one worker, one router, production defaults
# (health every 5 s, HTTP front on), nothing submitted.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/orion-foot-XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sizes -------------------------------------------------------------------------------
for arch in x86_64 aarch64 armv7; do
    case $arch in
    x86_64) dir=bin strip=strip ;;
    aarch64) dir=bin/aarch64 strip=aarch64-linux-gnu-strip ;;
    armv7) dir=bin/armv7 strip=arm-linux-gnueabihf-strip ;;
    esac
    for prog in worker router; do
        f=$dir/orion-inference-$prog
        if [ ! -f "$f" ]; then
            echo "# footprint: $f missing (make cross), skipped"
            continue
        fi
        cp "$f" "$tmp/s" # the build links with -s; strip again in case a build did not
        command -v "$strip" >/dev/null 2>&1 && "$strip" "$tmp/s" 2>/dev/null
        goal=131072
        [ $prog = router ] && goal=196608
        echo "BENCH binary_size_${arch}_$prog value=$(wc -c <"$tmp/s" | tr -d ' ') unit=bytes peer=goal peer_value=$goal better=lower"
    done
done
rs=$(command -v redis-server) && echo "# footprint: for scale, $rs (Debian, dynamic) is $(wc -c <"$rs" | tr -d ' ') bytes"

# --- idle RSS and CPU ----------------------------------------------------------------------
fp() { build/x86_64-linux-musl/test/tools/freeport; }
rp=$(fp) sp=$(fp) hp=$(fp)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
RPID=$!
PIDS="$PIDS $RPID"
mkdir -p "$tmp/root"
bin/ollama-sim --listen "127.0.0.1:$sp" --sysfs-root "$tmp/root" --log-level warning >"$tmp/sim.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until redis-cli -p "$rp" ping >/dev/null 2>&1 && curl -sf "http://127.0.0.1:$sp/api/version" >/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "# footprint: redis or ollama-sim did not start"; exit 0; }
    sleep 0.05
done
bin/orion-inference-worker --node-id idle --redis-addr "127.0.0.1:$rp" --ollama-url "http://127.0.0.1:$sp" \
    --sysfs-root "$tmp/root" --log-level warning >"$tmp/worker.log" 2>&1 &
WPID=$!
PIDS="$PIDS $WPID"
bin/orion-inference-router --redis-addr "127.0.0.1:$rp" --http-listen "127.0.0.1:$hp" --log-level warning \
    >"$tmp/router.log" 2>&1 &
OPID=$!
PIDS="$PIDS $OPID"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; } # utime + stime
sleep 10
wr=$(rss $WPID) orr=$(rss $OPID) rr=$(rss $RPID)
w0=$(ticks $WPID) o0=$(ticks $OPID) r0=$(ticks $RPID)
sleep 30
w1=$(ticks $WPID) o1=$(ticks $OPID) r1=$(ticks $RPID)
hz=$(getconf CLK_TCK)
if [ -z "$wr" ] || [ -z "$orr" ] || [ -z "$w1" ] || [ -z "$o1" ]; then
    echo "# footprint: worker or router died while idle"
    exit 0
fi
cpu() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz / 30 * 100 }'; }
echo "BENCH idle_rss_worker value=$wr unit=KiB peer=redis-server peer_value=$rr better=lower"
echo "BENCH idle_rss_router value=$orr unit=KiB peer=redis-server peer_value=$rr better=lower"
echo "BENCH idle_cpu_worker value=$(cpu "$w0" "$w1") unit=%core peer=redis-server peer_value=$(cpu "$r0" "$r1") better=lower"
echo "BENCH idle_cpu_router value=$(cpu "$o0" "$o1") unit=%core peer=redis-server peer_value=$(cpu "$r0" "$r1") better=lower"
echo "# footprint: idle RSS after 10 s, CPU over the next 30 s (CLK_TCK $hz: resolution $(cpu 0 1) %)"
