#!/bin/sh
# The router against a real redis-server, with the workers played by this script (health
# written by hand, node streams read with redis-cli, done events written as a worker writes
# them): placement rules end to end, late binding (a node's stream gets a request only when
# the node has a free slot, and the slot a done event frees is given at once), waiting and
# deadlines, failover of a silent node's work, flights that end unheard, restart with waiting
# requests, two routers.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
H=orion:inference:health
Q=orion:inference:requests
health() { # health <node> <temp|null> <ram%> <models json> [capacity]
    rcli HSET $H "$1" "{\"node_id\":\"$1\",\"last_seen\":$(date +%s),\"temp_c\":$2,\"ram_percent\":$3,\"ram_total_mb\":8000,\"models\":$4,\"installed\":[\"gemma3:1b\",\"llama3.2:1b\",\"qwen2.5:0.5b\"],\"available\":true,\"capacity\":${5:-1}}" >/dev/null
}
beat() { # keep the listed nodes fresh in the background: beat "node temp ram models [cap]" ...
    while :; do
        for spec in "$@"; do
            # shellcheck disable=SC2086
            (set -- $spec; health "$1" "$2" "$3" "$4" "${5:-1}")
        done
        sleep 0.5
    done
}
nodelen() { rcli XLEN "$Q:$1"; }
len_is() { [ "$(nodelen "$1")" = "$2" ]; }             # for wait_for: evaluated on every try
total_ge() { [ $(($(nodelen pi-a) + $(nodelen pi-b))) -ge "$1" ]; }
on_node() { # on_node <node> <callback>: is a request with this callback on the node's stream?
    rcli --raw XRANGE "$Q:$1" - + | grep -qx "$2"
}
on_either() { on_node pi-a "$1" || on_node pi-b "$1"; }

# --route-set: a bad item is a usage error naming it; a good list is accepted (--check-config)
err=$($ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --http-listen off \
    --route-set evict_reloads=1,order_exp=x 2>&1)
is "$?" 100 "router --route-set with a bad value exits 100"
case "$err" in *'"order_exp=x"'*) ok 0 "... naming the item" ;; *) ok 1 "... naming the item: $err" ;; esac
is "$("$ORION_BIN/orion-inference-router" --route-set evict_reloads=1,order_arrival=1 --check-config | grep '^route-set=')" \
    "route-set=evict_reloads=1,order_arrival=1" "router --route-set shows in --check-config"
held() { # held <n>: the router holds n requests (pending in its group on P:requests)
    [ "$(rcli XPENDING $Q inference-router | head -1)" = "$1" ]
}
entry_ids() { rcli --raw XRANGE "$Q:$1" - + | grep -E '^[0-9]+-[0-9]+$'; }
entry_field() { # entry_field <node> <entry id> <field>
    rcli --raw XRANGE "$Q:$1" "$2" "$2" | awk -v f="$3" 'NR > 1 && NR % 2 == 0 { k = $0; next } k == f { print; exit }'
}
# finish_node <node> [total_ns load_ns]: the node's "worker" answers everything on its stream:
# the entry deleted (as the answer script does), then a done event on P:events
finish_node() {
    for id in $(entry_ids "$1"); do
        f_rid=$(entry_field "$1" "$id" request_id)
        f_model=$(entry_field "$1" "$id" model)
        rcli XDEL "$Q:$1" "$id" >/dev/null
        rcli XADD orion:inference:events '*' type done request_id "${f_rid:-$id}" node_id "$1" \
            model "$f_model" info '' total_duration "${2:-1000000}" load_duration "${3:-1000}" >/dev/null
    done
}
# drain_node <node>: everything on its stream deleted and no event written (a worker that
# lost its events, or a stream emptied by hand)
drain_node() {
    for id in $(entry_ids "$1"); do
        rcli XDEL "$Q:$1" "$id" >/dev/null
    done
}

