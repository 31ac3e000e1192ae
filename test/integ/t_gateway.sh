#!/bin/sh
# The router's HTTP front against a real redis-server, with the worker played by this script:
# health written by hand, and a background loop that takes each request from the node's
# stream and writes chunk + done entries (or an error) on its callback. Driven with curl.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
H=orion:inference:health
Q=orion:inference:requests
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
health() { # health <node> <temp>
    rcli HSET $H "$1" "{\"node_id\":\"$1\",\"last_seen\":$(date +%s),\"temp_c\":$2,\"ram_percent\":40,\"ram_total_mb\":8000,\"models\":[\"gemma3:1b\"],\"installed\":[\"gemma3:1b\",\"qwen2.5:0.5b\"],\"available\":true}" >/dev/null
}
beat() { while :; do health pi-a "$1"; sleep 0.5; done; }
field() { awk -v f="$1" 'prev == f { print; exit } { prev = $0 }'; }
# the worker of pi-a: answer every entry of its stream. A prompt "fail-*" gets a
# model_not_found error; "code-CODE-RETRIABLE" an error answer with that code (and
# retry_after_ms 2500 when retriable); "slow" is never answered (the client goes away).
worker() {
    while :; do
        for id in $(rcli --raw XRANGE "$Q:pi-a" - + | grep -E '^[0-9]+-[0-9]+$'); do
            e=$(rcli --raw XRANGE "$Q:pi-a" "$id" "$id")
            cb=$(echo "$e" | field callback)
            rid=$(echo "$e" | field request_id)
            model=$(echo "$e" | field model)
            rcli XDEL "$Q:pi-a" "$id" >/dev/null
            echo "$e" | tr '\n' ' ' >>"$T_TMP/entries"
            echo >>"$T_TMP/entries"
            case "$e" in
            *slow*) continue ;;
            *code-*)
                c=$(echo "$e" | grep -o 'code-[a-z_]*-[a-z]*' | head -1)
                rt=${c##*-} c=${c#code-} c=${c%-*}
                set -- request_id "$rid" type error status error error "failed: $c" code "$c" retriable "$rt" node_id pi-a
                [ "$rt" = true ] && set -- "$@" retry_after_ms 2500
                rcli XADD "$cb" '*' "$@" >/dev/null
                continue ;;
            *fail-*)
                rcli XADD "$cb" '*' request_id "$rid" type error status error \
                    error "model not found" code model_not_found retriable false node_id pi-a >/dev/null
                continue ;;
            esac
            load=100
            case "$e" in *evicted*) load=900000000 ;; esac # a sticky guess that was wrong
            rcli XADD "$cb" '*' request_id "$rid" type chunk seq 1 delta "Hel" >/dev/null
            rcli XADD "$cb" '*' request_id "$rid" type chunk seq 2 delta "lo" >/dev/null
            rcli XADD "$cb" '*' request_id "$rid" type done status ok response Hello \
                message '{"role":"assistant","content":"Hello"}' node_id pi-a model "$model" \
                done_reason stop total_duration 900 load_duration $load prompt_eval_count 5 \
                prompt_eval_duration 200 eval_count 2 eval_duration 300 >/dev/null
        done
        sleep 0.05
    done
}

beat 50 &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
worker &
T_PIDS="$T_PIDS $!"
bg router $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 3
ROUTER_PID=$BG_PID
wait_for 5 curl -sf "$URL/api/version"
ok $? "the router serves HTTP on --http-listen"
sleep 1.2 # the first health refresh

