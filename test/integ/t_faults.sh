#!/bin/sh
# Faults the other integration scripts do not try (issue 9), against a real cluster on
# loopback: Redis down for 10 s (30 s with LONG=1) with every daemon running, Redis restarted
# from its append-only file while requests wait in the router, a worker stopped with SIGTERM
# under load, Ollama not sending its headers (ollama-sim mode hang) and recovering, nodes whose
# last_seen is 10 s ahead of or behind the Redis clock, and (in the background, with its own
# Redis) two routers where the one holding waiting requests is killed -9.
# Every request must be answered exactly once. docs/RELIABILITY.md lists what is promised.
. "$(dirname "$0")/lib.sh"
LONG=${LONG:-0}
OUTAGE=10
[ "$LONG" = 1 ] && OUTAGE=30
P=orion:inference
Q=$P:requests

answered() { [ "$(answers "$1")" -ge 1 ]; }
all_answered() { # all_answered <callback prefix> <n>
    a_i=1
    while [ "$a_i" -le "$2" ]; do
        answered "$1$a_i" || return 1
        a_i=$((a_i + 1))
    done
}
sum_answers() { # sum_answers <callback prefix> <n>: total done/error entries
    s_i=1 s_t=0
    while [ "$s_i" -le "$2" ]; do
        s_t=$((s_t + $(answers "$1$s_i")))
        s_i=$((s_i + 1))
    done
    echo "$s_t"
}
codes() { # codes <callback prefix> <n>: the status/code of each answer, sorted and counted
    c_i=1
    while [ "$c_i" -le "$2" ]; do
        c_s=$(answer_field "$1$c_i" status)
        [ "$c_s" = ok ] || c_s=$(answer_field "$1$c_i" code)
        echo "${c_s:-none}"
        c_i=$((c_i + 1))
    done | sort | uniq -c | awk '{printf "%s%s=%s", sep, $2, $1; sep=" "} END {print ""}'
}
alive() { kill -0 "$1" 2>/dev/null; }

# --- two routers, the one holding waiting requests killed -9 (own Redis, in the background:
# the takeover needs ROUTER_CLAIM_IDLE_MS = 30 s of idleness, which we spend on the rest) -----
TK_RES=$T_TMP/takeover.res
takeover() {
    T_TMP=$T_TMP/takeover
    T_PIDS=""
    mkdir -p "$T_TMP"
    trap cleanup EXIT
    trap 'exit 1' INT TERM
    res() { echo "$1 $2" >>"$TK_RES"; }
    start_redis || { res 1 "takeover: redis-server starts"; return; }
    start_sim tk --models gemma3:1b --load-ms 100 --tokens-per-s 200 || res 1 "takeover: ollama-sim starts"
    rcli HSET $P:drain tk-a "$(date +%s)" >/dev/null # requests wait in the router
    start_worker tk-a "$SIM_URL_tk" "$SIM_ROOT_tk"
    T_N=1 # start_router names its log after T_N
    start_router --stale-after 3 --router-id ra
    RA=$ROUTER_PID
    sleep 1.5
    for i in 1 2 3 4 5; do submit gemma3:1b "takeover $i" "cb-tk-$i" >/dev/null; done
    held_by_ra() { rcli XPENDING $Q inference-router | grep -qx ra && [ "$(rcli XPENDING $Q inference-router | head -1)" = 5 ]; }
    wait_for 5 held_by_ra
    res $? "takeover: router ra holds 5 waiting requests (node drained)"
    T_N=2
    start_router --stale-after 3 --router-id rb
    RB=$ROUTER_PID
    sleep 1
    kill -9 "$RA"
    t0=$(date +%s)
    rcli HDEL $P:drain tk-a >/dev/null
    wait_for 60 all_answered cb-tk- 5
    res $? "takeover: all 5 answered after ra was killed -9"
    dt=$(($(date +%s) - t0))
    [ "$dt" -le 45 ]
    res $? "takeover: rb took over within 45 s (took $dt s; claim idle 30 s, checked every 10 s)"
    sleep 2
    [ "$(sum_answers cb-tk- 5)" = 5 ]
    res $? "takeover: each answered exactly once ($(codes cb-tk- 5))"
    grep -q 'took over 5 request' "$T_TMP/router-2.log"
    res $? "takeover: rb logged the takeover"
    alive "$RB"
    res $? "takeover: rb still running"
}
takeover >/dev/null 2>&1 &
TK_PID=$!
T_PIDS="$T_PIDS $TK_PID"

