#!/bin/sh
# What --redis-min-replicas 1 costs per request: the same requests through the HTTP front (one
# worker beside an ollama-sim that answers at once), once without WAIT and once with it, on a
# master and its replica on loopback. Prints the median and 95th percentile of curl's total time
# in ms, ours (with WAIT) against the peer (the same cluster without it), and the WAITs the
# master served per request. BENCH_WAIT_N requests each (default 300), sent one at a time.
# Then WAIT alone: BENCH_WAIT_PAIRS (default 2000) times an XADD followed by WAIT 1 against an
# XADD followed by PING (the same round trips, nothing waited for), one redis-cli, in sequence.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/bin
n=${BENCH_WAIT_N:-300}
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
port() { "$top/build/x86_64-linux-musl/test/tools/freeport"; }
bgp() { "$@" >>"$tmp/log" 2>&1 & pids="$pids $!"; }
die() { echo "bench_wait: $*" >&2; exit 1; }
up() { i=0; while ! redis-cli -p "$1" ping >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }

m=$(port) r=$(port)
bgp redis-server --port "$m" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp"
up "$m"
bgp redis-server --port "$r" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" --replicaof 127.0.0.1 "$m"
up "$r"
i=0
while ! redis-cli -p "$r" ROLE | sed -n 4p | grep -qx connected && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sp=$(port)
mkdir -p "$tmp/root"
bgp "$bin/ollama-sim" --listen "127.0.0.1:$sp" --models gemma3:1b --load-ms 0 --tokens-per-s 1000 \
    --sysfs-root "$tmp/root"
sleep 0.3
curl -sf --max-time 2 "http://127.0.0.1:$sp/api/version" >/dev/null || die "ollama-sim did not start"

# run <label> <min-replicas>: a worker and a router, n requests; prints "p50 p95" in ms
run() {
    cp=$pids
    hp=$(port)
    bgp "$bin/orion-inference-worker" --node-id bw --redis-addr "127.0.0.1:$m" \
        --ollama-url "http://127.0.0.1:$sp" --sysfs-root "$tmp/root" --health-interval 1 \
        --redis-min-replicas "$2"
    bgp "$bin/orion-inference-router" --redis-addr "127.0.0.1:$m" --http-listen "127.0.0.1:$hp" \
        --redis-min-replicas "$2"
    i=0
    while [ "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$hp/api/generate" \
        -d '{"model":"gemma3:1b","prompt":"warm","stream":false}')" != 200 ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    w0=$(redis-cli -p "$m" INFO commandstats | sed -n 's/^cmdstat_wait:calls=\([0-9]*\),.*/\1/p')
    k=0
    while [ $k -lt "$n" ]; do
        k=$((k + 1))
        curl -s --max-time 10 -o /dev/null -w '%{time_total}\n' -X POST "http://127.0.0.1:$hp/api/generate" \
            -d "{\"model\":\"gemma3:1b\",\"prompt\":\"b $1 $k\",\"stream\":false,\"options\":{\"num_predict\":2}}"
    done >"$tmp/$1.t"
    w1=$(redis-cli -p "$m" INFO commandstats | sed -n 's/^cmdstat_wait:calls=\([0-9]*\),.*/\1/p')
    for p in $pids; do case " $cp " in *" $p "*) ;; *) kill "$p" 2>/dev/null ;; esac; done
    pids=$cp
    sleep 0.5
    sort -n "$tmp/$1.t" | awk -v n="$n" -v w=$(( ${w1:-0} - ${w0:-0} )) \
        '{ a[NR] = $1 * 1000 } END { printf "%.2f %.2f %.2f\n", a[int(n * 0.5)], a[int(n * 0.95)], w / n }'
}
set -- $(run nowait 0)
p50a=$1 p95a=$2
set -- $(run wait 1)
p50b=$1 p95b=$2 wpr=$3
# pairs <second command>: the time of BENCH_WAIT_PAIRS "XADD; <command>" in sequence, in µs each
pairs() {
    np=${BENCH_WAIT_PAIRS:-2000}
    k=0
    while [ $k -lt "$np" ]; do
        k=$((k + 1))
        echo "XADD benchwait MAXLEN ~ 1000 * f $k"
        echo "$1"
    done >"$tmp/pairs.in"
    t0=$(date +%s%N)
    redis-cli -p "$m" <"$tmp/pairs.in" >/dev/null
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 / np ))
}
ping_us=$(pairs PING)
wait_us=$(pairs "WAIT 1 1000")
ping_us2=$(pairs PING)
wait_us2=$(pairs "WAIT 1 1000")
echo "# WAIT alone: XADD + WAIT 1 $(( (wait_us + wait_us2) / 2 )) us, XADD + PING $(( (ping_us + ping_us2) / 2 )) us (one redis-cli, in sequence; two runs each, averaged)"
echo "BENCH wait_xadd_pair value=$(( (wait_us + wait_us2) / 2 )) unit=us peer=XADD+PING peer_value=$(( (ping_us + ping_us2) / 2 )) better=lower"
echo "# WAIT's cost: $n requests through the HTTP front, master + replica on loopback"
echo "#   without --redis-min-replicas: median $p50a ms, p95 $p95a ms"
echo "#   with --redis-min-replicas 1:  median $p50b ms, p95 $p95b ms ($wpr WAITs per request)"
echo "BENCH wait_request_p50 value=$p50b unit=ms peer=no-WAIT peer_value=$p50a better=lower"
echo "BENCH wait_request_p95 value=$p95b unit=ms peer=no-WAIT peer_value=$p95a better=lower"
