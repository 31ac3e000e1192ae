#!/bin/sh
# URL backends (issue 19): ollama-sims started by URL, no worker anywhere. The router runs
# each as a node itself (--backends): health probed over Ollama's API (no temperature, RAM
# unknown), requests answered streamed and not through the HTTP front and straight from
# Redis, capacity learned from how many requests a backend streams at once, and a backend
# killed: not eligible, its requests go elsewhere, eligible again after it restarts; /stats
# backend_stats gives each backend's answers, errors, latency and first token.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
SIMARGS="--models gemma3:1b,qwen2.5:0.5b --load-ms 200 --tokens-per-s 200"
start_sim a $SIMARGS || ok 1 "ollama-sim a starts"
# b answers slowly (10 tokens/s: 0.6 s or more), so two requests on it surely stream together
start_sim b --models gemma3:1b,qwen2.5:0.5b --load-ms 200 --tokens-per-s 10 --num-parallel 2 ||
    ok 1 "ollama-sim b starts"
PORT_A=${SIM_URL_a##*:}
BNAME=127.0.0.1-${SIM_URL_b##*:} # the name made from b's URL
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
start_router --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 3 --backend-interval 1 \
    --backends "sim-a=$SIM_URL_a,$SIM_URL_b"
wait_for 10 curl -sf "$URL/api/version"
ok $? "the router starts with two URL backends"

eligible() { health_json "$1" | grep -q '"available":true'; }
away() { health_json "$1" | grep -q '"available":false'; }
wait_for 10 eligible sim-a && wait_for 10 eligible "$BNAME"
ok $? "both backends publish health as nodes sim-a and $BNAME"
h=$(health_json sim-a)
echo "$h" | grep -q '"temp_c"' && ! echo "$h" | grep -q '"temp_c":null'
ok $((1 - $?)) "a backend has no temperature"
echo "$h" | grep -q '"ram_percent":null' || ! echo "$h" | grep -q '"ram_percent"'
ok $? "a backend's RAM is unknown"
echo "$h" | grep -q '"installed":\["gemma3:1b","qwen2.5:0.5b"\]'
ok $? "installed models come from /api/tags: $(echo "$h" | grep -o '"installed":[^]]*]')"
is "$(rcli HLEN orion:inference:health)" 2 "no other node exists (no worker runs)"

# answered from Redis, then through the HTTP front, not streamed and streamed
answered() { [ "$(answers "$1")" -ge 1 ]; }
submit gemma3:1b "hello" cb1 >/dev/null
wait_for 20 answered cb1
is "$(answer_field cb1 status)" ok "a request from Redis is answered"
n1=$(answer_field cb1 node_id)
case "$n1" in sim-a | "$BNAME") ok 0 "it ran on a backend ($n1)" ;; *) ok 1 "it ran on a backend ($n1)" ;; esac
out=$(curl -s "$URL/api/chat" -d '{"model":"gemma3:1b","stream":false,"messages":[{"role":"user","content":"hi"}]}')
echo "$out" | grep -q '"done":true' && echo "$out" | grep -q '"content":"[^"]'
ok $? "POST /api/chat stream false answered: $(echo "$out" | cut -c1-100)"
out=$(curl -sN "$URL/api/generate" -d '{"model":"qwen2.5:0.5b","prompt":"count to ten"}')
lines=$(echo "$out" | grep -c '"response"')
[ "$lines" -ge 3 ] && echo "$out" | tail -1 | grep -q '"done":true'
ok $? "POST /api/generate streamed: $lines NDJSON lines, the last done"

# capacity: b runs 2 at once (OLLAMA_NUM_PARALLEL 2, invisible over the API); three long
# requests pinned to it show two streaming together, and it learns capacity 3 (2 + 1 trial)
for i in 1 2 3; do
    submit gemma3:1b "$(printf 'word %.0s' $(seq 1 40))" "cap$i" node "$BNAME" options '{"num_predict":300}' >/dev/null
done
cap3() { health_json "$BNAME" | grep -q '"capacity":3'; }
wait_for 30 cap3
ok $? "b's capacity learned from concurrency: $(health_json "$BNAME" | grep -o '"capacity":[0-9]*')"
grep -q "backend $BNAME: 2 request(s) streamed at once" "$T_TMP"/router-*.log
ok $? "the router says what it learned"
all3() { for i in 1 2 3; do answered "cap$i" || return 1; done; }
wait_for 60 all3
ok $? "the three pinned requests are answered"
health_json sim-a | grep -q '"capacity":[12],'
ok $? "a backend that never ran two at once offers at most 2: $(health_json sim-a | grep -o '"capacity":[0-9]*')"

# kill backend a: not eligible, every request answered elsewhere; restarted: eligible again
kill "$SIM_PID_a"
wait_for 10 away sim-a
ok $? "a killed backend is not eligible after its probe fails"
health_json sim-a | grep -q '"ollama_up":false'
ok $? "its health says ollama_up false"
for i in 1 2 3 4; do submit qwen2.5:0.5b "k$i" "kcb$i" >/dev/null; done
allk() { for i in 1 2 3 4; do answered "kcb$i" || return 1; done; }
wait_for 30 allk
ok $? "four requests while a is down are all answered"
bad=0
for i in 1 2 3 4; do
    [ "$(answer_field "kcb$i" status)" = ok ] && [ "$(answer_field "kcb$i" node_id)" = "$BNAME" ] || bad=1