# 1. sticky placement, a hot node avoided, a freed slot given at once
beat "pi-a 50 40 [\"gemma3:1b\"]" "pi-b 60 30 []" "pi-c 80 20 [\"llama3.2:1b\"]" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
RPORT=$(free_port)
start_router --stale-after 3 --http-listen 127.0.0.1:$RPORT
# router_sees <node> <eligible true|false>: the router's own view (its /backends), so a step
# starts once the router has read the health this script wrote, however slow the machine
router_sees() {
    curl -sf "http://127.0.0.1:$RPORT/backends" | tr '{' '\n' |
        grep -q "\"node\":\"$1\",\"eligible\":$2"
}
wait_for 5 router_sees pi-a true && wait_for 5 router_sees pi-c false
ok $? "the router sees pi-a eligible and the hot pi-c not"
submit gemma3:1b hi cb-sticky >/dev/null
wait_for 5 on_node pi-a cb-sticky
ok $? "a model loaded on pi-a goes to pi-a (sticky)"
submit llama3.2:1b hi cb-hot >/dev/null
wait_for 5 on_node pi-b cb-hot
ok $? "llama3.2:1b, loaded only on the hot pi-c (80 C), goes to the free pi-b (pi-a is busy)"
check "nothing went to the hot node" test "$(nodelen pi-c)" = 0
submit qwen2.5:0.5b hi cb-cold >/dev/null
sleep 1.5
is "$(nodelen pi-a)$(nodelen pi-b)$(nodelen pi-c)" 110 "every slot taken: the third request stays in the router"
check "... pending in its group, so a crash loses nothing" held 1
finish_node pi-a
wait_for 5 on_node pi-a cb-cold
ok $? "pi-a's done event frees its slot: the held request goes there at once"
finish_node pi-a
finish_node pi-b
# a request finished a moment ago: the next one for the same model goes there again, told by
# the done event, not by a look at the stream lengths
for i in 1 2 3; do
    submit gemma3:1b again "cb-again-$i" >/dev/null
    wait_for 5 on_either "cb-again-$i"
    finish_node pi-a
done
is "$(nodelen pi-b)" 0 "back-to-back requests stay on the node that has the model"
kill $BEAT
finish_node pi-a; finish_node pi-b

# 2. no eligible node: waits, placed as soon as one qualifies; deadline answered
beat "pi-a 80 40 []" "pi-b 80 30 []" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
wait_for 5 router_sees pi-a false && wait_for 5 router_sees pi-b false
ok $? "the router sees both nodes hot"
submit gemma3:1b low cb-low priority 1 >/dev/null
submit gemma3:1b high cb-high priority 3 >/dev/null
submit gemma3:1b late cb-late timeout_ms 1500 >/dev/null
late_answered() { [ "$(answers cb-late)" -ge 1 ]; }
wait_for 5 late_answered
is "$(answer_field cb-late code)" "no_available_nodes" "past its deadline: answered no_available_nodes"
is "$(answer_field cb-late retriable)" "true" "... retriable"
is "$(rcli XLEN $Q:pi-a)$(rcli XLEN $Q:pi-b)" "00" "nothing placed on hot nodes"
kill $BEAT
beat "pi-a 70 40 []" "pi-b 80 30 []" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
wait_for 6 len_is pi-a 1
ok $? "pi-a cooled below the hysteresis margin: its one slot taken"
first=$(rcli --raw XRANGE $Q:pi-a - + COUNT 1 | grep -E '^cb-')
is "$first" "cb-high" "priority 3 placed before priority 1"
sleep 0.5
is "$(nodelen pi-a)" 1 "... and the other one held meanwhile (one slot)"
finish_node pi-a
wait_for 5 on_node pi-a cb-low
ok $? "the priority-1 request follows when the slot frees"
kill $BEAT
finish_node pi-a

# 3. a node goes silent with work in its stream: the work moves on, attempt 2
beat "pi-a 50 40 [\"gemma3:1b\"]" "pi-b 50 40 []" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
wait_for 5 router_sees pi-a true && wait_for 5 router_sees pi-b true
ok $? "the router sees both nodes cool again"
submit gemma3:1b x cb-fail >/dev/null
wait_for 5 on_node pi-a cb-fail
ok $? "request on pi-a"
kill $BEAT
beat "pi-b 50 40 []" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
wait_for 8 on_node pi-b cb-fail
ok $? "pi-a silent for 3 s: its request moved to pi-b"
is "$(rcli --raw XRANGE $Q:pi-b - + | awk 'prev=="attempt"{print;exit}{prev=$0}')" "2" "moved with attempt 2"
is "$(nodelen pi-a)" "0" "nothing left on the dead node's stream"
kill $BEAT
finish_node pi-b

