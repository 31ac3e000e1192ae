#!/bin/sh
# Orchestration on a simulated 3-Pi cluster (three ollama-sims with every model installed, one
# request at a time each, 20 tokens/s; a worker beside each; one router): what running the legs
# of a debate (2 legs) and an ensemble (3 legs) on different nodes at once saves, and what the
# orchestration layer adds.
#   - legs: the span from the first leg's start to the last leg's end, against the sum of the
#     legs' own times (what one node running them one after another would take); goal <= 0.6
#     for two legs (issue 18);
#   - overhead: the run's wall time less the time its steps took on their critical path (the
#     legs' span, then the reconciler's or synthesizer's own time), per step: the router's time
#     outside the steps (a step's own time, from its XADD to its answer read, includes its
#     routing and the up to 20 ms until the router's poll reads the answer);
#   - Redis commands per step of an orchestrated run against per plain request (INFO
#     commandstats over the whole server, health reports included, taken over the same span).
# BENCH_ORCH_N runs of each (default 8), sent one after another.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/bin
n=${BENCH_ORCH_N:-8}
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
port() { "$top/build/x86_64-linux-musl/test/tools/freeport"; }
bgp() { "$@" >>"$tmp/log" 2>&1 & pids="$pids $!"; }
die() { echo "bench_orch: $*" >&2; exit 1; }

rp=$(port)
bgp redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp"
i=0
while ! redis-cli -p "$rp" ping >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
for s in a b c; do
    sp=$(port)
    mkdir -p "$tmp/root-$s"
    bgp "$bin/ollama-sim" --listen "127.0.0.1:$sp" --models gemma3:1b,llama3.2:1b,qwen2.5:0.5b \
        --load-ms 300 --tokens-per-s 20 --sysfs-root "$tmp/root-$s"
    bgp "$bin/orion-inference-worker" --node-id "pi-$s" --redis-addr "127.0.0.1:$rp" \
        --ollama-url "http://127.0.0.1:$sp" --sysfs-root "$tmp/root-$s" --health-interval 1
done
hp=$(port)
url=http://127.0.0.1:$hp
bgp "$bin/orion-inference-router" --redis-addr "127.0.0.1:$rp" --http-listen "127.0.0.1:$hp" \
    --debate-max-rounds 1 --debate-reconcile-model gemma3:1b --ensemble-synthesis-model gemma3:1b
i=0
while [ "$(curl -s "$url/backends" | grep -o '"eligible":true' | wc -l)" -lt 3 ] && [ $i -lt 200 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ $i -lt 200 ] || die "the three nodes did not become eligible"

cmds() { redis-cli -p "$rp" INFO commandstats | awk -F'calls=' 'NF > 1 { split($2, a, ","); n += a[1] } END { print n + 0 }'; }
# ask <mode> <models json> <i>: one run's answer
ask() {
    curl -s --max-time 120 "$url/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"$1\",\"models\":$2,\"stream\":false,\"options\":{\"num_predict\":20},\"messages\":[{\"role\":\"user\",\"content\":\"bench $1 $3: why is the sky blue?\"}]}"
}
# figures <answer>: "legs_span legs_sum final_ms wall_ms steps distinct_leg_nodes" of one run
figures() {
    printf '%s' "$1" | sed 's/.*"wall_ms":\([0-9.]*\).*"steps":\[/\1 /' | tr '{' '\n' | awk '
        NR == 1 { wall = $1; next }
        !/"kind":"/ { next }
        { kind = $0; sub(/.*"kind":"/, "", kind); sub(/".*/, "", kind)
          node = $0; sub(/.*"node":"/, "", node); sub(/".*/, "", node)
          s = $0; sub(/.*"started_ms":/, "", s); sub(/[,}].*/, "", s)
          m = $0; sub(/.*"ms":/, "", m); sub(/[,}].*/, "", m)
          steps++
          if (kind == "leg") { sum += m; if (lo == "" || s < lo) lo = s; if (s + m > hi) hi = s + m; nodes[node] = 1 }
          else final = m }
        END { for (x in nodes) nn++; print hi - lo, sum, final, wall, steps, nn }'
}
# run <mode> <models json>: n runs; prints "span sum final wall steps nodes_min cmds_per_step"
run() {
    ask "$1" "$2" warm >/dev/null
    c0=$(cmds)
    k=0
    while [ $k -lt "$n" ]; do
        k=$((k + 1))
        figures "$(ask "$1" "$2" "$k")"
    done >"$tmp/$1.f"
    c1=$(cmds)
    awk -v c=$((c1 - c0)) '{ sp += $1; su += $2; fi += $3; wa += $4; st += $5; if (min == "" || $6 < min) min = $6 }
        END { printf "%.1f %.1f %.1f %.1f %.2f %d %.1f\n", sp / NR, su / NR, fi / NR, wa / NR, st / NR, min, c / st }' "$tmp/$1.f"
}
# plain: n single requests of the same size; prints Redis commands per request
plain() {
    c0=$(cmds)
    k=0
    while [ $k -lt "$n" ]; do
        k=$((k + 1))
        curl -s --max-time 60 -o /dev/null "$url/api/chat" -d "{\"model\":\"gemma3:1b\",\"stream\":false,\"options\":{\"num_predict\":20},\"messages\":[{\"role\":\"user\",\"content\":\"plain $k\"}]}"
    done
    c1=$(cmds)
    awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN { printf "%.1f\n", c / n }'
}

set -- $(run debate '["gemma3:1b","llama3.2:1b"]')
d_span=$1 d_sum=$2 d_final=$3 d_wall=$4 d_steps=$5 d_nodes=$6 d_cmds=$7
set -- $(run ensemble '["gemma3:1b","llama3.2:1b","qwen2.5:0.5b"]')
e_span=$1 e_sum=$2 e_final=$3 e_wall=$4 e_steps=$5 e_nodes=$6 e_cmds=$7
p_cmds=$(plain)
d_over=$(awk -v w="$d_wall" -v s="$d_span" -v f="$d_final" -v n="$d_steps" 'BEGIN { printf "%.1f", (w - s - f) / n }')
e_over=$(awk -v w="$e_wall" -v s="$e_span" -v f="$e_final" -v n="$e_steps" 'BEGIN { printf "%.1f", (w - s - f) / n }')
echo "# orchestration on 3 simulated Pis ($n runs each, 20 tokens/s, num_predict 20):"
echo "#   debate (2 legs): legs span $d_span ms vs their sum $d_sum ms; run $d_wall ms, $d_steps steps, legs on >= $d_nodes nodes"
echo "#   ensemble (3 legs): legs span $e_span ms vs their sum $e_sum ms; run $e_wall ms, $e_steps steps, legs on >= $e_nodes nodes"
echo "#   the router's time outside the steps, per step: debate $d_over ms, ensemble $e_over ms"
echo "#   Redis commands per step: debate $d_cmds, ensemble $e_cmds; per plain request $p_cmds"
echo "BENCH orch_debate_legs value=$d_span unit=ms peer=legs-in-sequence peer_value=$d_sum better=lower"
echo "BENCH orch_ensemble_legs value=$e_span unit=ms peer=legs-in-sequence peer_value=$e_sum better=lower"
echo "BENCH orch_redis_cmds_per_step value=$d_cmds unit=cmds peer=plain-request peer_value=$p_cmds better=lower"
echo "BENCH orch_overhead_per_step value=$d_over unit=ms peer=none peer_value=0 better=lower"
