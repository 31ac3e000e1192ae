#!/bin/sh
# Workers' nodes and URL backends in one cluster (issue 19): one worker beside its ollama-sim
# and ollama-sims the router runs by URL. First the npm clients (ollama, openai) against worker
# pi-a and URL backend pi-b, when node is installed; then two URL backends and the worker under
# round-robin (the seed's spelling round_robin), least-conn (least_conn) and sticky.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
for s in w x y; do
    start_sim "$s" --models 'gemma3:1b+caps=completion/insert,qwen2.5:0.5b,mistral:7b,phi3:14b,qwen2.5:7b,nomic-embed-text' \
        --load-ms 1500 --tokens-per-s 100 || ok 1 "ollama-sim $s starts"
done
start_worker pi-a "$SIM_URL_w" "$SIM_ROOT_w"
# pi-a's temperature pinned at 50 C: a simulator heats some 4 C a second while busy (a Pi takes
# minutes), so the heat trend (route_cond_heat) would steer the next request off the worker's
# node after each run, while the URL backends have no sensor: stickiness would not be what the
# sticky steps test
curl -sf -X POST -d '{"c":50}' "$SIM_URL_w/sim/temp" >/dev/null
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
answered() { [ "$(answers "$1")" -ge 1 ]; }
eligible_n() { curl -s "$URL/health" | grep -o '"eligible":true' | grep -c . | grep -qx "$1"; }
router_down() {
    kill "$ROUTER_PID"
    wait_for 10 gone "$ROUTER_PID"
}
nodes_of() { # nodes_of <prefix> <n>: the node of each answer, sorted, one a line
    for i in $(seq 1 "$2"); do answer_field "$1$i" node_id; done | sort
}

# the npm clients, on a fresh cluster of two nodes (they check their answers come from pi-a or
# pi-b): worker pi-a and URL backend pi-b
start_router --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 5 --backend-interval 1 \
    --backends "pi-b=$SIM_URL_x"
wait_for 15 eligible_n 2
ok $? "worker pi-a and URL backend pi-b are eligible"
NODE_DIR=$ORION_TOP/test/node
if command -v node >/dev/null 2>&1 && [ -d "$NODE_DIR/node_modules/ollama" ] &&
    [ -d "$NODE_DIR/node_modules/openai" ]; then
    ORION_URL=$URL node "$NODE_DIR/clients.mjs" >"$T_TMP/clients.tap" 2>"$T_TMP/clients.err"
    results=0
    while IFS= read -r line; do
        case "$line" in
        "ok "*) ok 0 "mixed cluster: ${line#ok * - }"; results=$((results + 1)) ;;
        "not ok "*) ok 1 "mixed cluster: ${line#not ok * - }"; results=$((results + 1)) ;;
        esac
    done <"$T_TMP/clients.tap"
    plan=$(grep -E '^1\.\.[0-9]+$' "$T_TMP/clients.tap" | cut -c4-)
    [ -n "$plan" ] && [ "$plan" = "$results" ] && [ "$results" -gt 0 ]
    ok $? "clients.mjs ran to its end ($results of ${plan:-?} results)"
    [ -s "$T_TMP/clients.err" ] && sed 's/^/# stderr: /' "$T_TMP/clients.err" | head -20
else
    skip "node or test/node/node_modules missing (t_clients.sh installs them): npm clients not run"
fi
router_down

router_up() { # router_up <policy>: a router running pi-b and bx, all three nodes eligible
    start_router --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 5 --backend-interval 1 \
        --policy "$1" --backends "pi-b=$SIM_URL_x,bx=$SIM_URL_y"
    wait_for 15 eligible_n 3
}

router_up round_robin
ok $? "policy round_robin: the worker's node and two URL backends are eligible"
for i in 1 2 3 4 5 6; do
    submit qwen2.5:0.5b "rr $i" "rr$i" >/dev/null
    wait_for 20 answered "rr$i"
done
got=$(nodes_of rr 6 | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
is "$got" "bx:2 pi-a:2 pi-b:2 " "round-robin: six requests, two on each node of both kinds"
router_down

router_up least_conn
ok $? "policy least_conn: all three eligible"
for i in 1 2 3; do # mistral:7b is loaded nowhere yet: each takes a 1.5 s cold load at least
    submit mistral:7b "$(printf 'long %.0s' $(seq 1 30))" "lc$i" >/dev/null
done
all3() { for i in 1 2 3; do answered "lc$i" || return 1; done; }
wait_for 60 all3
ok $? "least-conn: three requests at once answered"
is "$(nodes_of lc 3 | tr '\n' ' ')" "bx pi-a pi-b " "least-conn: one on each node, worker and backends alike"
router_down

router_up sticky
ok $? "policy sticky: all three eligible"
# models not asked for yet: qwen2.5:7b made warm on URL backend pi-b, phi3:14b on the
# worker's node pi-a (pinned once each); then sticky keeps each where it is warm
submit qwen2.5:7b "warm" st-a node pi-b >/dev/null
submit phi3:14b "warm" st-b node pi-a >/dev/null
wait_for 20 answered st-a && wait_for 20 answered st-b
loaded_on() { health_json "$1" | grep -q "\"models\":\\[[^]]*\"$2\""; }
wait_for 10 loaded_on pi-b qwen2.5:7b && wait_for 10 loaded_on pi-a phi3:14b
ok $? "health shows qwen2.5:7b loaded on pi-b and phi3:14b on pi-a"
for i in 1 2; do
    submit qwen2.5:7b "again $i" "sg$i" >/dev/null
    wait_for 20 answered "sg$i"
    submit phi3:14b "again $i" "sq$i" >/dev/null
    wait_for 20 answered "sq$i"
done
is "$(nodes_of sg 2 | tr '\n' ' ')" "pi-b pi-b " "sticky: qwen2.5:7b follows its warm URL backend"
is "$(nodes_of sq 2 | tr '\n' ' ')" "pi-a pi-a " "sticky: phi3:14b follows its warm worker node"
done_testing
