#!/bin/sh
# make demo: a local ORION inference cluster on loopback.
#   redis-server, a router (HTTP front on 127.0.0.1:8088 when built with it), three workers
#   (pi-a, pi-b, pi-c), each beside its own ollama-sim with a simulated /proc and /sys; one of
#   them uses a real Ollama instead when one answers on 127.0.0.1:11434 or OLLAMA=URL names it.
# It sends a few requests that show sticky placement and a hot node being avoided, prints
# where to look, and stops everything on Ctrl-C.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
tmp=$(mktemp -d /tmp/orion-demo-XXXXXX)
pids=""
cleanup() {
    trap - INT TERM EXIT
    echo
    echo "demo: stopping"
    for p in $pids ${nap:-}; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
    exit 0
}
trap cleanup INT TERM EXIT
start() { # start <log> <cmd...>
    l=$1
    shift
    "$@" >"$tmp/$l.log" 2>&1 &
    pids="$pids $!"
}
port() { "$top/build/x86_64-linux-musl/test/tools/freeport"; }
rport=$(port)
start redis redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp"
export ORION_REDIS_ADDR=127.0.0.1:$rport
i=0
while ! redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); [ $i -lt 50 ] || { echo "demo: redis-server did not start"; exit 1; }; done

real=${OLLAMA:-}
if [ -z "$real" ] && curl -sf -m 1 http://127.0.0.1:11434/api/version >/dev/null 2>&1; then
    real=http://127.0.0.1:11434
fi
models=llama3.2:1b,gemma3:1b,qwen2.5:0.5b
for n in pi-a pi-b pi-c; do
    root=$tmp/root-$n
    mkdir -p "$root"
    if [ "$n" = pi-c ] && [ -n "$real" ]; then
        echo "demo: $n uses the real Ollama at $real"
        start "worker-$n" "$bin/orion-inference-worker" --node-id "$n" --ollama-url "$real" --health-interval 1
        continue
    fi
    sp=$(port)
    start "sim-$n" "$bin/ollama-sim" --listen "127.0.0.1:$sp" --models "$models" --load-ms 2000 \
        --tokens-per-s 20 --sysfs-root "$root"
    eval "sim_$(echo $n | tr - _)=http://127.0.0.1:$sp"
    sleep 0.3
    start "worker-$n" "$bin/orion-inference-worker" --node-id "$n" --ollama-url "http://127.0.0.1:$sp" \
        --sysfs-root "$root" --health-interval 1
done
start router "$bin/orion-inference-router" --stale-after 5
sleep 2
ctl="$bin/orionctl"
echo "demo: cluster up (redis $ORION_REDIS_ADDR)"
"$ctl" status
ask() {
    echo
    echo "demo: $1"
    "$ctl" submit --model "$2" --prompt "$3" --wait 60 2>&1 | sed 's/^/    /'
}
ask "a first request for gemma3:1b loads it cold on one node" gemma3:1b "Why is the sky blue?"
ask "the second request for gemma3:1b goes to the same node: sticky, no cold load" gemma3:1b "And why is the sunset red?"
echo
echo "demo: pi-a is made hot (80 C) through its simulator"
curl -sf -X POST -d '{"c":80}' "${sim_pi_a:-http://127.0.0.1:1}/sim/temp" >/dev/null
sleep 2
"$ctl" status
ask "gemma3:1b is loaded on pi-a, but pi-a is hot: the request goes elsewhere" gemma3:1b "Say hello."
curl -sf -X POST -d '{"c":null}' "${sim_pi_a:-http://127.0.0.1:1}/sim/temp" >/dev/null
echo
echo "demo: where to look:"
echo "  $ctl status          (with ORION_REDIS_ADDR=$ORION_REDIS_ADDR)"
echo "  $ctl watch           events as they happen"
echo "  http://127.0.0.1:8088/ui          the status page (the router's HTTP front)"
echo "  curl -s 127.0.0.1:8088/api/chat -d '{\"model\":\"gemma3:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'"
echo "  logs in $tmp/*.log"
echo "demo: running; Ctrl-C stops everything"
# sh runs a trap only once the foreground command has ended: wait on a background sleep, which
# a signal interrupts at once, so a SIGTERM sent to this script alone stops the demo too
while :; do
    sleep 3600 &
    nap=$!
    wait "$nap"
done
