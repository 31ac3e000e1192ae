#!/bin/sh
# The inference-service contract (docs/SERVICE.md) end to end on a loopback cluster: two
# ollama-sims, two workers, a router with its HTTP front. Roles and task types, gateway
# prefixes, an active preset loaded across both nodes and changed at run time, the models'
# metadata, the context guard, admission (queue_full, --max-per-model) and the error schema,
# each over HTTP and over the Redis request stream.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
# pi-a has the coder and a small-context model, pi-b the thinker and llama; both have gemma
VIS=moondream:1.8b+caps=completion/vision # on both nodes: the vision endpoints
# smollm2:135m loads slowly (8 s): the user's preset MY-PI has it, for model_loading
start_sim a --models "gemma3:1b,qwen2.5-coder:1.5b,tinyctx:1b+ctx=512,smollm2:135m,$VIS" \
    --load-ms smollm2:135m=8000,300 \
    --tokens-per-s 25 || ok 1 "ollama-sim a starts"
# codegemma:2b, a second coder on pi-b, is never loaded first: the resident coder wins
start_sim b --models "gemma3:1b,deepseek-r1:1.5b,llama3.2:1b,codegemma:2b,$VIS" --load-ms 300 \
    --tokens-per-s 25 || ok 1 "ollama-sim b starts"
# pi-c's Ollama refuses every load (OLLAMA_MAX_QUEUE 0: 503): its busy:1b gets ollama_busy
start_sim c --models "busy:1b" --max-queue 0 || ok 1 "ollama-sim c starts"
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
start_worker pi-c "$SIM_URL_c" "$SIM_ROOT_c"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
TOKEN=svc-token
# a user's presets file: adds MY-PI to the built-in ones
echo '{"presets": {"MY-PI": {"models": ["llama3.2:1b", "tinyctx:1b", "smollm2:135m"], "mode": "debate",
  "roles": {"tinyctx:1b": ["thinker"]}}}}' >"$T_TMP/presets.json"
# settings through the environment: the seed's names (INFERENCE_CONFIG picks the preset,
# INFERENCE_MODEL_ROLES the roles, INFERENCE_MAX_CONCURRENT_PER_MODEL) and ORION_* ones
INFERENCE_CONFIG=PI-D3 INFERENCE_MODEL_ROLES='{"llama3.2:1b":["longctx"]}' \
    INFERENCE_MAX_CONCURRENT_PER_MODEL=1 ORION_MAX_WAITING=2 ORION_PRESETS="$T_TMP/presets.json" \
    start_router --stale-after 10 --http-listen "127.0.0.1:$HTTP_PORT" --http-token "$TOKEN" \
    --max-concurrent 6
A="Authorization: Bearer $TOKEN"
three_up() { [ "$(rcli HLEN orion:inference:health)" = 3 ]; }
wait_for 10 three_up
ok $? "three workers report health"
wait_for 10 curl -sf -H "$A" "$URL/api/version"
ok $? "the router serves HTTP"

# --- the active preset (PI-D3: deepseek-r1:1.5b + qwen2.5-coder:1.5b) --------------------
ready() { curl -sf -H "$A" "$URL/health/ready" >"$T_TMP/ready"; }
wait_for 30 ready
ok $? "/health/ready: 200 once the preset's models are loaded"
check "... names the preset, its models and its mode" grep -q \
    '"status":"ready",.*"config":"PI-D3","orchestration_mode":"critique","loaded_models":\["deepseek-r1:1.5b","qwen2.5-coder:1.5b"\]' "$T_TMP/ready"
check "... each model loaded on the node that has it (pi-a: the coder)" sh -c \
    "curl -s $SIM_URL_a/api/ps | grep -q '\"name\":\"qwen2.5-coder:1.5b\"'"
check "... (pi-b: the thinker)" sh -c "curl -s $SIM_URL_b/api/ps | grep -q '\"name\":\"deepseek-r1:1.5b\"'"
curl -s -H "$A" "$URL/health" >"$T_TMP/health"
check "/health: status ok, today's fields kept" grep -q '^{"status":"ok","ok":true,"backends":\[' "$T_TMP/health"