# native API, streamed chat
out=$(curl -s -D "$T_TMP/h1" "$URL/api/chat" -d '{"model":"gemma3:1b","messages":[{"role":"user","content":"hi"}]}')
check "/api/chat streams NDJSON" grep -qi '^content-type: application/x-ndjson' "$T_TMP/h1"
check "... with X-Orion-Node: pi-a" grep -qi '^x-orion-node: pi-a' "$T_TMP/h1"
check "... and X-Orion-Cold-Start: false (routed sticky: loaded there)" grep -qi '^x-orion-cold-start: false' "$T_TMP/h1"
is "$(echo "$out" | wc -l | tr -d ' ')" 3 "... two chunk lines and the final line"
is "$(echo "$out" | head -1 | grep -o '"message":{[^}]*}')" '"message":{"role":"assistant","content":"Hel"}' "... the first piece in Ollama's shape"
check "... chunk lines are done:false" sh -c "echo '$out' | head -2 | grep -c '\"done\":false' | grep -qx 2"
last=$(echo "$out" | tail -1)
check "... the final line is done:true with done_reason" sh -c "echo '$last' | grep -q '\"done\":true,\"done_reason\":\"stop\"'"
check "... and the counters" sh -c "echo '$last' | grep -q '\"prompt_eval_count\":5,\"prompt_eval_duration\":200,\"eval_count\":2,\"eval_duration\":300'"
no_cb() { [ "$(rcli --raw KEYS 'orion:inference:cb:gw:*' | grep -c .)" = 0 ]; }
wait_for 2 no_cb
ok $? "the callback key is deleted after the answer"

# native generate, stream:false
out=$(curl -s -D "$T_TMP/h2" "$URL/api/generate" -d '{"model":"gemma3:1b","prompt":"hi","stream":false}')
check "/api/generate stream:false: one JSON body" grep -qi '^content-type: application/json; charset=utf-8' "$T_TMP/h2"
check "... with the whole text" sh -c "echo '$out' | grep -q '\"response\":\"Hello\",\"done\":true'"
check "... the counters and the orion object" sh -c "echo '$out' | grep -q '\"eval_count\":2.*\"orion\":{\"node\":\"pi-a\"'"
is "$(echo "$out" | wc -l | tr -d ' ')" 1 "... in one line"

# OpenAI
out=$(curl -s -D "$T_TMP/h3" "$URL/v1/chat/completions" -d '{"model":"gemma3:1b","messages":[{"role":"user","content":"hi"}]}')
check "/v1/chat/completions: a chat.completion object" sh -c "echo '$out' | grep -q '\"object\":\"chat.completion\"'"
check "... with the message" sh -c "echo '$out' | grep -q '\"message\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":\"stop\"'"
check "... and usage" sh -c "echo '$out' | grep -q '\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}'"
check "... X-Orion-Node" grep -qi '^x-orion-node: pi-a' "$T_TMP/h3"
out=$(curl -sN -D "$T_TMP/h4" "$URL/v1/chat/completions" -d '{"model":"gemma3:1b","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}')
check "stream: text/event-stream" grep -qi '^content-type: text/event-stream' "$T_TMP/h4"
is "$(echo "$out" | grep -c '^data: ')" 5 "... role+content, content, finish, usage, [DONE]"
check "... the first delta carries the role" sh -c "echo '$out' | head -1 | grep -q '\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}'"
check "... a finish chunk" sh -c "echo '$out' | grep -q '\"delta\":{},\"finish_reason\":\"stop\"'"
check "... the usage chunk" sh -c "echo '$out' | grep -q '\"choices\":\\[\\],\"usage\"'"
is "$(echo "$out" | grep '^data: ' | tail -1)" "data: [DONE]" "... ends with data: [DONE]"

