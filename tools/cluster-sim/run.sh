#!/bin/sh
# cluster-sim: a simulated Pi cluster on loopback, driven open-loop, one run per policy on the
# same arrival trace (same seed). Prints one RESULT line per run and BENCH lines comparing
# sticky (ours) with the peers that were measured.
#
#   tools/cluster-sim/run.sh [scenario...]        steady heat death burst (default: all)
#   POLICIES="sticky first-fit least-conn round-robin nginx"   what to compare (nginx = nginx
#                  least_conn in front of the sims over HTTP). The defaults per scenario
#                  (scen below) keep make bench within 20 minutes at 150 requests a run:
#                  steady, heat and burst sticky and nginx (the best live peer in every
#                  scenario so far); death sticky and first-fit (ORION v1; nginx has no
#                  worker to kill). routesim compares every policy
#   SEED=1  KEEP=1 (keep the logs under build/cluster-sim/runs)
#   REQUESTS=N     about N arrivals a run (the scenario's rate, a longer duration)
#   THERMAL=cooled Pis with the active cooler routesim models (settle at 40 C idle and 67 C
#                  busy at 25 C ambient, tau 120 Pi-seconds); THERMAL=uncooled: ollama-sim's
#                  own defaults (45 and 78 C, tau 6 s of the run at any scale), which heat a
#                  node at 70 % load past the router's 75 C
#   CPU=shared     requests running at once on a node (different models: Ollama runs one
#                  runner per model) share its speed, as on a Pi's 4 cores and as routesim
#                  models it; CPU=own: each runs at full speed (ollama-sim's default), which
#                  gives a balancer that stacks requests on a node free extra capacity
#   ROUTE_SET="order_arrival=1"   more of the router's --route-set knobs (experiments)
#   ROUTER_ARGS="--placement F"   extra router flags (experiments)
#   SCALE=20       Pi-seconds per second of the run (20 or a divisor of it: 4 is 1:4); loads,
#                  token rates, arrivals, durations and events stretch by 20/SCALE, the
#                  daemons' own timers (health 1 s, stale 3 s, refresh) stay in real seconds;
#                  the routing core's two spans in Pi-seconds shrink with the Pi's physics:
#                  the heat trend's horizon (heat_horizon_s, 60 s on a Pi) and how long a
#                  conversation's prefix is thought kept (conv_keep_s, 600 s). Unscaled, a
#                  node's temperature, which climbs SCALE times faster here, was projected
#                  over SCALE times the Pi's horizon, and every busy node looked bound past
#                  the limit
#
# Cluster: pi-a 8 GB (2 models resident), pi-b 8 GB (2), pi-c 16 GB (4); 5 models; every
# worker --parallel 1 on an ollama-sim with --num-parallel 1. Time scale 1:20 — a Pi's second
# is our 50 ms: cold loads 2-10 s -> 100-500 ms. The simulator answers 6-24 tokens where a Pi
# answers ~60-240, so one simulated token stands for ten: 20 tokens/s here is a request of
# ~15 s on a Pi (~10 tokens/s), prompt evaluation 200 tokens/s here (~100 on a Pi).
# PORT_* and WPID_* are assigned through eval:
# shellcheck disable=SC2154
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
B=$top/bin
out=$top/build/cluster-sim
mkdir -p "$out"
work=$(mktemp -d /tmp/orion-csim-XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    if [ -n "${KEEP:-}" ]; then
        rm -rf "$out/runs" && mv "$work" "$out/runs"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SEED=${SEED:-1}
STALE=3 # router --stale-after (s)
MAXT=75 # router --max-temp (C), also what counts as a hot send
SCALE=${SCALE:-20}
case $SCALE in 1 | 2 | 4 | 5 | 10 | 20) ;; *) echo "cluster-sim: SCALE must divide 20" >&2; exit 2 ;; esac
F=$((20 / SCALE)) # how much longer everything a Pi does takes than at 1:20
COLD_NS=$((75000000 * F)) # load_duration at or above this (1.5 s on a Pi): cold_ld_rate
LOADS=${LOADS:-qwen2.5:0.5b=$((100 * F)),gemma3:1b=$((200 * F)),llama3.2:1b=$((250 * F)),qwen2.5:1.5b=$((300 * F)),llama3.2:3b=$((500 * F))}
TPS=${TPS:-$(awk -v f="$F" 'BEGIN { print 20 / f }')}
MODELS=gemma3:1b,llama3.2:1b,qwen2.5:0.5b,llama3.2:3b,qwen2.5:1.5b
RSET=$(awk -v s="$SCALE" 'BEGIN { printf "heat_horizon_s=%g,conv_keep_s=%g", 60 / s, 600 / s }')${ROUTE_SET:+,$ROUTE_SET}
case ${CPU:=shared} in
shared) SIMARGS="--shared-cpu true" ;;
own) SIMARGS="" ;;
*) echo "cluster-sim: CPU must be shared or own" >&2; exit 2 ;;
esac
case ${THERMAL:=cooled} in
cooled) SIMARGS="$SIMARGS --temp-idle 40 --temp-busy 67 --temp-tau $(awk -v s="$SCALE" 'BEGIN { print 120 / s }')" ;;
uncooled) ;;
*) echo "cluster-sim: THERMAL must be cooled or uncooled" >&2; exit 2 ;;
esac

