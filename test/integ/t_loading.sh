#!/bin/sh
# Daemons meeting a Redis that is still loading a large append-only file (it answers -LOADING
# to everything but AUTH/SELECT for seconds): docs/RELIABILITY.md, problems 1 and 2.
#  A. a worker (its ACL user without +ping) and a router started while Redis loads: once it
#     is ready a request through P:requests is answered exactly once (before the fix the
#     worker's XGROUP CREATE failed with LOADING and it never read its stream; the router
#     never read P:requests).
#  B. a running worker whose Redis is killed -9 and comes back with the big AOF while a
#     generation runs: the answer that could not be written during loading is written once
#     Redis is ready (before the fix it failed with LOADING and was dropped), and the worker
#     reads its stream again.
#  C. an answer that Redis refuses while up (-OOM) is sent again until it is written.
# Loading lasts as long as the test needs, however fast or loaded the machine: Redis restarts
# with key-load-delay 2 ms a key (LOADING_KEYS filler keys, 3 000 000 by default: with 20 000,
# C saw no -OOM) and answers between keys, and the test ends the loading with
# CONFIG SET key-load-delay 0 once it has seen what it waits for (CONFIG is served while
# loading).
. "$(dirname "$0")/lib.sh"
KEYS=${LOADING_KEYS:-3000000}
P=orion:inference

RARGS="--appendonly yes --appendfsync always --enable-debug-command yes --loading-process-events-interval-bytes 1024"
# a user without +ping (as DEPLOY.md's worker users had): its handshake cannot see the
# loading, so the daemon's own retries have to get it through
NOPING="orion-noping on >np-secret ~* &* +@all -ping"
set -f # the ACL words are no patterns
# shellcheck disable=SC2086 # RARGS and NOPING are lists of words
start_redis $RARGS --user $NOPING || {
    ok 1 "redis-server starts"
    done_testing
    exit 1
}
rcli DEBUG POPULATE "$KEYS" filler 64 >/dev/null
rcli BGREWRITEAOF >/dev/null
rewritten() { rcli INFO persistence | grep -q '^aof_rewrite_in_progress:0'; }
sleep 0.5
wait_for 60 rewritten
is "$(rcli DBSIZE)" "$KEYS" "$KEYS filler keys written to the AOF"
start_sim a --models gemma3:1b --load-ms 100 --tokens-per-s 5 || ok 1 "ollama-sim starts"
start_sim b --models gemma3:1b --load-ms 100 --tokens-per-s 5 || ok 1 "ollama-sim starts"

pong() { [ "$(rcli PING 2>/dev/null)" = PONG ]; }
loading() { rcli PING 2>/dev/null | grep -q '^LOADING'; }
# restart_loading: kill -9 Redis and start it again at once from the AOF, loading 2 ms a key;
# returns when it accepts connections (still loading). release_loading lets it finish.
restart_loading() {
    kill -9 "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    # shellcheck disable=SC2086
    bg redis-again redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --dir "$T_TMP" \
        $RARGS --key-load-delay 2000 --user $NOPING
    REDIS_PID=$BG_PID
    wait_for 10 rcli PING
    T0=$(date +%s)
}
release_loading() { rcli CONFIG SET key-load-delay 0 >/dev/null; }
answered() { [ "$(answers "$1")" -ge 1 ]; }

# --- A: daemons started while Redis loads ---------------------------------------------------
# the router's handshake waits out the loading (PING); the worker's user may not PING, so its
# XGROUP CREATE and reads get -LOADING and are retried
restart_loading
ORION_REDIS_PASSWORD=np-secret start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a" --redis-user orion-noping
RLOG=$T_TMP/router-$T_N.log # start_router names its log after T_N
start_router --router-id r1
wait_for 30 grep -q LOADING "$T_TMP/worker-pi-a.log"
ok $? "A: the worker met the loading Redis"
wait_for 30 grep -q LOADING "$RLOG"
ok $? "A: the router met the loading Redis"
check "A: Redis still loading after both daemons met it" loading
check "A: the worker's user may not PING" grep -q "PING not permitted" "$T_TMP/worker-pi-a.log"
release_loading
wait_for 60 pong
ok $? "A: Redis ready after loading ($(($(date +%s) - T0)) s)"
rcli XADD $P:requests '*' model gemma3:1b prompt "after loading" callback cb-a-1 \
    options '{"num_predict":2}' >/dev/null
wait_for 20 answered cb-a-1
ok $? "A: a request sent after loading is answered"
sleep 1
is "$(answers cb-a-1)" 1 "A: answered exactly once"
is "$(answer_field cb-a-1 status)" ok "A: answer is ok"
is "$(rcli XINFO GROUPS $P:requests:pi-a | grep -c inference-workers)" 1 \
    "A: the worker's group exists on its stream"
