#!/bin/sh
# URL backends registered at run time (issue 19): POST /backends/register {"url","name"} and
# /backends/deregister {"url"|"node"}, kept in P:backends so that a restarted router runs them
# again. A third backend registered gets work; bad input is a 400 that changes nothing; an
# unreachable URL is registered but not eligible; deregistering lets running work finish and
# moves the waiting work; the old drain/undrain by node id answers as before, and under
# clearer names. ollama-sims only, no worker.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
for s in a b c d; do # d is slow: a request on it still runs when it is deregistered
    tps=100
    [ $s = d ] && tps=2
    start_sim "$s" --models gemma3:1b,qwen2.5:0.5b --load-ms 100 --tokens-per-s $tps ||
        ok 1 "ollama-sim $s starts"
done
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
RARGS="--router-id r1 --http-listen 127.0.0.1:$HTTP_PORT --stale-after 5 --backend-interval 1 --policy round-robin --backend-parallel 1"
start_router $RARGS --backends "ba=$SIM_URL_a"
wait_for 10 curl -sf "$URL/api/version"
listed() { rcli HEXISTS orion:inference:backends "$1" | grep -qx 1; }
wait_for 10 listed ba
is "$(rcli HGET orion:inference:backends ba)" "$SIM_URL_a" "--backends is written into P:backends"
post() { # post <path> <json>: prints the status, then the body
    curl -s -o "$T_TMP/body" -w '%{http_code}\n' -X POST "$URL$1" -d "$2"
    cat "$T_TMP/body"
}
eligible() { health_json "$1" | grep -q '"available":true'; }
# the router's own view (its /backends, refreshed once a second): a step that counts where
# requests go starts once the router has read the health, not only once Redis holds it
router_sees() { curl -sf "$URL/backends" | tr '{' '\n' | grep -q "\"node\":\"$1\",\"eligible\":true"; }
answered() { [ "$(answers "$1")" -ge 1 ]; }