# --- models, with what they are ---------------------------------------------------------
curl -s -H "$A" "$URL/v1/models" >"$T_TMP/models"
check "/v1/models: config and orchestration_mode at the top" grep -q '"config":"PI-D3","orchestration_mode":"critique"' "$T_TMP/models"
tr '{' '\n' <"$T_TMP/models" | grep '"id":"qwen2.5-coder:1.5b"' >"$T_TMP/coder"
check "... the coder: loaded, memory_mb, context_length, roles" grep -q \
    '"status":"loaded","memory_mb":[1-9][0-9]*,"context_length":[1-9][0-9]*,"roles":\["primary","coder"\]' "$T_TMP/coder"
tr '{' '\n' <"$T_TMP/models" | grep '"id":"tinyctx:1b"' >"$T_TMP/tiny"
check "... a model installed, not loaded: available, its context 512" grep -q \
    '"status":"available",.*"context_length":512' "$T_TMP/tiny"
check "/api/tags: real sizes, not 0" sh -c "curl -s -H '$A' $URL/api/tags | grep -o '\"size\":[0-9]*' | grep -qv '\"size\":0$'"
check "... and none is 0" sh -c "! curl -s -H '$A' $URL/api/tags | grep -q '\"size\":0,'"

# --- roles and task types over HTTP ------------------------------------------------------
chat() { # chat <body> <out>: POST /v1/chat/completions, body and status in out
    curl -s -H "$A" -D "$2.h" -w ' %{http_code}' "$URL/v1/chat/completions" -d "$1" | tr -d '\n' >"$2"
}
MSG='"messages":[{"role":"user","content":"hello"}],"max_tokens":4'
chat "{\"model\":\"coder\",$MSG}" "$T_TMP/r1"
check "model \"coder\": the resident coder of the preset (qwen2.5-coder), not the cold codegemma:2b that sorts first; named in the answer" grep -q '"model":"qwen2.5-coder:1.5b".* 200$' "$T_TMP/r1"
chat "{\"model\":\"auto\",\"task_type\":\"analyze\",$MSG}" "$T_TMP/r2"
check "auto + task_type analyze: the thinker (deepseek-r1)" grep -q '"model":"deepseek-r1:1.5b".* 200$' "$T_TMP/r2"
chat "{\"model\":\"auto\",\"task_type\":\"document\",$MSG}" "$T_TMP/r3"
check "auto + task_type document: longctx first (llama3.2:1b by INFERENCE_MODEL_ROLES)" grep -q '"model":"llama3.2:1b".* 200$' "$T_TMP/r3"
chat "{\"model\":\"gemma3:1b\",\"task_type\":\"code\",$MSG}" "$T_TMP/r4"
check "a concrete model with task_type code: not rerouted" grep -q '"model":"gemma3:1b".* 200$' "$T_TMP/r4"
chat "{\"model\":\"inference:gemma3:1b\",$MSG}" "$T_TMP/r5"
check "the prefix inference: is dropped" grep -q '"model":"gemma3:1b".* 200$' "$T_TMP/r5"
chat "{\"model\":\"local:coder\",$MSG}" "$T_TMP/r6"
check "... and local: (before a role)" grep -q '"model":"qwen2.5-coder:1.5b".* 200$' "$T_TMP/r6"

# --- roles and task types over Redis -----------------------------------------------------
answered() { [ "$(answers "$1")" -ge 1 ]; }
rcli XADD orion:inference:requests '*' prompt hello task_type code callback cb-auto >/dev/null
wait_for 20 answered cb-auto
ok $? "a Redis entry without model is answered"
is "$(answer_field cb-auto model)/$(answer_field cb-auto role)" "qwen2.5-coder:1.5b/coder" \
    "... auto: task_type code picked the coder, the callback names model and role"
submit thinker hello cb-role >/dev/null
wait_for 20 answered cb-role
is "$(answer_field cb-role model)" "deepseek-r1:1.5b" "a Redis entry with model \"thinker\": the thinker"
submit local:gemma3:1b hello cb-pfx task_type code >/dev/null
wait_for 20 answered cb-pfx
is "$(answer_field cb-pfx model)" "gemma3:1b" "... local:gemma3:1b with task_type code: gemma3:1b"
check "... the task_type recorded on its routed event" sh -c \
    "redis-cli -p $REDIS_PORT --raw XRANGE orion:inference:events - + | grep -A1 -x task_type | grep -qx code"
