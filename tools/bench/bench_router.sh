#!/bin/sh
# The router's own cost, with fake nodes: health records written straight into P:health
# (tools/bench/routebench.c, refreshed every second), no workers, no Ollama; the router only
# XADDs to the node streams, and routebench reads them. One redis-server, emptied between parts.
#   1. throughput: a backlog of BACKLOG (100 000) requests on P:requests, 10 nodes of
#      capacity 1; routes/s while the backlog moves to the node streams (XLEN every 10 ms;
#      10 % to 90 % of it), against the Redis ceiling for the same command mix: redis-benchmark
#      running tools/bench/route_mix.lua as EVAL on the same backlog (see that file). RUNS
#      (3) of each, interleaved; the best of each counts.
#   2. latency: XADD to P:requests -> the entry on a node stream (XREAD BLOCK), RATE (100)/s
#      Poisson for SCALE_S (20) s, 10 nodes with free slots; against one round trip: the
#      median PING on the submitting connection, measured during the same run.
#   3. scale: the same with 100 nodes: router CPU per 1000 routed requests and latency, as
#      ratios to the 10-node run.
#   4. busy nodes: as 2, 10 s, nodes of capacity 1 that never finish (every node full).
# Parts 1 and 4 run the router with --binding early: sticky binds late by default, and a
# late-bound request leaves only for a free slot, which these nodes never have (the slot a
# done event frees is measured by bench_path.sh).
# Knobs: BACKLOG=100000 RUNS=3 (part 1: ceiling and router interleaved, best of each) RATE=100
# SCALE_S=20 BUSY_S=10.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
BACKLOG=${BACKLOG:-100000}
RUNS=${RUNS:-3}
RATE=${RATE:-100}
SCALE_S=${SCALE_S:-20}
BUSY_S=${BUSY_S:-10}
out=$top/build/bench
mkdir -p "$out"
tmp=$(mktemp -d /tmp/orion-rbench-XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t_start=$(date +%s)

[ -f build/x86_64-linux-musl/liborion.a ] && [ -x bin/orion-inference-router ] || make -s >/dev/null || exit 1
[ -x build/x86_64-linux-musl/test/tools/freeport ] ||
    make -s build/x86_64-linux-musl/test/tools/freeport >/dev/null || exit 1
RB=$out/routebench
musl-gcc -std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
    -Wold-style-definition -Wwrite-strings -Wshadow -Wformat=2 -Wvla -Werror \
    -Wdeclaration-after-statement -D_POSIX_C_SOURCE=200809L -Iinclude -O2 -static \
    -o "$RB" tools/bench/routebench.c build/x86_64-linux-musl/liborion.a -lm || exit 1
command -v redis-benchmark >/dev/null 2>&1 || {
    echo "# router: redis-benchmark missing (tools/install-deps.sh bench), skipped"
    exit 0
}

rp=$(build/x86_64-linux-musl/test/tools/freeport)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
RPID=$!
PIDS="$PIDS $RPID"
i=0
until redis-cli -p "$rp" ping >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "# router: redis-server did not start"; exit 0; }
    sleep 0.05