# --- the main cluster: Redis with an fsynced append-only file, three nodes, one router --------
start_redis --appendonly yes --appendfsync always --appendfilename faults.aof || {
    ok 1 "redis-server starts"
    done_testing
    exit 1
}
restart_redis() { # restart_redis [seconds down]: kill -9, wait, start again on the same port/dir
    kill -9 "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    sleep "${1:-1}"
    bg redis-again redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly yes --appendfsync always --appendfilename faults.aof --dir "$T_TMP"
    REDIS_PID=$BG_PID
    wait_for 10 rcli ping
}
for n in a b c; do
    start_sim "$n" --models gemma3:1b,llama3.2:1b,qwen2.5:0.5b --load-ms 200 --tokens-per-s 100 \
        || ok 1 "ollama-sim $n starts"
done
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
WA=$BG_PID
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
WB=$BG_PID
start_worker pi-c "$SIM_URL_c" "$SIM_ROOT_c"
WC=$BG_PID
start_router --stale-after 3 --router-id r1
R1=$ROUTER_PID
three_up() { [ "$(rcli HLEN $P:health)" = 3 ]; }
wait_for 10 three_up
ok $? "three workers report health"
drain() { for d in "$@"; do rcli HSET $P:drain "$d" "$(date +%s)" >/dev/null; done; }
undrain() { for d in "$@"; do rcli HDEL $P:drain "$d" >/dev/null; done; }

# 1. Redis down for OUTAGE s right after 6 requests were submitted (some waiting, some running,
# some answers due during the outage)
for i in 1 2 3 4 5 6; do submit gemma3:1b "before the outage $i" "cb-out-$i" >/dev/null; done
sleep 0.3
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
sleep "$OUTAGE"
alive "$WA" && alive "$WB" && alive "$WC" && alive "$R1"
ok $? "Redis down $OUTAGE s: router and the three workers keep running"
restart_redis 0
ok $? "Redis back from its append-only file"
fresh_health() { # all three health fields written after the restart
    three_up || return 1
    now=$(rcli TIME | head -1)
    for n in pi-a pi-b pi-c; do
        ls=$(health_json $n | sed 's/.*"last_seen":\([0-9]*\).*/\1/')
        [ $((now - ls)) -le 2 ] || return 1
    done
}
wait_for 10 fresh_health
ok $? "health resumes: three fresh reports within 10 s"
wait_for 30 all_answered cb-out- 6
ok $? "the 6 requests submitted before the outage are answered"
sleep 1
is "$(sum_answers cb-out- 6)" 6 "... each exactly once ($(codes cb-out- 6))"
is "$(grep -c 'redis.*: connected' "$T_TMP/worker-pi-a.log")" 2 "worker logged the reconnect once"

# 2. Redis killed -9 and restarted from its append-only file while requests wait in the router
drain pi-a pi-b pi-c
sleep 1.5
for i in 1 2 3 4 5; do submit llama3.2:1b "waiting $i" "cb-wait-$i" >/dev/null; done
held() { [ "$(rcli XPENDING $Q inference-router | head -1)" = 5 ]; }
wait_for 5 held
ok $? "5 requests wait in the router (every node drained)"
restart_redis 2
ok $? "Redis restarted with persistence"
is "$(rcli XPENDING $Q inference-router | head -1)" 5 "the 5 waiting requests are still pending after the restart"
undrain pi-a pi-b pi-c
wait_for 20 all_answered cb-wait- 5
ok $? "all 5 answered once nodes are back"
sleep 1
is "$(sum_answers cb-wait- 5)" 5 "... each exactly once ($(codes cb-wait- 5))"

# 3. SIGTERM to a worker under load: everything goes to pi-b, which is stopped half a second
# later; what it runs finishes, the rest is moved on by the router (bound late, the router
# gives pi-b only what its slots take and holds the rest; what is in pi-b's stream unanswered
# is failed over once pi-b is silent)
drain pi-a pi-c
sleep 1.2
for i in $(seq 1 12); do submit qwen2.5:0.5b "load $i" "cb-term-$i" >/dev/null; done
sleep 0.5
onb=$(rcli XLEN $Q:pi-b)
kill -TERM "$WB"
undrain pi-a pi-c
wait "$WB"
is "$?" 0 "SIGTERM under load: pi-b exits 0"
echo "# $onb entries on pi-b's stream at the SIGTERM; $(grep -o '[0-9]* running get up' "$T_TMP/worker-pi-b.log")"
[ "$onb" -ge 1 ]
ok $? "pi-b had work when stopped ($onb entries)"
wait_for 30 all_answered cb-term- 12
ok $? "all 12 requests answered although pi-b stopped"
sleep 1
is "$(sum_answers cb-term- 12)" 12 "... each exactly once ($(codes cb-term- 12))"
is "$(rcli XLEN $Q:pi-b)" 0 "nothing left on pi-b's stream"
cp "$T_TMP/worker-pi-b.log" "$T_TMP/worker-pi-b.sigterm.log"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
WB=$BG_PID