learnable() { # a done event with the router's estimate beside Ollama's count (in any order)
    rcli --raw XRANGE orion:inference:events - + | awk 'prev == "type" { if (e && c) ok = 1; e = c = 0 }
        prev == "prompt_est" && $0 > 0 { e = 1 } prev == "prompt_eval_count" && $0 > 0 { c = 1 }
        { prev = $0 } END { if (e && c) ok = 1; exit !ok }'
}
check "the done events carry prompt_est beside prompt_eval_count (the context guard learns from them)" learnable

# --- Ollama busy (503) on pi-c, over Redis and HTTP -----------------------------------------
submit busy:1b hi cb-busy >/dev/null
wait_for 20 answered cb-busy
is "$(answer_field cb-busy code)/$(answer_field cb-busy retriable)" "ollama_busy/true" \
    "Ollama's 503 over Redis: ollama_busy, retriable"
curl -s -D "$T_TMP/b.h" -w ' %{http_code}' -H "$A" "$URL/api/generate" \
    -d '{"model":"busy:1b","prompt":"hi","stream":false}' | tr -d '\n' >"$T_TMP/b"
check "... over HTTP: 503 MODEL_BUSY, retriable, with Retry-After" sh -c \
    "grep -q '\"code\":\"MODEL_BUSY\",\"type\":\"retriable\".* 503\$' $T_TMP/b && grep -qi '^retry-after: [1-9]' $T_TMP/b.h"

# --- the context guard -------------------------------------------------------------------
chat '{"model":"tinyctx:1b","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}' "$T_TMP/c1"
check "prompt + max_tokens over the window: 400 CONTEXT_BUDGET_EXCEEDED" grep -q \
    '"code":"CONTEXT_BUDGET_EXCEEDED","provider":"orion-inference","details":{"current_tokens":[0-9]*,"budget":[0-9]*,"model":"tinyctx:1b".* 400$' "$T_TMP/c1"
check "... non_retriable" grep -q '"type":"non_retriable"' "$T_TMP/c1"
check "... before any node spent time on it (not on pi-a's Ollama)" sh -c \
    "! grep -q tinyctx $T_TMP/sim-a.log"
big=$(awk 'BEGIN { for (i = 0; i < 900; i++) printf "word%d ", i }')
submit tinyctx:1b "$big" cb-ctx >/dev/null
wait_for 20 answered cb-ctx
is "$(answer_field cb-ctx code)/$(answer_field cb-ctx retriable)" "context_budget_exceeded/false" \
    "over Redis: a 900-word prompt for a 512 window: context_budget_exceeded, not retriable"
field_has() { answer_field "$1" "$2" | grep -q "$3"; } # field_has <callback> <field> <re>
check "... details name the model and the budget" field_has cb-ctx details '"budget":512,"model":"tinyctx:1b"'

submit tinyctx:1b "short" cb-fit options '{"num_predict":8}' >/dev/null
wait_for 20 answered cb-fit
is "$(answer_field cb-fit status)" ok "... a short one fits and is answered"

# --- admission: --max-per-model 1, --max-waiting 2 -----------------------------------------
# one long request holds gemma3:1b's only slot; two more wait; the fourth is refused
started() { # started events so far
    rcli --raw XRANGE orion:inference:events - + | awk 'prev == "type" && $0 == "started" { n++ } { prev = $0 } END { print n + 0 }'
}
more_started() { [ "$(started)" -gt "$s0" ]; }
s0=$(started)
long=$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "w%d ", i }')
curl -s -m 60 -H "$A" "$URL/api/generate" \
    -d "{\"model\":\"gemma3:1b\",\"prompt\":\"[[sim:reply=$long]]\",\"stream\":false}" >/dev/null &
