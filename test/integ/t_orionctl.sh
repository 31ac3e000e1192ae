#!/bin/sh
# orionctl against a real redis-server and router: status (eligible or why not), drain and
# undrain, submit printing an answer, watch printing events, cancel answered by the router.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
H=orion:inference:health
Q=orion:inference:requests
export ORION_REDIS_ADDR=$REDIS_ADDR
CTL=$ORION_BIN/orionctl
health() {
    rcli HSET $H "$1" "{\"node_id\":\"$1\",\"last_seen\":$(date +%s),\"temp_c\":$2,\"ram_percent\":$3,\"cpu_percent\":7,\"ram_total_mb\":8000,\"models\":[\"gemma3:1b\"],\"installed\":[\"gemma3:1b\"],\"available\":true}" >/dev/null
}
health pi-a 50 40
health pi-b 80 30
health pi-c 50 95
rcli HSET $H broken 'not json' >/dev/null
out=$($ORION_WRAP "$CTL" status)
echo "$out" | sed 's/^/# /'
echo "$out" | grep -q '^pi-a .*eligible' ; ok $? "status: pi-a eligible"
echo "$out" | grep -q '^pi-b .*hot: 80 C > 75' ; ok $? "status: pi-b hot, with the rule"
echo "$out" | grep -q '^pi-c .*full: ram 95.0 % > 90' ; ok $? "status: pi-c full, with the rule"
echo "$out" | grep -q '^broken .*unreadable health' ; ok $? "status: unreadable health shown, not fatal"
echo "$out" | grep -q 'gemma3:1b' ; ok $? "status: loaded models shown"

# names longer than any fixed column: shown whole, the columns as wide as their content
LONG=hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M
rcli HSET $H a-node-with-a-long-name "{\"node_id\":\"a-node-with-a-long-name\",\"last_seen\":$(date +%s),\"temp_c\":50,\"ram_percent\":40,\"cpu_percent\":7,\"ram_total_mb\":8000,\"models\":[\"$LONG\"],\"installed\":[\"gemma3:1b\",\"qwen2.5:0.5b\",\"llama3.2:1b\",\"$LONG\"],\"available\":true}" >/dev/null
out=$($ORION_WRAP "$CTL" status)
echo "$out" | grep -q "^a-node-with-a-long-name .* $LONG  *gemma3:1b,qwen2.5:0.5b,llama3.2:1b,$LONG eligible" ; ok $? "status: a long node id, loaded and installed list whole"
at() { echo "$out" | grep "^$1 " | awk -v w="$2" '{ print index($0, w) }'; }
is "$(at NODE INSTALLED)" "$(at a-node-with-a-long-name gemma3:1b,qwen)" "status: INSTALLED heads the installed lists"
is "$(at NODE STATUS)" "$(at pi-a eligible)" "status: STATUS in line on a short row too"
rcli HDEL $H a-node-with-a-long-name >/dev/null
$ORION_WRAP "$CTL" drain pi-a >/dev/null
ok $? "drain"
out=$($ORION_WRAP "$CTL" status)
echo "$out" | grep -q '^pi-a .*draining' ; ok $? "status: pi-a draining"
$ORION_WRAP "$CTL" undrain pi-a >/dev/null
echo "$($ORION_WRAP "$CTL" status)" | grep -q '^pi-a .*eligible' ; ok $? "undrain: eligible again"

# submit: the answer is written by hand on the callback (the worker's job)
(
    sleep 1
    cb=$(rcli --raw XRANGE $Q - + | awk 'prev=="callback"{print;exit}{prev=$0}')
    rcli XADD "$cb" '*' request_id x type done status ok response "Hello from the test" node_id pi-a load_duration 1500000000 >/dev/null
) &
out=$($ORION_WRAP "$CTL" submit --model gemma3:1b --prompt hi --wait 5 2>&1)
ok $? "submit returns 0 on an answer"
echo "$out" | grep -q "Hello from the test" ; ok $? "submit prints the answer"
echo "$out" | grep -q "node pi-a, load 1.50 s" ; ok $? "submit says where it ran"
rcli DEL $Q >/dev/null
(
    sleep 1
    cb=$(rcli --raw XRANGE $Q - + | awk 'prev=="callback"{print;exit}{prev=$0}')
    rcli XADD "$cb" '*' type error status error code model_not_found error "model 'x' not found" >/dev/null
) &
out=$($ORION_WRAP "$CTL" submit --model x --prompt hi --wait 5 2>&1)
is "$?" 1 "submit exits 1 on an error answer"
echo "$out" | grep -q "model_not_found" ; ok $? "submit prints the error code"
is "$(rcli --scan --pattern 'orion:inference:cb:orionctl:*' | wc -l)" 0 "submit deletes its callback stream after an error answer too"
$ORION_WRAP "$CTL" submit --model x 2>/dev/null
is "$?" 100 "submit without a prompt: usage error"
$ORION_WRAP "$CTL" frobnicate 2>/dev/null
is "$?" 100 "unknown command: usage error"
ORION_REDIS_ADDR=127.0.0.1:1 $ORION_WRAP "$CTL" status 2>/dev/null
is "$?" 111 "Redis down: exit 111"

$ORION_WRAP "$CTL" watch >"$T_TMP/watch.out" 2>&1 &
W=$!
# watch reads from "$" (what comes after it starts): add the event once it waits in XREAD
wait_for 5 sh -c "redis-cli -p $REDIS_PORT CLIENT LIST | grep -q cmd=xread"
rcli XADD orion:inference:events '*' type routed request_id r1 node_id pi-a >/dev/null
wait_for 3 grep -q "type=routed request_id=r1 node_id=pi-a" "$T_TMP/watch.out"
ok $? "watch prints events as they come"
kill $W 2>/dev/null

# cancel: a request the router holds (the one node that could take it drained, the others hot
# and full) is answered canceled and leaves the group's pending list; a worker's running
# request is covered by t_worker. (A model no node has is answered model_not_found at once.)
rcli DEL $Q >/dev/null
rcli HSET orion:inference:drain pi-a 1 >/dev/null
health pi-a 50 40
start_router
submit gemma3:1b hi orion:inference:cb:t:c1 request_id c1 >/dev/null
wait_for 5 sh -c "[ \"\$(redis-cli -p $REDIS_PORT XPENDING $Q inference-router | head -1)\" = 1 ]"
ok $? "cancel: the router holds the request (pending in its group)"
out=$($ORION_WRAP "$CTL" cancel c1)
ok $? "cancel returns 0: $out"
is "$(rcli GET orion:inference:cancel:c1)" 1 "... P:cancel:c1 is set"
wait_for 5 sh -c "redis-cli -p $REDIS_PORT --raw XRANGE orion:inference:cb:t:c1 - + | grep -qx canceled"
ok $? "... the router answers code=canceled while it waits"
is "$(rcli XPENDING $Q inference-router | head -1)" 0 "... and acknowledges it"
is "$(answers orion:inference:cb:t:c1)" 1 "... once"
$ORION_WRAP "$CTL" cancel 2>/dev/null
is "$?" 100 "cancel without an id: usage error"
done_testing