done
is "$bad" 0 "each by b, with a result"
# work that was in a's stream when it went away (routed just before) moves to b
for i in 1 2; do
    rcli XADD orion:inference:requests:sim-a '*' request_id "q$i" model qwen2.5:0.5b prompt "queued $i" callback "qcb$i" >/dev/null
done
allq() { answered qcb1 && answered qcb2; }
wait_for 30 allq
is "$(answer_field qcb1 node_id)/$(answer_field qcb2 node_id)" "$BNAME/$BNAME" "requests queued on a while it is away are moved to b and answered"
grep -q "node sim-a takes no more work (silent, stopping, or its Ollama away): moving" "$T_TMP"/router-*.log
ok $? "the router says it moved them"
bg sim-a2 $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$PORT_A" --sysfs-root "$SIM_ROOT_a" $SIMARGS
wait_for 15 eligible sim-a
ok $? "restarted, backend a is eligible again"
grep -q "backend sim-a ($SIM_URL_a): answering; eligible" "$T_TMP"/router-*.log
ok $? "the router logs it back"
submit gemma3:1b "back" cb9 node sim-a >/dev/null
wait_for 20 answered cb9
is "$(answer_field cb9 node_id)/$(answer_field cb9 status)" "sim-a/ok" "a request for a runs on it again"
total=0
for i in 1 2 3 4; do total=$((total + $(answers "kcb$i"))); done
total=$((total + $(answers qcb1) + $(answers qcb2)))
is "$total" 6 "each request of the outage answered exactly once"

# /stats backend_stats: each backend's figures, from the events its runner wrote
bsnode() { # bsnode <node>: its backend_stats object up to its models
    curl -s "$URL/stats" | sed 's/.*"backend_stats":\[//' | grep -o "{\"node\":\"$1\",\"inflight\":[^[]*"
}
bsmodel() { # bsmodel <node> <model>: that model's object
    curl -s "$URL/stats" | sed 's/.*"backend_stats":\[//' |
        grep -o "{\"node\":\"$1\",\"inflight\":[^[]*\[[^]]*\]" |
        grep -o "{\"model\":\"$2\",[^]]*" | sed 's/}}.*/}}/'
}
fld() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
win() { # win <object> <latency_ms|first_token_ms>: "n mean p50 p95"
    echo "$1" | sed -n "s/.*\"$2\":{\"n\":\([0-9]*\),\"mean\":\([0-9.]*\),\"p50\":\([0-9.]*\),\"p95\":\([0-9.]*\)}.*/\1 \2 \3 \4/p"
}
idle() { fld "$(bsnode "$1")" inflight | grep -qx 0; }
wait_for 10 idle "$BNAME"
ok $? "backend_stats: nothing in flight on b once all is answered"
bb=$(bsnode "$BNAME")
okb=$(curl -s "$URL/metrics" | grep "^orion_requests_total{.*node=\"$BNAME\",outcome=\"ok\"}" | awk '{ s += $2 } END { print s + 0 }')
nb=$(fld "$bb" answered)
[ "$nb" -ge 9 ] && [ "$nb" = "$okb" ]
ok $? "b answered $nb (at least the 9 pinned or moved there; /metrics' ok answers on b: $okb)"
is "$(fld "$bb" errors)" 0 "b: no errors"
set -- $(win "$bb" latency_ms)
want_n=$nb
[ "$want_n" -gt 64 ] && want_n=64
[ "${1:-0}" = "$want_n" ] && awk -v m="$2" -v a="$3" -v b="$4" 'BEGIN { exit !(m > 0 && a > 0 && a <= b) }'
ok $? "b's latency over its window: n $1, mean $2, p50 $3, p95 $4 ms"
LAT_P50=$3
set -- $(win "$bb" first_token_ms)
[ "${1:-0}" -ge 1 ] && awk -v f="$3" -v l="$LAT_P50" 'BEGIN { exit !(f > 0 && f < l) }'
ok $? "b's first token (n $1, p50 $3, p95 $4 ms) before its answers end (latency p50 $LAT_P50 ms): b streams at 10 tokens/s"
bg3=$(bsmodel "$BNAME" gemma3:1b)
bq=$(bsmodel "$BNAME" qwen2.5:0.5b)
[ "$(fld "$bg3" answered)" -ge 3 ] && [ "$(fld "$bq" answered)" -ge 6 ] &&
    [ $(($(fld "$bg3" answered) + $(fld "$bq" answered))) -eq "$nb" ]
ok $? "b per model: gemma3:1b $(fld "$bg3" answered), qwen2.5:0.5b $(fld "$bq" answered), adding up to $nb"
ba=$(bsnode sim-a)
set -- $(win "$ba" latency_ms)
[ "$(fld "$ba" answered)" -ge 1 ] && [ "${1:-0}" -ge 1 ]
ok $? "sim-a has its own figures: answered $(fld "$ba" answered), latency n ${1:-none}"
done_testing