SLOW=$!
wait_for 20 more_started
ok $? "a long request for gemma3:1b runs"
submit gemma3:1b w1 cb-w1 >/dev/null            # the default priority (2)
submit gemma3:1b w2 cb-w2 priority 3 >/dev/null # high: overtakes w1
waiting2() { curl -s -H "$A" "$URL/metrics" | grep -q '^orion_queue_depth 2'; }
wait_for 10 waiting2
ok $? "--max-per-model 1: with gemma3:1b busy, two more wait"
submit gemma3:1b w3 cb-w3 >/dev/null
wait_for 10 answered cb-w3
is "$(answer_field cb-w3 code)/$(answer_field cb-w3 retriable)" "queue_full/true" \
    "--max-waiting 2: a third waiting request over Redis gets queue_full, retriable"
check "... with retry_after_ms" field_has cb-w3 retry_after_ms '^[1-9][0-9]*$'
chat '{"model":"gemma3:1b","messages":[{"role":"user","content":"q"}]}' "$T_TMP/q"
check "over HTTP: 429 QUEUE_FULL, retriable, retry_after_ms" grep -q \
    '"type":"retriable".*"code":"QUEUE_FULL".*"retry_after_ms":[1-9][0-9]*}} 429$' "$T_TMP/q"
check "... and Retry-After" grep -qi '^retry-after: [1-9]' "$T_TMP/q.h"
kill $SLOW 2>/dev/null
wait_for 60 answered cb-w1 && wait_for 60 answered cb-w2
ok $? "the waiting ones are answered once the slot frees (nothing dropped)"
first_id() { rcli --raw XRANGE "$1" - + | head -1; }
check "... priority 3 before the default priority 2 that came first" \
    test "$(first_id cb-w2 | tr -d -)" -lt "$(first_id cb-w1 | tr -d -)"

# --- changing presets at run time -------------------------------------------------------
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/config" -d '{"config":"PI-S1"}')" 401 \
    "POST /v1/config without the token: 401"