# OpenAI legacy completions
out=$(curl -s -D "$T_TMP/h5" "$URL/v1/completions" -d '{"model":"gemma3:1b","prompt":"say hi","suffix":"bye","max_tokens":7,"stop":"x"}')
check "/v1/completions: a text_completion object" sh -c "echo '$out' | grep -q '^{\"id\":\"cmpl-[0-9]*\",\"object\":\"text_completion\",\"created\":[0-9]*,\"model\":\"gemma3:1b\",\"system_fingerprint\":\"fp_ollama\",'"
check "... with the text and finish_reason" sh -c "echo '$out' | grep -q '\"choices\":\[{\"text\":\"Hello\",\"index\":0,\"finish_reason\":\"stop\"}\]'"
check "... usage" sh -c "echo '$out' | grep -q '\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}'"
check "... the orion object with cold_start false (sticky: loaded on pi-a)" sh -c "echo '$out' | grep -q '\"orion\":{\"node\":\"pi-a\",\"attempt\":1,.*\"cold_start\":false}'"
check "... X-Orion-Node and X-Orion-Cold-Start: false" sh -c "grep -qi '^x-orion-node: pi-a' $T_TMP/h5 && grep -qi '^x-orion-cold-start: false' $T_TMP/h5"
check "... Content-Type application/json" grep -qi '^content-type: application/json' "$T_TMP/h5"
e=$(grep 'say hi' "$T_TMP/entries" | tail -1)
check "... the entry: a prompt, the suffix, options as Ollama maps them" sh -c "echo '$e' | grep -q 'prompt say hi .*suffix bye ' && echo '$e' | grep -q '\"num_predict\":7,\"temperature\":1,\"top_p\":1,\"frequency_penalty\":0,\"presence_penalty\":0,\"stop\":\[\"x\"\]'"
out=$(curl -sN -D "$T_TMP/h6" "$URL/v1/completions" -d '{"model":"gemma3:1b","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}')
check "stream: text/event-stream" grep -qi '^content-type: text/event-stream' "$T_TMP/h6"
is "$(echo "$out" | grep -c '^data: ')" 5 "... two text chunks, the finish chunk, usage, [DONE]"
check "... chunks in Ollama's key order, zero usage on each" sh -c "echo '$out' | head -1 | grep -q '\"choices\":\[{\"text\":\"Hel\",\"index\":0,\"finish_reason\":null}\],\"model\":\"gemma3:1b\",\"system_fingerprint\":\"fp_ollama\",\"usage\":{\"prompt_tokens\":0,'"
check "... the finish chunk" sh -c "echo '$out' | grep -q '\"text\":\"\",\"index\":0,\"finish_reason\":\"stop\"'"
check "... the real usage with choices []" sh -c "echo '$out' | grep -q '\"choices\":\[\],.*\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}'"
is "$(echo "$out" | grep '^data: ' | tail -1)" "data: [DONE]" "... ends with data: [DONE]"
check "... X-Orion-Cold-Start on the stream" grep -qi '^x-orion-cold-start: false' "$T_TMP/h6"
out=$(curl -sN "$URL/v1/completions" -d '{"model":"gemma3:1b","prompt":"hi","stream":true}')
check "stream without include_usage: no usage anywhere" sh -c "! echo '$out' | grep -q usage"
# the error schema: OpenAI's shape (oerr) and Ollama's (nerr), with code, type and details
oerr() { printf '{"error":{"message":"%s","type":"non_retriable","param":null,"code":"%s","provider":"orion-inference","details":{%s}}}\n %s' "$1" "$2" "${4:-}" "$3"; }
nerr() { printf '{"error":"%s","code":"%s","type":"non_retriable","provider":"orion-inference","details":{%s}} %s' "$1" "$2" "${4:-}" "$3"; }
is "$(curl -s -w ' %{http_code}' $URL/v1/completions -d '{bad')" "$(oerr 'invalid request body: not a JSON object' BAD_REQUEST 400)" "/v1/completions: bad JSON, 400 in OpenAI's shape"
is "$(curl -s -w ' %{http_code}' $URL/v1/completions -d '{"prompt":"x"}')" "$(oerr 'model is required' BAD_REQUEST 400)" "... no model: 400"
is "$(curl -s -w ' %{http_code}' $URL/v1/completions -d '{"model":"nope:1b","prompt":"x"}')" "$(oerr "model 'nope:1b' not found" MODEL_NOT_FOUND 404)" "... a model no node has: 404 at once"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/completions -d '{"model":"gemma3:1b","prompt":["a"]}')" 400 "... a prompt that is not a string: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/completions -d '{"model":"gemma3:1b","prompt":"a","stop":[1]}')" 400 "... a stop that is not strings: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/completions)" 405 "... GET: 405"
is "$(curl -s -w ' %{http_code}' $URL/api/chat -d '{"model":"nope:1b","messages":[{"role":"user","content":"x"}]}')" "$(nerr "model 'nope:1b' not found" MODEL_NOT_FOUND 404)" "/api/chat of a model no node has: 404 at once"