# the load generator, built against liborion
LG=$out/loadgen
[ -f build/x86_64-linux-musl/liborion.a ] || make -s >/dev/null || exit 1
musl-gcc -std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
    -Wold-style-definition -Wwrite-strings -Wshadow -Wformat=2 -Wvla -Werror \
    -Wdeclaration-after-statement -D_POSIX_C_SOURCE=200809L -Iinclude -O2 -static \
    -o "$LG" tools/cluster-sim/loadgen.c tools/cluster-sim/lgio.c build/x86_64-linux-musl/liborion.a \
    -lm || exit 1
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
freeport() { build/x86_64-linux-musl/test/tools/freeport; }

bg() { # bg <log> <cmd...>: start, remember in PIDS, pid in BG
    l=$1
    shift
    "$@" >"$l" 2>&1 &
    BG=$!
    PIDS="$PIDS $BG"
}
stop_all() { # TERM, give them 3 s, then KILL
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    i=0
    while [ $i -lt 30 ]; do
        alive=0
        for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
        i=$((i + 1))
    done
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    PIDS=""
}
poll() { # poll <tenths> <cmd...>: until the command succeeds, bounded
    n=$1
    shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# scenario parameters: rate (arrivals/s), duration (s), burst, drain
scen() {
    BURST=""
    EVENT_AT=0
    case $1 in
    steady) RATE=1.8 DUR=35 DEF="sticky nginx" ;;
    heat) RATE=1.8 DUR=25 EVENT_AT=8 RELEASE_AT=16 DEF="sticky nginx" ;;
    death) RATE=1.8 DUR=25 EVENT_AT=8 DEF="sticky first-fit" ;;
    burst) RATE=1.2 DUR=20 BURST="--burst-at $((6 * F)) --burst-len $((2 * F)) --burst-x 10" DEF="sticky nginx" ;;
    *) echo "cluster-sim: unknown scenario $1" >&2; return 1 ;;
    esac
    # REQUESTS=N: run long enough for about N arrivals (the burst's come on top)
    [ -n "${REQUESTS:-}" ] && DUR=$(awk -v n="$REQUESTS" -v r="$RATE" 'BEGIN { d = n / r; print (d == int(d)) ? d : int(d) + 1 }')
    RATE=$(awk -v r="$RATE" -v f="$F" 'BEGIN { print r / f }')
    DUR=$((DUR * F)) EVENT_AT=$((EVENT_AT * F)) RELEASE_AT=$((${RELEASE_AT:-0} * F))
    DRAIN=$((90 * F))
}