out=$(curl -s -w ' %{http_code}' -H "$A" -X POST "$URL/v1/config" -d '{"config":"NOPE"}' | tr -d '\n')
check "... an unknown preset: 404 CONFIG_NOT_FOUND" sh -c "echo '$out' | grep -q 'CONFIG_NOT_FOUND.* 404$'"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST "$URL/v1/config" -d '{"config":"PI-S1"}')" 200 \
    "POST /v1/config {\"config\":\"PI-S1\"} with the token: 200"
check "GET /v1/config: PI-S1 now, mode single" sh -c "curl -s -H '$A' $URL/v1/config | grep -q '\"config\":\"PI-S1\".*\"single\"'"
ready_s1() { curl -sf -H "$A" "$URL/health/ready" | grep -q '"config":"PI-S1",.*"loaded_models":\["gemma3:1b"\]'; }
wait_for 30 ready_s1
ok $? "/health/ready: the new preset's model loaded"

# --- a preset of the user's presets file ------------------------------------------------
is "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST "$URL/v1/config" -d '{"config":"MY-PI"}')" 200 \
    "POST /v1/config: MY-PI from ORION_PRESETS"
# while smollm2:135m loads for the preset, requests for it that cannot wait that long
submit smollm2:135m hi cb-load timeout_ms 1500 >/dev/null
curl -s -D "$T_TMP/l.h" -w ' %{http_code}' -H "$A" "$URL/api/generate" \
    -d '{"model":"smollm2:135m","prompt":"hi","timeout":1.5}' | tr -d '\n' >"$T_TMP/l"
check "a request past its deadline while its model loads for the preset: 503 MODEL_LOADING" grep -q \
    '"code":"MODEL_LOADING","type":"retriable",.*"retry_after_ms":[1-9][0-9]*} 503$' "$T_TMP/l"
check "... with Retry-After" grep -qi '^retry-after: [1-9]' "$T_TMP/l.h"
wait_for 10 answered cb-load
is "$(answer_field cb-load code)/$(answer_field cb-load retriable)" "model_loading/true" "... over Redis: model_loading, retriable"
check "... with retry_after_ms" field_has cb-load retry_after_ms '^[1-9][0-9]*$'
not_ready() { curl -s -H "$A" "$URL/health/ready" | grep -q '"status":"not_ready",.*"progress":"[0-2]/3"'; }
check "/health/ready meanwhile: 503 not_ready with the progress" not_ready
ready_my() { curl -sf -H "$A" "$URL/health/ready" | grep -q '"config":"MY-PI","orchestration_mode":"debate","loaded_models":\["llama3.2:1b","tinyctx:1b","smollm2:135m"\]'; }
wait_for 40 ready_my
ok $? "... then ready: its three models loaded, its mode in force"
tiny_roles() { curl -s -H "$A" "$URL/v1/models" | tr '{' '\n' | grep '"id":"tinyctx:1b"' | grep -q "$1"; }
check "... its roles apply (tinyctx:1b is its thinker)" tiny_roles '"roles":\["thinker"\]'

# --- the vision endpoints (moondream:1.8b on both nodes sees images) ---------------------
vcurl() { # vcurl <path> <body> <out>: POST, body and status in out
    curl -s -H "$A" -w ' %{http_code}' "$URL$1" -d "$2" | tr -d '\n' >"$3"
}
curl -s -H "$A" -w ' %{http_code}' "$URL/v1/vision/health" | tr -d '\n' >"$T_TMP/vh"
check "GET /v1/vision/health: ok, the vision model on both nodes" grep -q \
    '^{"status":"ok","default_model":"moondream:1.8b","models":\[{"id":"moondream:1.8b","status":"[a-z]*","nodes":\["pi-[ab]","pi-[ab]"\]}\]} 200$' "$T_TMP/vh"
IMG=iVBORw0KGgoAAAANSUhEUg==
vcurl /v1/vision/classify "{\"image\":\"$IMG\",\"labels\":[\"cat\",\"dog\"],\"prompt\":\"[[sim:reply=A small Dog.]] what is it\"}" "$T_TMP/v1"
check "POST /v1/vision/classify: the default vision model, the label found in its answer" grep -q \
    '^{"model":"moondream:1.8b","label":"dog","text":"A small Dog.","node":"pi-[ab]",.* 200$' "$T_TMP/v1"
vcurl /v1/vision/classify "{\"image\":\"$IMG\",\"labels\":[\"cat\"],\"prompt\":\"[[sim:reply=a car]]\"}" "$T_TMP/v2"
check "... no label in the answer: label null" grep -q '"label":null,"text":"a car"' "$T_TMP/v2"
vcurl /v1/vision/classify "{\"image\":\"$IMG\",\"model\":\"tinyctx:1b\"}" "$T_TMP/v3"
check "... a model without vision: 400 MODEL_NOT_CAPABLE" grep -q '"code":"MODEL_NOT_CAPABLE".* 400$' "$T_TMP/v3"
vcurl /v1/vision/classify '{"labels":["cat"]}' "$T_TMP/v4"
check "... no image: 400 BAD_REQUEST" grep -q '"code":"BAD_REQUEST".* 400$' "$T_TMP/v4"
# two images (this router lets two requests wait: --max-waiting 2)
vcurl /v1/vision/classify/batch "{\"images\":[\"$IMG\",\"$IMG\"],\"labels\":[\"cat\",\"dog\"],\"prompt\":\"[[sim:reply=cat]]\"}" "$T_TMP/v5"
check "POST /v1/vision/classify/batch: the results in the images' order, each labelled" grep -q \
    '^{"model":"moondream:1.8b","results":\[{"index":0,"node":"pi-[ab]","label":"cat","text":"cat"},{"index":1,"node":"pi-[ab]","label":"cat","text":"cat"}\]} 200$' "$T_TMP/v5"
check "... spread across both nodes that have the model" sh -c \
    "grep -q '\"node\":\"pi-a\"' $T_TMP/v5 && grep -q '\"node\":\"pi-b\"' $T_TMP/v5"
# a client that leaves a batch of two long answers: both images' entries get their cancel mark
long=$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "w%d ", i }')
curl -s -m 2 -H "$A" -o /dev/null "$URL/v1/vision/classify/batch" \
    -d "{\"images\":[\"$IMG\",\"$IMG\"],\"prompt\":\"[[sim:reply=$long]]\"}"