# cold start: qwen2.5:0.5b is installed on pi-a but not loaded
out=$(curl -s -D "$T_TMP/h7" "$URL/api/generate" -d '{"model":"qwen2.5:0.5b","prompt":"hi","stream":false}')
check "a model loaded nowhere: X-Orion-Cold-Start: true" grep -qi '^x-orion-cold-start: true' "$T_TMP/h7"
check "... and orion.cold_start true" sh -c "echo '$out' | grep -q '\"cold_start\":true}'"

out=$(curl -s -D "$T_TMP/h9" "$URL/api/generate" -d '{"model":"gemma3:1b","prompt":"evicted","stream":false}')
check "routed sticky but load_duration 0.9 s: cold start after all (not streamed)" sh -c "grep -qi '^x-orion-cold-start: true' $T_TMP/h9 && echo '$out' | grep -q '\"cold_start\":true}'"

# /v1/models/{id}, load, unload
is "$(curl -s -w ' %{http_code}' $URL/v1/models/gemma3:1b | sed 's/"created":[0-9]*/"created":T/')" '{"id":"gemma3:1b","object":"model","created":T,"owned_by":"library"}
 200' "GET /v1/models/{id}: one model object"
check "... the id percent-decoded" sh -c "curl -s $URL/v1/models/qwen2.5%3A0.5b | grep -q '\"id\":\"qwen2.5:0.5b\"'"
is "$(curl -s -w ' %{http_code}' $URL/v1/models/nope:1b)" "$(oerr "model 'nope:1b' not found" MODEL_NOT_FOUND 404)" "... a model no node has: 404 in OpenAI's shape"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST $URL/v1/models/gemma3:1b)" 405 "... POST: 405"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/models/bad%zz)" 400 "... a bad escape: 400"
out=$(curl -s -D "$T_TMP/h8" -X POST "$URL/v1/models/gemma3:1b/load")
check "POST /v1/models/{id}/load: which node" sh -c "echo '$out' | grep -q '^{\"model\":\"gemma3:1b\",\"action\":\"load\",\"nodes\":\[\"pi-a\"\],\"cold_start\":false,'"
check "... X-Orion-Node: pi-a" grep -qi '^x-orion-node: pi-a' "$T_TMP/h8"
e=$(grep 'gw-' "$T_TMP/entries" | tail -1)
check "... sent as an empty-prompt generate (Ollama's load only)" sh -c "echo '$e' | grep -q 'model gemma3:1b prompt  '"
curl -s -o /dev/null -X POST "$URL/v1/models/gemma3:1b/load" -d '{"keep_alive":"1h"}'
check "... the body's keep_alive passed on" sh -c "grep 'gw-' $T_TMP/entries | tail -1 | grep -q 'keep_alive 1h'"
is "$(curl -s -w ' %{http_code}' -X POST $URL/v1/models/gemma3:1b/load -d '{bad')" "$(oerr 'invalid request body: not a JSON object' BAD_REQUEST 400)" "... bad JSON: 400"
is "$(curl -s -w ' %{http_code}' -X POST $URL/v1/models/nope:1b/load)" "$(oerr "model 'nope:1b' not found" MODEL_NOT_FOUND 404)" "... unknown model: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST $URL/v1/models//load)" 400 "... no model: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/models/gemma3:1b/load)" 405 "... GET: 405"
out=$(curl -s -w ' %{http_code}' -X POST "$URL/v1/models/gemma3:1b/unload")
is "$out" '{"model":"gemma3:1b","action":"unload","nodes":["pi-a"]}
 200' "POST /v1/models/{id}/unload: the nodes it was loaded on"
e=$(grep 'gw-' "$T_TMP/entries" | tail -1)
check "... keep_alive 0, pinned to pi-a" sh -c "echo '$e' | grep -q 'prompt  keep_alive 0 node pi-a timeout_ms 30000'"
is "$(curl -s -X POST $URL/v1/models/qwen2.5:0.5b/unload)" '{"model":"qwen2.5:0.5b","action":"unload","nodes":[]}' "... a model loaded nowhere: no node"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST $URL/v1/models/nope:1b/unload)" 404 "... unknown model: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST $URL/v1/models/gemma3:1b/unload -d '[1]')" 400 "... a body that is not an object: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE $URL/v1/models/gemma3:1b/unload)" 405 "... DELETE: 405"

