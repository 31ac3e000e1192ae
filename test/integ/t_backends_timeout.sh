#!/bin/sh
# --connect-timeout and --read-timeout fire for URL backends (issue 19). A backend whose port
# never completes a connect (test/tools/blackhole: a full accept queue, so SYNs are dropped)
# is found down by its probe within --connect-timeout, and requests left in its stream are
# moved to a backend that answers: each answered once. A backend that accepts but does not
# start its answer within --read-timeout (an ollama-sim whose model load takes a minute) gets
# its request answered with the error "timeout", once, while it stays eligible.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
start_sim good --models gemma3:1b,qwen2.5:0.5b --load-ms 100 --tokens-per-s 200 ||
    ok 1 "ollama-sim good starts"
start_sim slow --models gemma3:1b --load-ms 60000 --tokens-per-s 200 || ok 1 "ollama-sim slow starts"
bg hole "$ORION_BUILD/test/tools/blackhole"
wait_for 5 test -s "$T_TMP/hole.log"
HOLE=$(head -1 "$T_TMP/hole.log")
# the precondition, checked rather than assumed: a connect to the hole does hang
curl -s -o /dev/null --connect-timeout 1 "http://127.0.0.1:$HOLE/api/version"
is $? 28 "a connect to the blackhole port times out (curl exit 28)"

start_router --stale-after 3 --backend-interval 1 --connect-timeout 1 --read-timeout 2 \
    --backends "good=$SIM_URL_good,slow=$SIM_URL_slow,hole=http://127.0.0.1:$HOLE"
eligible() { health_json "$1" | grep -q '"available":true'; }
away() { health_json "$1" | grep -q '"available":false'; }
answered() { [ "$(answers "$1")" -ge 1 ]; }
wait_for 15 eligible good && wait_for 15 eligible slow
ok $? "backends good and slow are eligible"

# --connect-timeout: the probe of hole gives up after 1 s (the default is 3 s), and says so
wait_for 15 away hole
ok $? "hole is not eligible: its probe cannot connect"
health_json hole | grep -q '"ollama_up":false'
ok $? "... its health says ollama_up false"
wait_for 10 grep -q "backend hole (http://127.0.0.1:$HOLE): probe failed (connect to 127.0.0.1:$HOLE: no answer within 1000 ms)" "$T_TMP"/router-*.log
ok $? "the connect gave up after --connect-timeout 1 s, and the router says so at once (a backend down from the start)"
# work routed to hole before it was found down (written to its stream by hand) goes to good
for i in 1 2 3; do
    rcli XADD orion:inference:requests:hole '*' request_id "h$i" model qwen2.5:0.5b \
        prompt "stuck $i" callback "hcb$i" >/dev/null
done
allh() { answered hcb1 && answered hcb2 && answered hcb3; }
wait_for 30 allh
ok $? "three requests left on hole are answered"
r=""
for i in 1 2 3; do r="$r$(answer_field "hcb$i" node_id)/$(answer_field "hcb$i" status)/$(answers "hcb$i") "; done
is "$r" "good/ok/1 good/ok/1 good/ok/1 " "... each by good, ok, exactly once"

# --read-timeout: slow accepts and takes a minute to load; the request gets "timeout" in ~2 s
t0=$(date +%s)
submit gemma3:1b "wait for me" rcb1 node slow >/dev/null
wait_for 30 answered rcb1
ok $? "the request on slow is answered within 30 s (its load takes 60 s)"
t1=$(date +%s)
is "$(answer_field rcb1 status)/$(answer_field rcb1 code)" "error/timeout" \
    "... with the error timeout after $((t1 - t0)) s"
rcli --raw XRANGE rcb1 - + | grep -q "no response head within 2000 ms"
ok $? "... saying what timed out (no response head within 2000 ms)"
is "$(answers rcb1)" 1 "... answered once"
eligible slow
ok $? "slow stays eligible: its probe answers, only the request was slow"
done_testing
