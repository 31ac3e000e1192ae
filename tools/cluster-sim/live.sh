#!/bin/sh
# make bench-live: the live cluster (tools/cluster-sim/run.sh) over several seeds of many
# requests each, sticky against its peers on the same traces, with every answer's total time
# pooled over the seeds. One BENCH line per scenario:
#   live_<scenario>_pooled_p95_vs_best_peer  sticky's pooled p95 over the lowest pooled p95 of
#                                            the peers that lost nothing, with a 95 % interval
# The interval is distribution-free: each p95 lies between the order statistics of ranks
# n x 0.95 -/+ 1.96 x sqrt(n x 0.95 x 0.05) with 95 % confidence, and the ratio's interval
# divides the ends (sticky's low over the peer's high, and the reverse), so it is wide rather
# than narrow. Answers in one run are not independent (they share queues), so it is a guide,
# not a guarantee: the per-seed ratios are printed too.
#
#   SEEDS="1 2 3" REQUESTS=300 SCENARIOS="steady heat burst" POLICIES="sticky nginx" SCALE=20
#   (CPU, THERMAL, ROUTE_SET, ROUTER_ARGS as tools/cluster-sim/run.sh)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/cluster-sim
mkdir -p "$out"
SEEDS=${SEEDS:-1 2 3}
REQUESTS=${REQUESTS:-300}
SCENARIOS=${SCENARIOS:-steady heat burst}
POLICIES=${POLICIES:-sticky nginx}
export REQUESTS POLICIES

pooled() { # pooled <scenario> <policy>: the seeds' totals, one per line
    for s in $SEEDS; do cat "$out/total-$1-$2-seed$s.txt" 2>/dev/null; done
}
p95ci() { # p95ci <file>: "n p95 low high"
    sort -n "$1" | awk '{ v[++n] = $1 } END {
        if (!n) { print 0, 0, 0, 0; exit }
        k = int(n * 0.95 + 0.999999); h = 1.96 * sqrt(n * 0.95 * 0.05)
        lo = int(n * 0.95 - h); hi = int(n * 0.95 + h + 0.999999)
        if (k < 1) k = 1; if (lo < 1) lo = 1; if (hi > n) hi = n
        print n, v[k], v[lo], v[hi] }'
}

for sc in $SCENARIOS; do
    : >"$out/live-$sc.txt"
    for s in $SEEDS; do
        for p in $POLICIES; do rm -f "$out/total-$sc-$p-seed$s.txt"; done
        SEED=$s sh tools/cluster-sim/run.sh "$sc" | grep -E '^# RESULT|^BENCH live_' |
            sed "s/^/# seed $s: /" | tee -a "$out/live-$sc.txt"
    done
    best="" bv="" blo="" bhi=""
    for p in $POLICIES; do
        pooled "$sc" "$p" >"$out/pooled-$sc-$p.txt"
        # shellcheck disable=SC2046
        set -- $(p95ci "$out/pooled-$sc-$p.txt")
        echo "# $sc $p: $1 answers over seeds $SEEDS, pooled p95 $2 ms (95 % $3-$4)"
        [ "$p" = sticky ] && { sn=$1 sv=$2 slo=$3 shi=$4; continue; }
        [ "$1" -gt 0 ] || continue
        # a peer that lost an answer in any seed does not count
        grep -q "policy=$p .* lost=[1-9]" "$out/live-$sc.txt" && continue
        if [ -z "$bv" ] || [ "$2" -lt "$bv" ]; then best=$p bv=$2 blo=$3 bhi=$4; fi
    done
    if [ -n "$best" ] && [ "${sn:-0}" -gt 0 ]; then
        ci=$(awk -v a="$slo" -v b="$bhi" -v c="$shi" -v d="$blo" 'BEGIN { printf "%.3f:%.3f", a / b, c / d }')
        echo "BENCH live_${sc}_pooled_p95_vs_best_peer value=$sv unit=ms peer=$best@1:${SCALE:-20}x$(echo "$SEEDS" | wc -w)seeds peer_value=$bv better=lower ci=$ci"
    fi
    unset sn
done