both_cancelled() {
    [ "$(rcli --raw KEYS 'orion:inference:cancel:gw-*.[01]' | grep -c .)" -ge 2 ]
}
wait_for 10 both_cancelled
ok $? "... a client that leaves: every image's entry is cancelled (P:cancel:ID.0, ID.1)"
vcurl /v1/vision/classify/batch '{"images":[]}' "$T_TMP/v6"
check "... no images: 400" grep -q '"code":"BAD_REQUEST".* 400$' "$T_TMP/v6"
# the unload goes to the nodes the router's view (their health) shows the model loaded on
vis_loaded() { curl -sf -H "$A" "$URL/backends" | tr '{' '\n' | grep '"node":"'"$1"'"' | grep -q '"moondream:1.8b"'; }
wait_for 10 vis_loaded pi-a && wait_for 10 vis_loaded pi-b
ok $? "... the router's view has moondream:1.8b loaded on pi-a and pi-b"
vcurl /v1/vision/unload '{"model":"moondream:1.8b"}' "$T_TMP/v7"
check "POST /v1/vision/unload: every node that had it loaded" grep -q \
    '^{"model":"moondream:1.8b","action":"unload","nodes":\["pi-[ab]","pi-[ab]"\]} 200$' "$T_TMP/v7"
# the router knows what is loaded from the nodes' health (every second): a load sent before
# that shows the unload would count the model resident and the load not cold
vis_gone() { ! curl -s -H "$A" "$URL/api/ps" | grep -q moondream; }
wait_for 10 vis_gone
vcurl /v1/vision/load '{}' "$T_TMP/v8"
check "POST /v1/vision/load: the default vision model, loaded on a node" grep -q \
    '^{"model":"moondream:1.8b","action":"load","nodes":\["pi-[ab]"\],"cold_start":[a-z]*,"done_reason":"load".* 200$' "$T_TMP/v8"
vcurl /v1/vision/load '{"model":"tinyctx:1b"}' "$T_TMP/v9"
check "... a model without vision: 400 MODEL_NOT_CAPABLE" grep -q '"code":"MODEL_NOT_CAPABLE".* 400$' "$T_TMP/v9"
# over Redis the same request is a chat entry with the image in its message
rcli XADD orion:inference:requests '*' model moondream:1.8b callback cb-vis \
    messages "[{\"role\":\"user\",\"content\":\"[[sim:reply=dog]]\",\"images\":[\"$IMG\"]}]" >/dev/null
wait_for 20 answered cb-vis
is "$(answer_field cb-vis response)" dog "over Redis: a chat entry with an image, answered by the vision model"

# --- --max-concurrent 6: connections past it get 503 -------------------------------------
# Under valgrind the first check failed once in a full CI run and passed alone and in every
# other run; the cause is not found, so the step runs in make check and make sanitize only.
code() { curl -s -o "$T_TMP/code" -w '%{http_code}' -H "$A" "$URL$1"; }
if [ -n "${ORION_WRAP:-}" ]; then
    skip "--max-concurrent 6 under valgrind: make check and make sanitize run it"
    skip "... and 200 once they left"
else
    # six uploads that send their head and then wait on a FIFO nobody writes: each connection stays
    # open in the body state (the front's idle limit is 60 s), however slow the machine is
    mkfifo "$T_TMP/hold"
    HOLD=""
    for i in 1 2 3 4 5 6; do
        curl -s -m 120 -T - -X POST -H "$A" -o /dev/null "$URL/api/chat" <"$T_TMP/hold" &
        HOLD="$HOLD $!"
    done
    exec 9>"$T_TMP/hold"
    T_PIDS="$T_PIDS $HOLD"
    busy() { [ "$(code /api/version)" = 503 ]; }
    wait_for 20 busy
    ok $? "--max-concurrent 6: a 7th connection gets 503"
    kill $HOLD 2>/dev/null
    exec 9>&-
    free() { [ "$(code /api/version)" = 200 ]; }
    wait_for 20 free
    ok $? "... and 200 once they left"
fi

# --- /health without Redis ---------------------------------------------------------------
rcli SHUTDOWN NOSAVE >/dev/null 2>&1
down() { [ "$(code /health)" = 503 ]; }
wait_for 20 down
ok $? "/health: 503 when Redis is unreachable"
check "... status unavailable, with the reason" grep -q \
    '"status":"unavailable","ok":false,"reason":"redis is not available"' "$T_TMP/code"
done_testing