is "$(rcli XLEN $P:requests:pi-a)" 0 "A: nothing left on the node stream"
is "$(rcli XPENDING $P:requests inference-router | head -1)" 0 "A: nothing pending in the router"
kill "$WORKER_PID_pi_a" "$ROUTER_PID"
wait "$WORKER_PID_pi_a" "$ROUTER_PID" 2>/dev/null

# --- B: Redis restarts with the big AOF while the worker generates ------------------------
# fresh daemons, started while Redis is ready: B does not depend on A
RLOG=$T_TMP/router-$T_N.log
start_router --router-id r2
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
fresh() { rcli HEXISTS $P:health pi-b | grep -qx 1; }
wait_for 10 fresh
ok $? "B: worker pi-b reports health"
# 6 tokens at 5/s: the generation ends ~1.3 s after it starts, while Redis still loads (3-6 s)
rcli XADD $P:requests '*' model gemma3:1b prompt "during loading" callback cb-b-1 \
    options '{"num_predict":6}' >/dev/null
taken() { [ "$(rcli XPENDING $P:requests:pi-b inference-workers | head -1)" = 1 ]; }
wait_for 10 taken
ok $? "B: the worker runs the request"
LINES=$(wc -l <"$T_TMP/worker-pi-b.log")
restart_loading
since_b() { tail -n +$((LINES + 1)) "$T_TMP/worker-pi-b.log"; }
met_b() { since_b | grep -q LOADING && since_b | grep -q "request .*: done"; }
wait_for 30 met_b
ok $? "B: the generation ended while Redis loaded, and the worker met the loading"
check "B: Redis still loading then" loading
release_loading
wait_for 60 pong
ok $? "B: Redis ready after loading ($(($(date +%s) - T0)) s)"
wait_for 20 answered cb-b-1
ok $? "B: the answer that waited for Redis is written"
sleep 1
is "$(answers cb-b-1)" 1 "B: answered exactly once"
is "$(answer_field cb-b-1 status)" ok "B: answer is ok"
rcli XADD $P:requests '*' model gemma3:1b prompt "after the restart" callback cb-b-2 \
    options '{"num_predict":2}' >/dev/null
wait_for 20 answered cb-b-2
ok $? "B: the worker reads its stream again: a new request is answered"
sleep 0.5
is "$(answers cb-b-2)" 1 "B: answered exactly once"
is "$(rcli XLEN $P:requests:pi-b)" 0 "B: nothing left on the node stream"

# --- C: an answer Redis refuses while it is up is sent again until it is written ----------
# maxmemory 1 with noeviction: every write (the answer script too) fails with -OOM
rcli XADD $P:requests '*' model gemma3:1b prompt "refused answer" callback cb-c-1 \
    options '{"num_predict":5}' >/dev/null
wait_for 10 taken
ok $? "C: the worker runs the request"
LINES=$(wc -l <"$T_TMP/worker-pi-b.log")
rcli CONFIG SET maxmemory-policy noeviction >/dev/null
rcli CONFIG SET maxmemory 1 >/dev/null
refused() { tail -n +$((LINES + 1)) "$T_TMP/worker-pi-b.log" | grep -q "writing the answer failed.*OOM"; }
wait_for 10 refused
ok $? "C: the answer was refused with -OOM"
sleep 2
rcli CONFIG SET maxmemory 0 >/dev/null
wait_for 20 answered cb-c-1
ok $? "C: written once Redis takes writes again"
sleep 1
is "$(answers cb-c-1)" 1 "C: answered exactly once"
check "C: the worker says it was written after failed tries" \
    grep -q "answer written after [0-9]* failed tries" "$T_TMP/worker-pi-b.log"
is "$(rcli XLEN $P:requests:pi-b)" 0 "C: nothing left on the node stream"

# the read loops back off on error replies (problem 2): a few warnings, not hundreds
n=$(grep -c "LOADING" "$RLOG")
[ "$n" -le 10 ]
ok $? "B: the running router logged LOADING $n times during the load (at most 10)"
n=$(grep -c "LOADING" "$T_TMP/worker-pi-b.log")
[ "$n" -le 10 ]
ok $? "B: the running worker logged LOADING $n times during the load (at most 10)"
for pid in $WORKER_PID_pi_b $ROUTER_PID; do
    check "daemon $pid still running" kill -0 "$pid"
done
[ -n "${KEEP:-}" ] && echo "# logs in $T_TMP"
done_testing
