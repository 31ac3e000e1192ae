#!/bin/sh
# make demo: a local ORION inference cluster on loopback.
#   redis-server, a router (HTTP front on 127.0.0.1:8088 when built with it), three workers
#   (pi-a, pi-b, pi-c), each beside its own ollama-sim with a simulated /proc and /sys; one of
#   them uses a real Ollama instead when one answers on 127.0.0.1:11434 or OLLAMA=URL names it.
# It sends a few requests that show sticky placement and a hot node being avoided, prints
# where to look, and stops everything on Ctrl-C.
# DEMO_HA=1: Redis as docs/DEPLOY.md lays it out on three Pis, on loopback: a master (Pi A), its
# replica (Pi B) and three sentinels (A, B and the robot Pi C); every program finds the master
# through the sentinels. At the end the master is killed -9 and the cluster goes on.
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
up() { # up <port> <what>: wait until it answers PING
    i=0
    while ! redis-cli -p "$1" ping >/dev/null 2>&1; do
        sleep 0.1
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "demo: $2 did not start"; exit 1; }
    done
}
rport=$(port)
if [ "${DEMO_HA:-0}" = 1 ]; then
    # the files Sentinel rewrites live in their own directories, as on the Pis
    repport=$(port)
    mkdir -p "$tmp/redis-a" "$tmp/redis-b"
    printf 'port %s\nbind 127.0.0.1\ndir %s\nsave ""\nappendonly yes\n' "$rport" "$tmp/redis-a" >"$tmp/redis-a/redis.conf"
    printf 'port %s\nbind 127.0.0.1\ndir %s\nsave ""\nappendonly yes\nreplicaof 127.0.0.1 %s\n' \
        "$repport" "$tmp/redis-b" "$rport" >"$tmp/redis-b/redis.conf"
    start redis-a redis-server "$tmp/redis-a/redis.conf"
    master_pid=${pids##* }
    up "$rport" "the Redis master"
    start redis-b redis-server "$tmp/redis-b/redis.conf"
    up "$repport" "the Redis replica"
    sentinels=""
    for s in a b c; do
        sp=$(port)
        mkdir -p "$tmp/sentinel-$s"
        # loopback: 1 s to call a master down; on Pis DEPLOY.md says 5 s
        printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor orion 127.0.0.1 %s 2\nsentinel down-after-milliseconds orion 1000\nsentinel failover-timeout orion 3000\n' \
            "$sp" "$tmp/sentinel-$s" "$rport" >"$tmp/sentinel-$s/sentinel.conf"
        if command -v redis-sentinel >/dev/null 2>&1; then
            start "sentinel-$s" redis-sentinel "$tmp/sentinel-$s/sentinel.conf"
        else
            start "sentinel-$s" redis-server "$tmp/sentinel-$s/sentinel.conf" --sentinel
        fi
        up "$sp" "sentinel $s"
        sentinels="$sentinels${sentinels:+,}127.0.0.1:$sp"
    done
    export ORION_REDIS_SENTINELS=$sentinels ORION_REDIS_MASTER_NAME=orion
    first_sentinel=${sentinels%%,*}
    i=0
    until redis-cli -p "${first_sentinel##*:}" SENTINEL master orion 2>/dev/null | grep -A1 -x num-other-sentinels | tail -1 | grep -qx 2; do
        sleep 0.2
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "demo: the sentinels did not find each other"; exit 1; }
    done
    echo "demo: Redis master on $rport, replica on $repport, sentinels $sentinels"
else
    start redis redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp"
    up "$rport" "redis-server"
fi
export ORION_REDIS_ADDR=127.0.0.1:$rport

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
echo "demo: cluster up (redis ${ORION_REDIS_SENTINELS:+master orion via the sentinels, now }$ORION_REDIS_ADDR)"
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
if [ "${DEMO_HA:-0}" = 1 ]; then
    echo
    echo "demo: the Redis master (port $rport, Pi A) is killed -9; the sentinels promote the replica"
    t0=$(date +%s)
    kill -9 "$master_pid"
    ask "a request right after: every program follows the new master by itself" gemma3:1b "Still there?"
    echo "demo: answered $(($(date +%s) - t0)) s after the master died; the sentinels now name $(redis-cli -p "${first_sentinel##*:}" SENTINEL get-master-addr-by-name orion | tr '\n' ' ')"
fi
echo
echo "demo: where to look:"
if [ "${DEMO_HA:-0}" = 1 ]; then
    echo "  $ctl status          (with ORION_REDIS_SENTINELS=$ORION_REDIS_SENTINELS ORION_REDIS_MASTER_NAME=orion)"
    echo "  redis-cli -p ${first_sentinel##*:} SENTINEL master orion     what a sentinel knows"
else
    echo "  $ctl status          (with ORION_REDIS_ADDR=$ORION_REDIS_ADDR)"
fi
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
