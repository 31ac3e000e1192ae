#!/bin/sh
# make bench: run every benchmark, print one table, write build/bench.json.
# Each benchmark prints lines: BENCH <name> value=V unit=U peer=P peer_value=PV better=higher|lower
# [ci=LO:HI] (the 95 % interval of the ratio, written to bench.json as "ratio_ci95": [LO, HI])
#   tools/bench/run.sh [name...]   only these: resp (the RESP parser), or X for bench_X.sh
#                                  (router, path, steady, heat, death, burst, footprint,
#                                  routesim, orch); the table and build/bench.json then hold
#                                  only their rows
set -u
want() { # want <name>: no selection, or named in it
    [ -z "$sel" ] && return 0
    for w in $sel; do [ "$w" = "$1" ] && return 0; done
    return 1
}
sel="$*"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/bench
mkdir -p "$out"
raw=$out/raw.txt
: >"$raw"
tmp=$(mktemp -d)
cleanup() { [ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# A redis-server on a free port for the benchmarks that need one.
port=$(build/x86_64-linux-musl/test/tools/freeport 2>/dev/null || echo 26399)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
rpid=$!
i=0
while ! redis-cli -p "$port" ping >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# 1. RESP reply parsing vs hiredis's reader (both gcc -O2, same machine, same bytes)
want resp && gcc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Iinclude -o "$out/resp_bench" tools/bench/resp_bench.c \
    src/proto/resp.c src/base/buf.c -lhiredis && "$out/resp_bench" 127.0.0.1 "$port" | tee -a "$raw" | grep '^#'

# Further benchmarks append to $raw here (cluster simulation, router cost, footprint).
for b in tools/bench/bench_*.sh; do
    [ -f "$b" ] || continue
    n=${b##*/bench_}
    want "${n%.sh}" || continue
    t0=$(date +%s)
    REDIS_PORT=$port sh "$b" | tee -a "$raw" | grep '^#'
    echo "# bench_${n%.sh}: $(($(date +%s) - t0)) s"
done

awk '
/^BENCH / {
    name = $2; v = ""; u = ""; p = ""; pv = ""; b = ""; ci = ""
    for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "value") v = kv[2]; else if (kv[1] == "unit") u = kv[2]
        else if (kv[1] == "peer") p = kv[2]; else if (kv[1] == "peer_value") pv = kv[2]
        else if (kv[1] == "better") b = kv[2]; else if (kv[1] == "ci") { ci = kv[2]; gsub(":", ", ", ci) }
    }
    r = (pv + 0 != 0) ? v / pv : 0
    n++; names[n] = name; vals[n] = v; units[n] = u; peers[n] = p; pvs[n] = pv; rs[n] = r; bs[n] = b
    cis[n] = ci
}
END {
    printf "%-42s %12s %-8s %-22s %12s %8s %s\n", "benchmark", "value", "unit", "peer", "peer value", "ratio", "better"
    for (i = 1; i <= n; i++)
        printf "%-42s %12s %-8s %-22s %12s %8.2f %s\n", names[i], vals[i], units[i], peers[i], pvs[i], rs[i], bs[i]
    printf "{\n" > "build/bench.json"
    for (i = 1; i <= n; i++)
        printf "  \"%s\": {\"value\": %s, \"unit\": \"%s\", \"peer\": \"%s\", \"peer_value\": %s, \"ratio\": %.4f, \"better\": \"%s\"%s}%s\n", names[i], vals[i], units[i], peers[i], pvs[i], rs[i], bs[i], (cis[i] == "" ? "" : sprintf(", \"ratio_ci95\": [%s]", cis[i])), (i < n ? "," : "") > "build/bench.json"
    printf "}\n" > "build/bench.json"
}' "$raw"
echo "written: build/bench.json"