# 4. Ollama that does not send its headers (hang), then recovers
drain pi-b pi-c
sleep 1.2 # the router reads the drain hash every second
curl -sf -X POST -d '{"mode":"hang"}' "$SIM_URL_a/sim/fail" >/dev/null
submit gemma3:1b "hang 1" cb-hang-1 request_id fx-hang-1 >/dev/null
sleep 1.5
submit gemma3:1b "hang 2" cb-hang-2 request_id fx-hang-2 >/dev/null
sleep 2
is "$(answers cb-hang-1)$(answers cb-hang-2)" 00 "Ollama hangs before its headers: nothing answered yet"
ls1=$(health_json pi-a | sed 's/.*"last_seen":\([0-9]*\).*/\1/')
sleep 1.2
ls2=$(health_json pi-a | sed 's/.*"last_seen":\([0-9]*\).*/\1/')
[ "$ls2" -gt "$ls1" ] && health_json pi-a | grep -q '"available":true'
ok $? "the worker keeps reporting health while Ollama hangs"
curl -sf -X POST -d '{"mode":"none"}' "$SIM_URL_a/sim/fail" >/dev/null
sleep 2
is "$(answers cb-hang-1)" 0 "Ollama recovered: the request already hanging still waits for its head (header timeout 600 s)"
rcli SET $P:cancel:fx-hang-1 1 EX 60 >/dev/null
wait_for 10 answered cb-hang-1
is "$(answer_field cb-hang-1 code)" canceled "the caller cancels the hung request: answered canceled"
wait_for 20 answered cb-hang-2
is "$(answer_field cb-hang-2 status)" ok "the request queued behind it runs once Ollama answers again"
undrain pi-b pi-c

# 5. clock skew: two extra nodes with a model nobody else has, last_seen 10 s ahead / behind
skewbeat() { # skewbeat <node> <offset s>: report health every 0.5 s with a skewed last_seen
    while :; do
        rcli HSET $P:health "$1" "{\"node_id\":\"$1\",\"last_seen\":$(($(date +%s) + $2)),\"temp_c\":40,\"ram_percent\":20,\"ram_total_mb\":8000,\"models\":[],\"installed\":[\"skew:1b\"],\"available\":true,\"capacity\":1}" >/dev/null
        sleep 0.5
    done
}
on_node() { rcli --raw XRANGE "$Q:$1" - + | grep -qx "$2"; }
take() { for id in $(rcli --raw XRANGE "$Q:$1" - + | grep -E '^[0-9]+-[0-9]+$'); do rcli XDEL "$Q:$1" "$id" >/dev/null; done; }
skewbeat skew-behind -10 &
SB=$!
T_PIDS="$T_PIDS $SB"
sleep 2.5
submit skew:1b "behind" cb-skew-1 timeout_ms 5000 >/dev/null
wait_for 5 on_node skew-behind cb-skew-1
ok $? "a node whose last_seen is 10 s behind Redis's clock is fresh while it reports"
take skew-behind
skewbeat skew-ahead 10 &
SA=$!
T_PIDS="$T_PIDS $SA"
kill "$SB"
sleep 4.5 # skew-behind silent for more than --stale-after 3
submit skew:1b "ahead" cb-skew-2 timeout_ms 5000 >/dev/null
wait_for 5 on_node skew-ahead cb-skew-2
ok $? "a node whose last_seen is 10 s ahead is fresh; the silent one is not used"
take skew-ahead
kill "$SA"
sleep 4.5 # skew-ahead silent: its last_seen is still in the future
submit skew:1b "nobody" cb-skew-3 timeout_ms 3000 >/dev/null
wait_for 8 answered cb-skew-3
is "$(answer_field cb-skew-3 code)" no_available_nodes "a silent node with last_seen in the future is stale after 3 s"
is "$(rcli XLEN $Q:skew-ahead)$(rcli XLEN $Q:skew-behind)" 00 "... nothing was placed on either silent node"
rcli HDEL $P:health skew-ahead skew-behind >/dev/null

alive "$WA" && alive "$WB" && alive "$WC" && alive "$R1"
ok $? "every daemon survived"

# the background takeover case
wait "$TK_PID"
if [ -s "$TK_RES" ]; then
    while read -r st desc; do ok "$st" "$desc"; done <"$TK_RES"
else
    ok 1 "takeover case reported nothing"
fi
done_testing