# the other endpoints
check "/api/tags lists the installed models" sh -c "curl -s $URL/api/tags | grep -q '\"name\":\"qwen2.5:0.5b\",\"model\":\"qwen2.5:0.5b\"'"
check "/api/ps lists loaded models with their node" sh -c "curl -s $URL/api/ps | grep -q '\"name\":\"gemma3:1b\".*\"node\":\"pi-a\"'"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/api/show -d '{"model":"gemma3:1b"}')" 200 "/api/show of an installed model"
is "$(curl -s -w ' %{http_code}' $URL/api/show -d '{"model":"nope"}')" "$(nerr "model 'nope' not found" MODEL_NOT_FOUND 404)" "/api/show of an unknown one: 404"
check "/api/version" sh -c "curl -s $URL/api/version | grep -q '^{\"version\":\"'"
check "/v1/models" sh -c "curl -s $URL/v1/models | grep -q '\"id\":\"gemma3:1b\",\"object\":\"model\"'"
check "HEAD /: 200, 17 bytes" sh -c "curl -sI $URL/ | grep -qi '^content-length: 17'"
is "$(curl -s $URL/)" "Ollama is running" "GET /"
check "/health: ok with pi-a eligible" sh -c "curl -s $URL/health | grep -q '{\"status\":\"ok\",\"ok\":true,\"backends\":\\[{\"node\":\"pi-a\",\"eligible\":true'"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/health/ready)" 200 "/health/ready: 200"

# errors
is "$(curl -s -w ' %{http_code}' $URL/api/chat -d '{"model":"gemma3:1b","messages":[{"role":"user","content":"fail-1"}]}')" \
    "$(nerr "model 'gemma3:1b' not found" MODEL_NOT_FOUND 404 '"model":"gemma3:1b","node":"pi-a"')" "model_not_found: 404 in Ollama's words"
is "$(curl -s -w ' %{http_code}' $URL/v1/chat/completions -d '{"model":"qwen2.5:0.5b","messages":[{"role":"user","content":"fail-2"}]}')" \
    "$(oerr "model 'qwen2.5:0.5b' not found" MODEL_NOT_FOUND 404 '"model":"qwen2.5:0.5b","node":"pi-a"')" "... and in OpenAI's"
is "$(curl -s -w ' %{http_code}' $URL/api/chat -d '{"messages":[]}')" "$(nerr 'model is required' BAD_REQUEST 400)" "chat without model: 400"
is "$(curl -s -w ' %{http_code}' $URL/api/generate -d '{"prompt":"x"}')" "$(nerr "model '' not found" MODEL_NOT_FOUND 404)" "generate without model: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/api/chat -d '{bad')" 400 "bad JSON: 400"
is "$(curl -s -w ' %{http_code}' -X POST $URL/api/chat)" "$(nerr 'missing request body' BAD_REQUEST 400)" "no body: 400"
is "$(curl -s -w ' %{http_code}' -X POST $URL/chat)" "$(nerr 'missing request body' BAD_REQUEST 400)" "/chat is /api/chat (brain-service name)"
is "$(curl -s -w ' %{http_code}' -X POST $URL/generate)" "$(nerr 'missing request body' BAD_REQUEST 400)" "/generate is /api/generate"
check "/models lists the installed models like /api/tags" sh -c "curl -s $URL/models | grep -q '\"name\":\"qwen2.5:0.5b\"'"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE $URL/models)" 405 "a known path with the wrong method: 405"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/nowhere)" 404 "unknown path: 404"
# every Redis error code a worker or router may answer, as the front relays it over HTTP
# (docs/PROTOCOL.md "Error codes"): Redis code, retriable, HTTP code, status
while read -r rc rt hc st; do
    curl -s -D "$T_TMP/eh" -w ' %{http_code}' "$URL/v1/chat/completions" \
        -d "{\"model\":\"gemma3:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"code-$rc-$rt\"}]}" >"$T_TMP/eb"
    want="\"type\":\"non_retriable\",\"param\":null,\"code\":\"$hc\""
    [ "$rt" = true ] && want="\"type\":\"retriable\",\"param\":null,\"code\":\"$hc\""
    ra=0
    [ "$rt" = true ] && { grep -q '"retry_after_ms":2500' "$T_TMP/eb" || ra=1; }
    case $st in 429 | 503) [ "$rt" = true ] && { grep -qi '^retry-after: 3' "$T_TMP/eh" || ra=1; } ;; esac
    grep -q "$want" "$T_TMP/eb" && grep -q " $st\$" "$T_TMP/eb" && [ $ra = 0 ]
    ok $? "Redis code $rc (retriable $rt): HTTP $st $hc"