run_one() { # run_one <scenario> <policy>
    sc=$1 pol=$2 d=$work/$1-$2
    mkdir -p "$d"
    log=$d/log
    : >"$log"
    nodes=""
    simargs=""
    psargs=""
    sims="pi-a:8192:2 pi-b:8192:2 pi-c:16384:4"
    for s in $sims; do
        name=${s%%:*} rest=${s#*:}
        ram=${rest%%:*} maxl=${rest#*:}
        port=$(freeport)
        mkdir -p "$d/root-$name"
        # shellcheck disable=SC2086
        bg "$d/sim-$name.log" "$B/ollama-sim" --listen "127.0.0.1:$port" --models "$MODELS" \
            --load-ms "$LOADS" --tokens-per-s "$TPS" --max-loaded "$maxl" --num-parallel 1 \
            --ram-mb "$ram" --sysfs-root "$d/root-$name" $SIMARGS --log-level warning
        poll 50 curl -sf "http://127.0.0.1:$port/api/version" || echo "# sim $name did not start" >&2
        eval "PORT_$(echo "$name" | tr - _)=$port"
        nodes="$nodes --node $name=$d/root-$name"
        simargs="$simargs --sim $port=$d/root-$name"
        psargs="$psargs --ps $name=$port"
    done
    if [ "$pol" = nginx ]; then
        np=$(freeport)
        mkdir -p "$d/nginx"
        cat >"$d/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx/nginx.pid;
error_log $d/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $d/nginx/body;
    proxy_temp_path $d/nginx/proxy;
    upstream sims {
        least_conn;
        server 127.0.0.1:$PORT_pi_a;
        server 127.0.0.1:$PORT_pi_b;
        server 127.0.0.1:$PORT_pi_c;
    }
    server {
        listen 127.0.0.1:$np;
        location / {
            proxy_pass http://sims;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 300s;
            add_header X-Upstream \$upstream_addr always;
        }
    }
}
EOF
        bg "$d/nginx.log" "$NGINX" -p "$d/nginx" -c "$d/nginx/nginx.conf"
        poll 50 curl -sf "http://127.0.0.1:$np/api/version" || echo "# nginx did not start" >&2
        # shellcheck disable=SC2086
        bg "$d/loadgen.log" "$LG" http --port "$np" $simargs $psargs --seed "$SEED" --rate "$RATE" \
            --duration "$DUR" $BURST --drain "$DRAIN" --out "$log"
    else
        rp=$(freeport)
        bg "$d/redis.log" redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --dir "$d"
        poll 50 redis-cli -p "$rp" ping || echo "# redis did not start" >&2
        for s in $sims; do
            name=${s%%:*}
            eval "port=\$PORT_$(echo "$name" | tr - _)"
            bg "$d/worker-$name.log" "$B/orion-inference-worker" --node-id "$name" \
                --redis-addr "127.0.0.1:$rp" --ollama-url "http://127.0.0.1:$port" \
                --sysfs-root "$d/root-$name" --health-interval 1 --parallel "${WORKER_PARALLEL:-1}" --log-level warning
            eval "WPID_$(echo "$name" | tr - _)=$BG"
        done
        # shellcheck disable=SC2086
        bg "$d/router.log" "$B/orion-inference-router" --redis-addr "127.0.0.1:$rp" --policy "$pol" \
            --stale-after "$STALE" --max-temp "$MAXT" --http-listen off --log-level warning --route-set "$RSET" ${ROUTER_ARGS:-}
        three() { [ "$(redis-cli -p "$rp" HLEN orion:inference:health)" = 3 ]; }
        poll 100 three || echo "# workers did not report" >&2
        # shellcheck disable=SC2086
        bg "$d/loadgen.log" "$LG" redis --port "$rp" $nodes $psargs --seed "$SEED" --rate "$RATE" \
            --duration "$DUR" $BURST --drain "$DRAIN" --out "$log"
    fi
    lgpid=$BG
    case $sc in
    heat)
        sleep "$EVENT_AT"
        curl -sf -X POST -d '{"c":82}' "http://127.0.0.1:$PORT_pi_c/sim/temp" >/dev/null
        sleep $((RELEASE_AT - EVENT_AT))
        curl -sf -X POST -d '{"c":null}' "http://127.0.0.1:$PORT_pi_c/sim/temp" >/dev/null
        ;;
    death)
        sleep "$EVENT_AT"
        [ "$pol" != nginx ] && kill -9 "$WPID_pi_c"
        ;;
    esac
    wait "$lgpid"
    stop_all
    summarize "$sc" "$pol" "$log"
}

pct() { # pct <file of numbers> <p>: the p-th percentile (nearest rank), 0 when empty
    sort -n "$1" | awk -v p="$2" '{ v[++n] = $1 } END { if (!n) { print 0; exit }
        k = int(n * p / 100 + 0.999999); if (k < 1) k = 1; print v[k] }'
}