# 3b. a full node is avoided; a request failed over 3 times goes to the dead-letter stream
beat "pi-a 50 95 [\"gemma3:1b\"]" "pi-b 50 40 []" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
wait_for 5 router_sees pi-a false && wait_for 5 router_sees pi-b true
ok $? "the router sees pi-a full"
submit gemma3:1b full cb-full >/dev/null
wait_for 5 on_node pi-b cb-full
ok $? "a node at 95 % RAM is avoided although it has the model"
finish_node pi-b
health pi-z 50 40 '[]' # seen once, then silent, with a request that already failed over twice
rcli XADD "$Q:pi-z" '*' model gemma3:1b prompt x callback cb-dead request_id dead-1 attempt 3 >/dev/null
dead() { [ "$(answers cb-dead)" -ge 1 ]; }
wait_for 10 dead
is "$(answer_field cb-dead code)" failed_over_too_often "after 3 attempts: answered failed_over_too_often"
rcli --raw XRANGE orion:inference:deadletter - + | grep -qx dead-1
ok $? "... and kept in the dead-letter stream"
is "$(nodelen pi-z)" 0 "... and gone from the dead node's stream"
kill $BEAT

# 4. router killed with waiting requests: all placed once after restart (two nodes of 16 slots,
# both holding the model, so that where each goes is no question of how long its run may take)
kill -9 "$ROUTER_PID"
for i in 1 2 3 4 5; do submit gemma3:1b "w$i" "cb-restart-$i" >/dev/null; done
start_router --stale-after 3
sleep 1
kill -9 "$ROUTER_PID"
beat "pi-a 50 40 [\"gemma3:1b\"] 16" "pi-b 50 40 [\"gemma3:1b\"] 16" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
start_router --stale-after 3
wait_for 8 total_ge 5
is "$(($(nodelen pi-a) + $(nodelen pi-b)))" 5 "after kill -9 and restart: 5 waiting requests placed, each once"

# 5. two routers at once: each request placed once
FIRST_ROUTER=$ROUTER_PID
start_router --stale-after 3 --router-id second
finish_node pi-a; finish_node pi-b
for i in $(seq 1 20); do submit gemma3:1b "t$i" "cb-two-$i" >/dev/null; done
wait_for 8 total_ge 20
sleep 1
is "$(($(nodelen pi-a) + $(nodelen pi-b)))" 20 "two routers: 20 requests, 20 placements"
is "$(rcli XLEN $Q)" 0 "request stream empty: every entry moved and deleted"
kill $BEAT

# 6. the spill rule learns the run time from the workers' done events on P:events
kill "$FIRST_ROUTER" "$ROUTER_PID"
drain_node pi-a; drain_node pi-b
rcli DEL $H >/dev/null
beat "pi-a 50 40 [\"gemma3:1b\",\"llama3.2:1b\"]" "pi-b 50 30 []" &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
RPORT=$(free_port)
start_router --stale-after 3 --http-listen 127.0.0.1:$RPORT
wait_for 5 router_sees pi-a true && wait_for 5 router_sees pi-b true
ok $? "spill rule: the router sees pi-a and pi-b eligible"
rcli XADD $Q:pi-a '*' model gemma3:1b prompt busy callback cb-busy >/dev/null # pi-a is busy
# another's request, known to the router only by the stream's length (read once a second):
# go on once its /backends shows pi-a busy
a_busy() { curl -sf "http://127.0.0.1:$RPORT/backends" | tr '{' '\n' | grep -q '"node":"pi-a",.*"inflight":1,'; }
wait_for 5 a_busy
ok $? "... and pi-a busy with one request in its stream"
submit gemma3:1b learn cb-learn-1 >/dev/null
wait_for 5 on_node pi-b cb-learn-1
ok $? "defaults: wait 15 s / 2 > cold load 5 s: spilled to pi-b"
finish_node pi-b # (it now holds gemma3:1b by the router's record; llama3.2:1b is on pi-a only)
# a done event of another node teaches llama3.2:1b's run time: 4 s
rcli XADD orion:inference:events '*' type done request_id x node_id pi-x model llama3.2:1b info '' \
    total_duration 4000000000 load_duration 1000000 >/dev/null
# the router learns from the event in the same pass that lists it among /stats' recent answers
learned() { curl -sf "http://127.0.0.1:$RPORT/stats" | grep -q '"recent":\[.*"request_id":"x","model":"llama3.2:1b"'; }
wait_for 5 learned
ok $? "... the router read the done event of a 4 s run"
submit llama3.2:1b learn cb-learn-2 >/dev/null
sleep 1.5
is "$(nodelen pi-a)$(nodelen pi-b)" 10 "a 4 s run learned: waiting ~2 s for pi-a beats a 5 s cold load on the free pi-b"
check "... so it is held for pi-a" held 1
finish_node pi-a
wait_for 5 on_node pi-a cb-learn-2
ok $? "... and goes there when pi-a's slot frees"
kill $BEAT