done <<'CODES'
bad_request false BAD_REQUEST 400
context_budget_exceeded false CONTEXT_BUDGET_EXCEEDED 400
model_not_capable false MODEL_NOT_CAPABLE 400
queue_full true QUEUE_FULL 429
canceled false CANCELED 499
ollama_error false INFERENCE_ERROR 500
ollama_error true INFERENCE_ERROR 500
too_large false RESPONSE_TOO_LARGE 500
duplicate false DUPLICATE 409
bad_response false BAD_UPSTREAM_RESPONSE 502
failed_over_too_often false FAILED_OVER_TOO_OFTEN 502
ollama_unreachable true NODE_UNREACHABLE 502
ollama_unreachable false NODE_UNREACHABLE 502
no_available_nodes true NO_AVAILABLE_NODES 503
ollama_busy true MODEL_BUSY 503
model_loading true MODEL_LOADING 503
timeout true TIMEOUT 504
CODES

# a client that goes away: the cancel key is set
curl -s -m 1 "$URL/api/generate" -d '{"model":"gemma3:1b","prompt":"slow"}' >/dev/null
wait_for 3 sh -c "redis-cli -p $REDIS_PORT --scan --pattern 'orion:inference:cancel:gw-*' | grep -q ."
ok $? "a client that disconnects: P:cancel:<request_id> is set"
check "... with an expiry" sh -c "[ \$(redis-cli -p $REDIS_PORT TTL \$(redis-cli -p $REDIS_PORT --scan --pattern 'orion:inference:cancel:gw-*' | head -1)) -gt 0 ]"

# no eligible node: /health/ready 503, and a waiting request dropped when its client leaves
kill $BEAT
beat 90 &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
sleep 1.5
out=$(curl -s -w ' %{http_code}' $URL/health/ready)
is "${out##* }" 503 "/health/ready: 503 while no node is eligible"
check "... with the reason" sh -c "echo '$out' | grep -q 'pi-a: hot'"
check "/health: ok false" sh -c "curl -s $URL/health | grep -q '{\"status\":\"ok\",\"ok\":false'"
out=$(curl -s -m 10 -w ' %{http_code}' -X POST "$URL/v1/models/gemma3:1b/unload" -d '{"timeout":1}')
is "${out##* }" 502 "an unload for a node that is not eligible fails after the body's timeout: 502"
echo "$out" >"$T_TMP/unload"
check "... naming the node and why" grep -q "unloading 'gemma3:1b' failed on pi-a: no node could take the request before its deadline.*NODE_FAILED" "$T_TMP/unload"
curl -s -m 1 "$URL/api/generate" -d '{"model":"gemma3:1b","prompt":"waits"}' >/dev/null
wait_for 3 sh -c "[ \$(redis-cli -p $REDIS_PORT XPENDING $Q inference-router | head -1) = 0 ]"
ok $? "a waiting request whose client left is dropped (acknowledged)"
is "$(rcli XLEN $Q)" 0 "... and deleted from the request stream"
kill $BEAT

# token
kill "$ROUTER_PID"
wait "$ROUTER_PID" 2>/dev/null
bg router2 $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --http-listen "127.0.0.1:$HTTP_PORT" --http-token s3cret
wait_for 5 curl -s -o /dev/null "$URL/health"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/api/tags)" 401 "--http-token: no token, 401"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' $URL/api/tags)" 401 "... a wrong one, 401"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' $URL/api/tags)" 200 "... the right one, 200"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/health)" 200 "... /health needs none"
is "$(curl -s -o /dev/null -w '%{http_code}' $URL/v1/models)" 401 "... /v1 too: 401"
$ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --http-listen nonsense >/dev/null 2>&1
is $? 100 "a bad --http-listen: exit 100"
done_testing
