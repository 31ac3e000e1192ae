#!/bin/sh
# A whole cluster on loopback: redis-server, three ollama-sims each with its own simulated
# /proc and /sys, three workers reading them, one router. Sticky placement, a hot node avoided
# and taken back after cooling, a worker killed with work in its stream (failed over, every
# request answered exactly once), and the worker coming back.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
for n in a b c; do
    start_sim "$n" --models gemma3:1b,llama3.2:1b,qwen2.5:0.5b --load-ms 500 --tokens-per-s 40 \
        --temp-idle 50 --temp-busy 50 || ok 1 "ollama-sim $n starts"
done
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
WA=$BG_PID
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
start_worker pi-c "$SIM_URL_c" "$SIM_ROOT_c"
start_router --stale-after 3
three_up() { [ "$(rcli HLEN orion:inference:health)" = 3 ]; }
wait_for 10 three_up
ok $? "three workers report health"
# every node at 50 C from its first reading, busy or not: a simulator heats some 4 C a second
# while busy (a Pi takes minutes), and a pin from 45 to 50 C after the first readings is a rise
# of 5 C a second; either way the heat trend (route_cond_heat) would steer the next request
# off a node, and stickiness would not be what the first steps test
answered() { [ "$(answers "$1")" -ge 1 ]; }
ask() { # ask <model> <callback> [fields]: submit and wait for the answer; prints the node
    a_model=$1 a_cb=$2
    shift 2
    submit "$a_model" "question for $a_cb" "$a_cb" "$@" >/dev/null
    wait_for 30 answered "$a_cb"
    answer_field "$a_cb" node_id
}
n1=$(ask gemma3:1b s1)
load1=$(answer_field s1 load_duration)
n2=$(ask gemma3:1b s2)
load2=$(answer_field s2 load_duration)
n3=$(ask gemma3:1b s3)
test -n "$n1" && [ "$n1" = "$n2" ] && [ "$n2" = "$n3" ]
ok $? "sticky: three requests for gemma3:1b ran on the same node ($n1 $n2 $n3)"
test "$load1" -ge 400000000 && test "$load2" -lt 100000000
ok $? "the first paid the cold load ($load1 ns), the next did not ($load2 ns)"

# the answer before the event, forced: the router is stopped while e1 runs, so e1's answer
# and done event and the next request e2 all wait for it at once. It must count the slot free
# before it places e2 (it places new requests only after the pass that read them, events
# included), so e2 runs on the warm node and pays no load
moved() { rcli --raw XRANGE orion:inference:events - + | grep -qx "$1"; } # its routed event
submit gemma3:1b "question for e1" e1 request_id ev-e1 >/dev/null
wait_for 30 moved ev-e1
kill -STOP "$ROUTER_PID"
wait_for 30 answered e1
submit gemma3:1b "question for e2" e2 request_id ev-e2 >/dev/null
sleep 0.3
kill -CONT "$ROUTER_PID"
wait_for 30 answered e2
n5=$(answer_field e2 node_id)
load5=$(answer_field e2 load_duration)
test "$(answer_field e1 node_id)" = "$n1" && test "$n5" = "$n1" && test "${load5:-1000000000}" -lt 100000000
ok $? "answer and event read with the next request: it still runs on the warm $n1 (ran on $n5, load $load5 ns)"

# make that node hot through its simulator: the next request avoids it
eval "hot_url=\$SIM_URL_$(echo "$n1" | sed 's/pi-//')"
curl -sf -X POST -d '{"c":82}' "$hot_url/sim/temp" >/dev/null
sleep 3
n4=$(ask gemma3:1b s4)
test -n "$n4" && [ "$n4" != "$n1" ]
ok $? "hot node ($n1 at 82 C) avoided: ran on $n4"
CTL="$ORION_WRAP $ORION_BIN/orionctl --redis-addr $REDIS_ADDR"
others=$(printf 'pi-a\npi-b\npi-c\n' | grep -vx "$n1")
for o in $others; do $CTL drain "$o" >/dev/null; done
curl -sf -X POST -d '{"c":74}' "$hot_url/sim/temp" >/dev/null
sleep 2
submit gemma3:1b "cooling" s5 timeout_ms 30000 >/dev/null
sleep 2.5
is "$(answers s5)" 0 "at 74 C $n1 is still out (hysteresis: back at 72), the others drained: s5 waits"
curl -sf -X POST -d '{"c":60}' "$hot_url/sim/temp" >/dev/null
wait_for 15 answered s5
is "$(answer_field s5 node_id)" "$n1" "cooled to 60 C: taken back, the waiting request runs there"
for o in $others; do $CTL undrain "$o" >/dev/null; done

# kill -9 the worker of a node with work queued: the work moves on, answered exactly once
kill -STOP "$WA" # silent, with entries in its stream
for i in 1 2 3 4; do submit qwen2.5:0.5b "f$i" "cb-f$i" >/dev/null; done
sleep 1
# the requests that landed on pi-a while it is frozen must move; give staleness 3 s + margin
all() { for i in 1 2 3 4; do answered "cb-f$i" || return 1; done; }
wait_for 30 all
ok $? "all four requests answered although pi-a froze"
kill -CONT "$WA"
sleep 3
total=0
for i in 1 2 3 4; do total=$((total + $(answers "cb-f$i"))); done
is "$total" 4 "each answered exactly once, also after pi-a came back"
for i in 1 2 3 4; do [ "$(answer_field "cb-f$i" node_id)" != pi-a ] || [ "$(answer_field "cb-f$i" status)" = ok ]; done
ok $? "answers are results, not errors"
is "$(rcli XLEN orion:inference:requests)" 0 "request stream drained"
done_testing