# 6b. a request that leaves a node's stream without any event (deleted by hand, or its done
# event lost): the stream's length shows it twice, the router reads the stream, counts it as
# ended, and the slot is given again (own prefix, one node of one slot)
P6B=orion:unheard
(while :; do
    rcli HSET $P6B:health pi-s "{\"node_id\":\"pi-s\",\"last_seen\":$(date +%s),\"ram_percent\":30,\"models\":[\"gemma3:1b\"],\"capacity\":1}" >/dev/null
    sleep 0.5
done) &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
start_router --stale-after 3 --prefix $P6B --router-id unheard
UNHEARD_LOG=$T_TMP/router-$T_N.log
sleep 1.5
rcli XADD $P6B:requests '*' model gemma3:1b prompt p callback cb-u1 >/dev/null
u_len() { [ "$(rcli XLEN "$P6B:requests:pi-s")" = "$1" ]; }
u_on() { rcli --raw XRANGE "$P6B:requests:pi-s" - + | grep -qx "$1"; }
wait_for 5 u_on cb-u1
ok $? "one request on the one slot"
rcli XADD $P6B:requests '*' model gemma3:1b prompt p callback cb-u2 >/dev/null
sleep 0.5
for id in $(rcli --raw XRANGE "$P6B:requests:pi-s" - + | grep -E '^[0-9]+-[0-9]+$'); do
    rcli XDEL "$P6B:requests:pi-s" "$id" >/dev/null
done
check "the second is held meanwhile" u_len 0
wait_for 8 u_on cb-u2
ok $? "the first left the stream without an event: counted as ended, the second takes the slot"
grep -q "left its stream unheard" "$UNHEARD_LOG"
ok $? "... and the router says so"
kill "$ROUTER_PID" $BEAT