done
R() { redis-cli -p "$rp" "$@"; }
HPID="" OPID=""
start() { # start <nodes> <capacity>: empty Redis, fake health, router
    R FLUSHALL >/dev/null
    "$RB" health --port "$rp" --nodes "$1" --capacity "$2" &
    HPID=$!
    PIDS="$PIDS $HPID"
    i=0
    until [ "$(R HLEN orion:inference:health)" = "$1" ] || [ $i -gt 50 ]; do sleep 0.05; i=$((i + 1)); done
}
router() { # router [flags]
    bin/orion-inference-router --redis-addr "127.0.0.1:$rp" --http-listen off --log-level warning \
        --router-id bench "$@" >>"$tmp/router.log" 2>&1 &
    OPID=$!
    PIDS="$PIDS $OPID"
}
stop() { # the router and the health writer of this part
    kill "$OPID" "$HPID" 2>/dev/null
    wait "$OPID" "$HPID" 2>/dev/null
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime
kv() { # kv <line> <key>
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# --- 1. throughput against the Redis ceiling, RUNS times interleaved, the best of each -------
calls=$((BACKLOG / 100))
best_c=0 best_r=0 best_u=0 all_c="" all_r="" all_u=""
hz=$(getconf CLK_TCK)
run=0
while [ $run -lt "$RUNS" ]; do
    run=$((run + 1))
    R FLUSHALL >/dev/null
    "$RB" fill --port "$rp" --count "$BACKLOG" 2>/dev/null || exit 1
    R XGROUP CREATE orion:inference:requests inference-router 0 >/dev/null
    redis-benchmark -p "$rp" -c 1 -n "$calls" --csv EVAL "$(cat tools/bench/route_mix.lua)" 2 \
        orion:inference:requests orion:inference:events inference-router rb 100 10 >"$tmp/rb.csv" 2>&1
    rps=$(tail -n 1 "$tmp/rb.csv" | awk -F'","' '{ print $(NF - 6) }')
    moved=0
    for k in $(R --scan --pattern 'orion:inference:requests:cn*'); do moved=$((moved + $(R XLEN "$k"))); done
    c=$(awk -v r="$rps" 'BEGIN { printf "%.0f", r * 100 }')
    if [ "$moved" != "$BACKLOG" ]; then
        echo "# router: the ceiling script moved $moved of $BACKLOG entries; run not counted"
        c=0
    fi
    all_c="$all_c $c"
    [ "$c" -gt "$best_c" ] && best_c=$c

    start 10 1
    "$RB" fill --port "$rp" --count "$BACKLOG" 2>/dev/null || exit 1
    r0=$(ticks "$RPID")
    router --binding early # (bound late, nothing would leave for the full nodes)
    "$RB" drain --port "$rp" --nodes 10 --count "$BACKLOG" --timeout 120 >"$tmp/drain"
    r1=$(ticks "$RPID") o1=$(ticks "$OPID")
    stop
    drain=$(cat "$tmp/drain")
    # Redis's CPU over the whole drain, per routed request: the most routes/s one Redis core
    # could serve with exactly this mix (the router's own commands, the health writes, XLENs)
    u=$(awk -v a="$r0" -v b="$r1" -v hz="$hz" -v n="$BACKLOG" 'BEGIN { printf "%.0f", (b > a ? n / ((b - a) / hz) : 0) }')
    echo "# router: backlog $BACKLOG, 10 nodes, run $run: $drain $(awk -v a="$r0" -v b="$r1" -v o="$o1" -v hz="$hz" 'BEGIN { printf "redis_cpu_s=%.2f router_cpu_s=%.2f", (b - a) / hz, o / hz }')"
    all_u="$all_u $u"
    [ "$u" -gt "$best_u" ] && best_u=$u
    r=$(kv "$drain" routes_per_s)
    all_r="$all_r ${r:-0}"
    [ "${r:-0}" -gt "$best_r" ] && best_r=$r
done
echo "# router: routes/s per run:$all_r; ceiling per run (redis-benchmark -c 1 -n $calls EVAL route_mix.lua, 100 requests a call, x 100):$all_c"
echo "# router: Redis CPU bound per run (routed / Redis CPU s during the drain):$all_u"
echo "BENCH routes_per_s_vs_redis_ceiling value=$best_r unit=routes/s peer=redis-benchmark-mix peer_value=$best_c better=higher"
echo "BENCH routes_per_s_vs_redis_cpu_bound value=$best_r unit=routes/s peer=redis-cpu-per-route peer_value=$best_u better=higher"

# --- 2. and 3. latency and scale: 10 and 100 nodes with free slots ----------------------------
lat() { # lat <nodes> <capacity> <seconds> [router flags]: the latency line
    l_nodes=$1 l_secs=$3
    start "$1" "$2"
    shift 3
    router "$@"
    "$RB" latency --port "$rp" --nodes "$l_nodes" --rate "$RATE" --duration "$l_secs" --pid "$OPID"
    stop
}
lat 10 100000 "$SCALE_S" >"$tmp/l10"
lat 100 100000 "$SCALE_S" >"$tmp/l100"
lat 10 1 "$BUSY_S" --binding early >"$tmp/lbusy"
l10=$(cat "$tmp/l10") l100=$(cat "$tmp/l100") lbusy=$(cat "$tmp/lbusy")
echo "# router: 10 nodes: $l10"
echo "# router: 100 nodes: $l100"
echo "# router: 10 busy nodes: $lbusy"
# one round trip = the median PING of the same run (its p99 is in the comment lines above)
for p in 50 99; do
    echo "BENCH route_latency_p${p}_vs_redis_rtt value=$(kv "$l10" p${p}_us) unit=us peer=redis-ping-p50 peer_value=$(kv "$l10" ping_p50_us) better=lower"
done
for p in 50 99; do
    echo "BENCH route_latency_busy_p${p}_vs_redis_rtt value=$(kv "$lbusy" p${p}_us) unit=us peer=redis-ping-p50 peer_value=$(kv "$lbusy" ping_p50_us) better=lower"
done
echo "BENCH scale_cpu_per_1000_routes_100_vs_10_nodes value=$(kv "$l100" cpu_s_per_1000) unit=cpu-s peer=10-nodes peer_value=$(kv "$l10" cpu_s_per_1000) better=lower"
for p in 50 99; do
    echo "BENCH scale_route_latency_p${p}_100_vs_10_nodes value=$(kv "$l100" p${p}_us) unit=us peer=10-nodes peer_value=$(kv "$l10" p${p}_us) better=lower"
done
echo "BENCH scale_nodes_used_of_100 value=$(kv "$l100" nodes_used) unit=nodes peer=nodes-up peer_value=100 better=higher"
lost=$(($(kv "$l10" lost) + $(kv "$l100" lost) + $(kv "$lbusy" lost)))
[ "$lost" = 0 ] || echo "# router: $lost request(s) never reached a node stream"
echo "# router: all parts took $(($(date +%s) - t_start)) s"