summarize() { # summarize <scenario> <policy> <log>: one RESULT line; sets R_* for emit
    awk -v cold="$COLD_NS" -v maxt="$MAXT" -v stale="$STALE" -v dir="$(dirname "$3")" '
    $1 == "S" { sub_ms[$2] = $3; n++ }
    $1 == "L" { loads++ }
    $1 == "R" {
        if (!($2 in first)) { first[$2] = $4; print $4 - sub_ms[$2] > (dir "/wait") }
        routed++
        bad = 0
        if ($5 + 0 > maxt) { hot++; bad = 1 }
        if ($6 + 0 > 90) { full++; bad = 1 }
        if ($7 + 0 > 0 && $4 / 1000 - $7 > stale) { stl++; bad = 1 }
        if ($8 == "false") { unav++; bad = 1 }
        if ($9 + 0 > maxt) truehot++
        badn += bad
    }
    $1 == "A" {
        if ($2 in ans) { dup++; next }
        ans[$2] = 1; answered++
        if ($4 != "ok") { failed++; next }
        ok++
        if ($6 + 0 >= cold) coldld++
        print $3 - sub_ms[$2] > (dir "/total")
    }
    END {
        printf "n=%d answered=%d ok=%d failed=%d lost=%d dup=%d routed=%d loads=%d cold_rate=%.4f cold_ld_rate=%.4f ",
            n, answered, ok, failed, n - answered, dup, routed, loads, n ? loads / n : 0, ok ? coldld / ok : 0
        printf "bad_sends=%d hot=%d full=%d stale=%d unavailable=%d true_hot=%d\n",
            badn, hot, full, stl, unav, truehot
    }' "$3" >"$3.sum"
    d=$(dirname "$3")
    touch "$d/wait" "$d/total"
    cp "$d/total" "$out/total-$1-$2-seed$SEED.txt" # every answer's total ms, for tools/cluster-sim/live.sh
    line="$(cat "$3.sum") p50_ms=$(pct "$d/total" 50) p95_ms=$(pct "$d/total" 95) wait_p95_ms=$(pct "$d/wait" 95)"
    echo "RESULT scenario=$1 policy=$2 $line scale=1:$SCALE thermal=$THERMAL cpu=$CPU" | tee -a "$out/results-$1.txt"
}

field() { # field <scenario> <policy> <key>
    awk -v s="scenario=$1" -v p="policy=$2" -v k="$3" '$2 == s && $3 == p {
        for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) v = kv[2] } }
        END { print v }' "$res"
}

emit() { # emit <scenario>: BENCH lines, sticky against every peer measured
    sc=$1
    pre=""
    [ "$sc" = steady ] || pre="${sc}_"
    best="" bv=""
    for peer in first-fit least-conn round-robin nginx; do # the best peer: lowest p95 (no loss)
        v=$(field "$sc" "$peer" p95_ms)
        if [ -z "$v" ] || [ "$(field "$sc" "$peer" lost)" != 0 ]; then continue; fi
        if [ -z "$bv" ] || [ "$v" -lt "$bv" ]; then best=$peer bv=$v; fi
    done
    [ -n "$best" ] && [ -n "$(field "$sc" sticky n)" ] &&
        echo "BENCH live_${sc}_p95_vs_best_peer value=$(field "$sc" sticky p95_ms) unit=ms peer=$best@1:$SCALE peer_value=$bv better=lower"
    for peer in first-fit least-conn round-robin nginx; do
        [ -n "$(field "$sc" "$peer" n)" ] || continue
        pn=$(echo "$peer" | tr - _)
        echo "BENCH ${pre}cold_rate_vs_$pn value=$(field "$sc" sticky cold_rate) unit=fraction peer=$peer peer_value=$(field "$sc" "$peer" cold_rate) better=lower"
        echo "BENCH ${pre}p95_vs_$pn value=$(field "$sc" sticky p95_ms) unit=ms peer=$peer peer_value=$(field "$sc" "$peer" p95_ms) better=lower"
        case $peer in first-fit) suf="" ;; nginx) suf=_vs_nginx ;; *) continue ;; esac
        echo "BENCH ${pre}hot_or_stale_sends$suf value=$(field "$sc" sticky bad_sends) unit=count peer=$peer peer_value=$(field "$sc" "$peer" bad_sends) better=lower"
        echo "BENCH ${pre}lost_requests$suf value=$(field "$sc" sticky lost) unit=count peer=$peer peer_value=$(field "$sc" "$peer" lost) better=lower"
    done
}

[ $# -gt 0 ] || set -- steady heat death burst
res=$work/results
: >"$res"
for sc in "$@"; do
    scen "$sc" || exit 2
    : >"$out/results-$sc.txt"
    for pol in ${POLICIES:-$DEF}; do
        if [ "$pol" = nginx ] && [ ! -x "$NGINX" ]; then
            echo "# cluster-sim: nginx not installed (tools/install-deps.sh bench), skipped"
            continue
        fi
        echo "# cluster-sim: $sc / $pol (seed $SEED, $RATE/s for ${DUR}s, time 1:$SCALE)" >&2
        t0=$(date +%s)
        run_one "$sc" "$pol" >>"$res"
        echo "# cluster-sim: $sc / $pol took $(($(date +%s) - t0)) s" >&2
    done
    emit "$sc"
done
sed 's/^/# /' "$res"