# 7. many nodes (own prefix, own router): 150 fresh nodes of capacity 1 with the model loaded;
# 150 requests fill every one of them, one each (more than the old 64-node limit)
P6=orion:many
many_health() {
    now=$(date +%s)
    for i in $(seq 1 150); do
        echo "HSET $P6:health n$i '{\"node_id\":\"n$i\",\"last_seen\":$now,\"ram_percent\":30,\"ram_total_mb\":8000,\"models\":[\"gemma3:1b\"],\"available\":true,\"capacity\":1}'"
    done | rcli >/dev/null
}
(while :; do many_health; sleep 0.5; done) &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
RPORT=$(free_port)
start_router --stale-after 3 --prefix $P6 --router-id many --http-listen 127.0.0.1:$RPORT
sees_many() { [ "$(curl -sf "http://127.0.0.1:$RPORT/backends" | grep -o '"eligible":true' | wc -l)" = 150 ]; }
wait_for 10 sees_many
ok $? "the router sees the 150 nodes eligible"
for i in $(seq 1 150); do echo "XADD $P6:requests * model gemma3:1b prompt p callback cb-many-$i"; done | rcli >/dev/null
many_total() {
    t=0
    for i in $(seq 1 150); do t=$((t + $(rcli XLEN "$P6:requests:n$i"))); done
    [ "$t" -ge 150 ]
}
wait_for 15 many_total
ok $? "150 requests placed on the 150 nodes"
per_node=$(for i in $(seq 1 150); do rcli XLEN "$P6:requests:n$i"; done | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
is "$per_node" "150x1 " "every one of the 150 nodes got exactly one"
# stopped while its 150 nodes are still fresh: left running with them stale, it would be
# failing them over all through the next sections
kill "$ROUTER_PID"
wait_for 10 gone "$ROUTER_PID"
kill $BEAT

# 8. more held at once than the router's pool of held requests (32 slots of 2 KiB), and some
# too big for a slot: 40 small and 3 with a 3 000-byte prompt wait for a node, then every one
# is placed once and the big prompts arrive whole
P8=orion:held
big=$(head -c 3000 /dev/zero | tr '\0' x)
start_router --stale-after 3 --prefix $P8 --router-id held
{
    for i in $(seq 1 40); do echo "XADD $P8:requests * model gemma3:1b prompt p$i callback cb-held-$i"; done
    for i in 1 2 3; do echo "XADD $P8:requests * model gemma3:1b prompt big$i$big callback cb-heldbig-$i"; done
} | rcli >/dev/null
held_all() { [ "$(rcli XLEN $P8:requests)" = 43 ] && [ "$(rcli XPENDING $P8:requests inference-router | head -1)" = 43 ]; }
wait_for 5 held_all
ok $? "43 requests held while no node is fresh (all pending in the router's group)"
(while :; do
    rcli HSET $P8:health pi-h "{\"node_id\":\"pi-h\",\"last_seen\":$(date +%s),\"ram_percent\":30,\"ram_total_mb\":8000,\"models\":[\"gemma3:1b\"],\"available\":true,\"capacity\":64}" >/dev/null
    sleep 0.5
done) &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
held_placed() { [ "$(rcli XLEN $P8:requests:pi-h)" -ge 43 ]; }
wait_for 10 held_placed
sleep 1
is "$(rcli XLEN $P8:requests:pi-h)" 43 "a node came: all 43 placed, each once"
is "$(rcli --raw XRANGE $P8:requests:pi-h - + | grep -c '^cb-held')" 43 "every callback among them"
is "$(rcli --raw XRANGE $P8:requests:pi-h - + | grep -c "^big[123]$big\$")" 3 "the three 3 000-byte prompts arrived whole"
kill $BEAT

# 9. an HTTP client that goes away while its request is held (in a pool slot): the router
# drops it, answers canceled (the entry acknowledged), and stays up
P9=orion:gone
GPORT=$(free_port)
start_router --stale-after 3 --prefix $P9 --router-id gone --http-listen 127.0.0.1:$GPORT
GONE=$ROUTER_PID
wait_for 5 curl -sf "http://127.0.0.1:$GPORT/api/version"
curl -s -m 1 -d '{"model":"gemma3:1b","prompt":"hi","stream":false}' \
    "http://127.0.0.1:$GPORT/api/generate" >/dev/null 2>&1
none_pending() { [ "$(rcli XPENDING $P9:requests inference-router | head -1)" = 0 ]; }
wait_for 5 none_pending
ok $? "the client left after 1 s: its held request was dropped and acknowledged"
kill -0 "$GONE"
ok $? "... and the router is still up"
curl -s -m 1 -d '{"model":"gemma3:1b","prompt":"again","stream":false}' \
    "http://127.0.0.1:$GPORT/api/generate" >/dev/null 2>&1
wait_for 5 none_pending && kill -0 "$GONE"
ok $? "a second one the same way (the pool slot was given back, not freed)"
# 10. --queue-strategy fifo and --default-priority (docs/SERVICE.md "Admission"): two requests
# held while no node is fresh, then one node comes; the order they are placed in
order_case() { # order_case <prefix> <router flags>; the requests follow on stdin as XADD lines
    o_p=$1
    shift
    start_router --stale-after 3 --prefix "$o_p" --router-id order "$@"
    rcli >/dev/null
    held2() { [ "$(rcli XPENDING "$o_p:requests" inference-router | head -1)" = 2 ]; }
    wait_for 5 held2
    (while :; do
        rcli HSET "$o_p:health" pi-o "{\"node_id\":\"pi-o\",\"last_seen\":$(date +%s),\"ram_percent\":30,\"ram_total_mb\":8000,\"models\":[\"gemma3:1b\"],\"available\":true,\"capacity\":64}" >/dev/null
        sleep 0.5
    done) &
    o_beat=$!
    T_PIDS="$T_PIDS $o_beat"
    placed2() { [ "$(rcli XLEN "$o_p:requests:pi-o")" = 2 ]; }
    wait_for 10 placed2
    kill "$o_beat" "$ROUTER_PID"
    rcli --raw XRANGE "$o_p:requests:pi-o" - + | grep -E '^cb-o' | tr '\n' ' '
}
got=$(printf 'XADD orion:fifo:requests * model gemma3:1b prompt a callback cb-o1 priority 1\nXADD orion:fifo:requests * model gemma3:1b prompt b callback cb-o2 priority 3\n' |
    order_case orion:fifo --queue-strategy fifo)
is "$got" "cb-o1 cb-o2 " "--queue-strategy fifo: arrival order, priority 3 does not overtake"
got=$(printf 'XADD orion:defp:requests * model gemma3:1b prompt a callback cb-o1\nXADD orion:defp:requests * model gemma3:1b prompt b callback cb-o2 priority 2\n' |
    order_case orion:defp --default-priority 1)
is "$got" "cb-o2 cb-o1 " "--default-priority 1: a request without priority goes after a later priority 2"
done_testing
