#!/bin/sh
# The router's HTTP front with real clients: the official npm packages `ollama` and `openai`
# (pinned in test/node/package.json and package-lock.json, installed here with `npm ci` into
# test/node/node_modules) against a whole cluster on loopback: redis-server, two ollama-sims,
# two workers, the router: chat, generate, completions, embeddings, version, pull, copy, delete,
# and OpenAI's Responses API whole and streamed. test/node/clients.mjs prints TAP, taken over line by line. Then
# curl: /v1/models/{id}/load follows the routing rules (a hot node is avoided), is cold once,
# warm after; an unload reaches every node that has the model loaded. Without node and npm the script says so and skips.
. "$(dirname "$0")/lib.sh"
NODE_DIR=$ORION_TOP/test/node
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "t_clients: node/npm not found: the npm client tests do not run (Debian: apt-get install nodejs npm)" >&2
    skip "node and npm not found: install nodejs and npm to run the npm client tests"
    done_testing
    exit 0
fi
if [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] ||
    [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$NODE_DIR" --no-audit --no-fund >"$T_TMP/npm.log" 2>&1
    st=$?
    ok $st "npm ci installs the pinned ollama and openai packages into test/node"
    [ $st -eq 0 ] || { sed 's/^/# /' "$T_TMP/npm.log" | tail -20; done_testing; exit 1; }
fi

start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
# gemma3:1b is given the insert capability: the suffix test needs it, as Ollama checks it
for s in a b; do
    start_sim "$s" --models 'gemma3:1b+caps=completion/insert,qwen2.5:0.5b,nomic-embed-text' --load-ms 700 \
        --tokens-per-s 200 --pull-mbps 1000 ||
        ok 1 "ollama-sim $s starts"
done
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
bg router $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 5 \
    --debate-reconcile-model gemma3:1b --ensemble-synthesis-model gemma3:1b
both_eligible() { curl -s "$URL/health" | grep -o '"eligible":true' | grep -c . | grep -qx 2; }
wait_for 10 both_eligible
ok $? "two workers report health, both eligible through the router"

# the npm clients
ORION_URL=$URL node "$NODE_DIR/clients.mjs" >"$T_TMP/clients.tap" 2>"$T_TMP/clients.err"
st=$?
results=0
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok 0 "${line#ok * - }"; results=$((results + 1)) ;;
    "not ok "*) ok 1 "${line#not ok * - }"; results=$((results + 1)) ;;
    "#"*) echo "$line" ;;
    esac
done <"$T_TMP/clients.tap"
plan=$(grep -E '^1\.\.[0-9]+$' "$T_TMP/clients.tap" | cut -c4-)
[ -n "$plan" ] && [ "$plan" = "$results" ] && [ "$results" -gt 0 ]
ok $? "clients.mjs ran to its end ($results of ${plan:-?} results)"
[ -s "$T_TMP/clients.err" ] && sed 's/^/# stderr: /' "$T_TMP/clients.err" | head -20
[ $st -eq 0 ] || [ "$(grep -c '^not ok' "$T_TMP/clients.tap")" -gt 0 ]
ok $? "... its exit status agrees with its results"

# load goes through the routing rules: with pi-a hot it lands on pi-b, cold the first time
curl -sf -X POST -d '{"c":82}' "$SIM_URL_a/sim/temp" >/dev/null
a_hot() { curl -s "$URL/health" | grep -q '"node":"pi-a","eligible":false,"reason":"hot'; }
wait_for 10 a_hot
ok $? "pi-a at 82 C is not eligible"
curl -s -D "$T_TMP/h1" -o "$T_TMP/b1" -X POST "$URL/v1/models/qwen2.5:0.5b/load"
check "load of a model loaded nowhere: 200 from pi-b (pi-a is hot), cold start" sh -c "grep -q ' 200' $T_TMP/h1 && grep -qi '^x-orion-cold-start: true' $T_TMP/h1 && grep -q '\"action\":\"load\",\"nodes\":\\[\"pi-b\"\\],\"cold_start\":true,\"done_reason\":\"load\"' $T_TMP/b1"
qnode=$(sed -n 's/.*"nodes":\["\([^"]*\)"\].*/\1/p' "$T_TMP/b1")
curl -sf -X POST -d '{"c":50}' "$SIM_URL_a/sim/temp" >/dev/null
wait_for 10 both_eligible
ok $? "pi-a cooled down: eligible again"
loaded_q() { rcli HGET orion:inference:health "$qnode" | grep -q '"models":\[[^]]*qwen2.5:0.5b'; }
wait_for 5 loaded_q
ok $? "... the node it chose ($qnode) reports it loaded"
curl -s -D "$T_TMP/h2" -o "$T_TMP/b2" "$URL/api/generate" -d '{"model":"qwen2.5:0.5b","prompt":"hi","stream":false}'
check "the next request runs there warm: X-Orion-Node $qnode, X-Orion-Cold-Start: false" sh -c "grep -qi '^x-orion-node: $qnode' $T_TMP/h2 && grep -qi '^x-orion-cold-start: false' $T_TMP/h2 && grep -q '\"cold_start\":false}' $T_TMP/b2"

# unload: gemma3:1b loaded on both nodes (asked of each simulator directly)
for s in "$SIM_URL_a" "$SIM_URL_b"; do
    curl -s "$s/api/generate" -d '{"model":"gemma3:1b","prompt":"","keep_alive":"10m"}' >/dev/null
done
loaded_g() { for nd in pi-a pi-b; do rcli HGET orion:inference:health $nd | grep -q '"models":\[[^]]*gemma3:1b' || return 1; done; }
wait_for 5 loaded_g
ok $? "gemma3:1b is loaded on pi-a and pi-b"
sleep 1.2 # the router's health refresh
out=$(curl -s -w ' %{http_code}' -X POST "$URL/v1/models/gemma3:1b/unload")
case "$out" in
*'"nodes":["pi-a","pi-b"]'*' 200' | *'"nodes":["pi-b","pi-a"]'*' 200') ok 0 "unload: answered for both nodes" ;;
*) ok 1 "unload: answered for both nodes"; echo "#   got '$out'" ;;
esac
gone_g() { for nd in pi-a pi-b; do ! rcli HGET orion:inference:health $nd | grep -q '"models":\[[^]]*gemma3:1b' || return 1; done; }
wait_for 5 gone_g
ok $? "... and it is gone from both (their health models)"
for s in "$SIM_URL_a" "$SIM_URL_b"; do curl -s "$s/api/ps"; done | grep -q gemma3
ok $((!$?)) "... and from both simulators' /api/ps"
is "$(rcli XLEN orion:inference:requests)" 0 "request stream drained"
done_testing