out=$(post /backends/register "{\"url\":\"$SIM_URL_b\",\"name\":\"bb\"}")
echo "$out" | head -1 | grep -qx 200 && echo "$out" | grep -q '"registered":true,"reachable":true'
ok $? "register b as bb: 200, reachable ($(echo "$out" | tail -1 | cut -c1-90))"
wait_for 10 eligible bb
ok $? "bb is run and eligible"
out=$(post /backends/register "{\"url\":\"$SIM_URL_c\"}")
CNAME=127.0.0.1-${SIM_URL_c##*:}
echo "$out" | grep -q "\"node\":\"$CNAME\""
ok $? "register c without a name: named $CNAME"
wait_for 10 eligible "$CNAME" && wait_for 10 router_sees "$CNAME"
ok $? "a third backend registered at run time is eligible"
for i in 1 2 3 4 5 6; do
    submit qwen2.5:0.5b "rr $i" "rr$i" >/dev/null
    wait_for 20 answered "rr$i"
done
n3=$(for i in 1 2 3 4 5 6; do answer_field "rr$i" node_id; done | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
is "$n3" "$CNAME:2 ba:2 bb:2 " "round-robin gives the registered backends work"

# bad input: 400, nothing changes
now=$(rcli TIME | head -1)
rcli HSET orion:inference:health pi-w "{\"node_id\":\"pi-w\",\"last_seen\":$now}" >/dev/null
wait_for 5 sh -c "curl -s $URL/backends | grep -q '\"pi-w\"'"
before=$(rcli HLEN orion:inference:backends)
for body in '{"url":"ftp://h:1","name":"x1"}' '{"url":"https://h:1","name":"x2"}' \
    "{\"url\":\"http://127.0.0.1:1\",\"name\":\"bb\"}" "{\"url\":\"$SIM_URL_b\",\"name\":\"bb2\"}" \
    '{"url":"http://127.0.0.1:1","name":"bad name"}' '{"url":"http://127.0.0.1:1","name":"pi-w"}' \
    '{"name":"x3"}' 'not json'; do
    out=$(post /backends/register "$body")
    st=$(echo "$out" | head -1)
    msg=$(echo "$out" | tail -1)
    [ "$st" = 400 ] && echo "$msg" | grep -q '"error":"[a-z]'
    ok $? "register $body: 400 $msg"
done
is "$(rcli HLEN orion:inference:backends)" "$before" "... and P:backends is unchanged"
out=$(post /backends/register "{\"url\":\"$SIM_URL_b\",\"name\":\"bb\"}")
echo "$out" | head -1 | grep -qx 200 && echo "$out" | grep -q '"already":true'
ok $? "registering bb again with its URL: 200, already"

# an unreachable URL: registered, not eligible, and the answer says so
GHOST=http://127.0.0.1:$(free_port)
out=$(post /backends/register "{\"url\":\"$GHOST\",\"name\":\"ghost\"}")
echo "$out" | head -1 | grep -qx 200 && echo "$out" | grep -q '"registered":true,"reachable":false,"eligible":false'
ok $? "an unreachable URL is registered, the answer says not reachable, not eligible"
notel() { health_json ghost | grep -q '"available":false'; }
wait_for 10 notel
ok $? "ghost runs as a node that is not eligible"
out=$(post /backends/deregister "{\"url\":\"$GHOST\"}")
echo "$out" | head -1 | grep -qx 200 && echo "$out" | grep -q '"node":"ghost","deregistered":true'
ok $? "deregister by URL: 200"
nohealth() { [ -z "$(health_json "$1")" ]; }
wait_for 10 nohealth ghost && ! listed ghost
ok $? "ghost is gone from P:backends and from the health hash"
out=$(post /backends/deregister "{\"url\":\"$GHOST\"}")
is "$(echo "$out" | head -1)" 404 "deregistering it again: 404"

# deregister bd (slow, capacity 1) with one request running and two waiting in its stream: the
# running one finishes on bd, the waiting ones are answered elsewhere
post /backends/register "{\"url\":\"$SIM_URL_d\",\"name\":\"bd\"}" >/dev/null
wait_for 10 eligible bd
ok $? "bd registered and eligible"
submit gemma3:1b "slow one" dr-run node bd >/dev/null
running() { health_json bd | grep -q '"inflight":1'; }
wait_for 20 running
for i in 1 2; do
    rcli XADD orion:inference:requests:bd '*' request_id "dw$i" model qwen2.5:0.5b prompt "w$i" callback "dw$i" >/dev/null
done
out=$(post /backends/deregister '{"node":"bd"}')
echo "$out" | grep -q '"node":"bd","deregistered":true'
ok $? "deregister bd by node: $(echo "$out" | tail -1 | cut -c1-80)"
bothw() { answered dw1 && answered dw2; }
wait_for 30 bothw
w1=$(answer_field dw1 node_id) w2=$(answer_field dw2 node_id)
[ -n "$w1" ] && [ -n "$w2" ] && [ "$w1" != bd ] && [ "$w2" != bd ]
ok $? "the two waiting requests went elsewhere ($w1, $w2)"
wait_for 30 answered dr-run
is "$(answer_field dr-run node_id)/$(answer_field dr-run status)" "bd/ok" "the running request finished on bd"
wait_for 15 nohealth bd
ok $? "bd is removed once its work is done"
R1LOG=$(ls "$T_TMP"/router-*.log)
grep -q "backend bd: deregistered" "$R1LOG" && grep -q "backend bd: removed" "$R1LOG"
ok $? "the router logs the deregistration and the removal"
post /backends/deregister '{"node":"bb"}' | grep -q '"deregistered":true'
ok $? "deregister bb too"

# a restart of the router keeps the registered backends
kill "$ROUTER_PID"
wait_for 10 gone "$ROUTER_PID"
start_router $RARGS --backends "ba=$SIM_URL_a"
R2LOG=$T_TMP/router-$T_N.log
R2PID=$ROUTER_PID
wait_for 10 curl -sf "$URL/api/version"
grep_new() { grep -q "backend $CNAME: $SIM_URL_c run by this router" "$R2LOG"; }
wait_for 10 grep_new
ok $? "the restarted router runs $CNAME again, from P:backends"
submit gemma3:1b "after restart" ar node "$CNAME" >/dev/null
wait_for 20 answered ar
is "$(answer_field ar node_id)/$(answer_field ar status)" "$CNAME/ok" "and it answers there"
! grep -q "backend bb\|backend bd" "$R2LOG"
ok $? "the deregistered bb and bd are not run again"

# drain / undrain by node id: the new names and the old ones
out=$(post /nodes/drain '{"node":"pi-w"}')
echo "$out" | grep -q '"node":"pi-w","drained":true' && rcli HEXISTS orion:inference:drain pi-w | grep -qx 1
ok $? "POST /nodes/drain drains a node"
out=$(post /nodes/undrain '{"node":"pi-w"}')
echo "$out" | grep -q '"drained":false' && rcli HEXISTS orion:inference:drain pi-w | grep -qx 0
ok $? "POST /nodes/undrain puts it back"
out=$(post /backends/deregister '{"node":"pi-w"}')
echo "$out" | grep -q '"node":"pi-w","drained":true' && rcli HEXISTS orion:inference:drain pi-w | grep -qx 1
ok $? "the old /backends/deregister {node} of a node that is no URL backend still drains it"
out=$(post /backends/register '{"node":"pi-w"}')
echo "$out" | grep -q '"drained":false' && rcli HEXISTS orion:inference:drain pi-w | grep -qx 0
ok $? "the old /backends/register {node} still undrains it"
# a standby router knows the backends but leaves them to r1 (its lease); when r1 stops, the
# standby runs them once r1's lease runs out (--stale-after 5 s)
start_router --router-id r2 --stale-after 5 --backend-interval 1 --policy round-robin
R3LOG=$T_TMP/router-$T_N.log
standby_knows() { grep -q "backend ba: run by another router" "$R3LOG" && grep -q "backend $CNAME: run by another router" "$R3LOG"; }
wait_for 10 standby_knows
ok $? "a standby router reads P:backends and leaves the backends to the router that runs them"
! grep -q "run by this router" "$R3LOG"
ok $? "... it runs none of them while r1 does"
kill "$R2PID"
wait_for 10 gone "$R2PID"
taken() { grep -q "backend ba: $SIM_URL_a run by this router" "$R3LOG" && grep -q "backend $CNAME: $SIM_URL_c run by this router" "$R3LOG"; }
wait_for 20 taken
ok $? "r1 stopped: the standby runs both backends"
submit qwen2.5:0.5b "standby" sb node ba >/dev/null
wait_for 20 answered sb
is "$(answer_field sb node_id)/$(answer_field sb status)" "ba/ok" "a request for ba is answered through the standby"

done_testing
