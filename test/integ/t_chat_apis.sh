#!/bin/sh
# The front's other chat APIs, as Ollama serves them: OpenAI's Responses API (POST
# /v1/responses, stateless) and Anthropic's Messages API (POST /v1/messages), whole and
# streamed, against a cluster (redis-server, two ollama-sims, two workers, the router), with
# curl in the shapes the APIs' documentation shows; their errors in each API's shape. Then
# the answers with thinking and tool calls (the simulator writes neither), streamed thinking
# included: a second router under another prefix, with no worker, whose callback the test
# answers itself.
. "$(dirname "$0")/lib.sh"

start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
for s in a b; do
    start_sim "$s" --models 'gemma3:1b+caps=completion/thinking,qwen2.5:0.5b' --load-ms 200 --tokens-per-s 300 ||
        ok 1 "ollama-sim $s starts"
done
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
bg router $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 5
both_eligible() { curl -s "$URL/health" | grep -o '"eligible":true' | grep -c . | grep -qx 2; }
wait_for 10 both_eligible
ok $? "two workers report health, both eligible through the router"

events() { grep '^event:' "$1" | uniq | sed 's/^event: //' | tr '\n' ' '; }
# the sequence_numbers of a Responses stream are 0, 1, 2, ... in order
numbered() { grep -o '"sequence_number":[0-9]*' "$1" | cut -d: -f2 | awk '$1 != NR - 1 { bad = 1 } END { exit bad || NR == 0 }'; }

# --- Responses -------------------------------------------------------------------------------
curl -s -D "$T_TMP/h" -o "$T_TMP/r" "$URL/v1/responses" -H 'Content-Type: application/json' \
    -H 'Authorization: Bearer any' \
    -d '{"model":"gemma3:1b","instructions":"Talk like a pirate.","input":"Are semicolons optional in JavaScript?","max_output_tokens":6}'
check "responses, whole: 200 application/json, a response object, completed" sh -c \
    "grep -q ' 200' $T_TMP/h && grep -qi '^content-type: application/json' $T_TMP/h && grep -q '^{\"id\":\"resp_[^\"]*\",\"object\":\"response\",\"created_at\":[0-9]*,\"completed_at\":[0-9]*,\"status\":\"completed\"' $T_TMP/r"
check "... one message item with the text, instructions echoed, usage with 6 output tokens" sh -c \
    "grep -q '\"output\":\[{\"id\":\"msg_[^\"]*\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":\[{\"type\":\"output_text\",\"text\":\"[^\"]\+\",\"annotations\":\[\],\"logprobs\":\[\]}\]}\]' $T_TMP/r && grep -q '\"instructions\":\"Talk like a pirate.\"' $T_TMP/r && grep -q '\"usage\":{\"input_tokens\":[1-9][0-9]*,\"output_tokens\":6,\"total_tokens\":[0-9]*' $T_TMP/r && grep -q '\"max_output_tokens\":6,' $T_TMP/r"
check "... the orion object and X-Orion-Node" sh -c "grep -qi '^x-orion-node: pi-[ab]' $T_TMP/h && grep -q '\"orion\":{\"node\":\"pi-[ab]\"' $T_TMP/r"

curl -s -N -D "$T_TMP/h" -o "$T_TMP/s" "$URL/v1/responses" \
    -d '{"model":"gemma3:1b","input":[{"role":"user","content":[{"type":"input_text","text":"Say hi"}]}],"max_output_tokens":5,"stream":true}'
check "responses, streamed: 200 text/event-stream" sh -c "grep -q ' 200' $T_TMP/h && grep -qi '^content-type: text/event-stream' $T_TMP/h"
is "$(events "$T_TMP/s")" "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.completed " \
    "... Ollama's events in order"
numbered "$T_TMP/s"
ok $? "... sequence_number 0, 1, 2, ... on every event ($(grep -c '^event:' "$T_TMP/s") events)"
deltas=$(grep '"type":"response.output_text.delta"' "$T_TMP/s" | sed 's/.*"delta":"\([^"]*\)".*/\1/' | tr -d '\n')
final=$(grep '"type":"response.output_text.done"' "$T_TMP/s" | sed 's/.*"text":"\([^"]*\)".*/\1/')
check "... the deltas add up to the done text ('$final')" test -n "$final" -a "$deltas" = "$final"
check "... response.completed carries the text and the usage (5 output tokens)" sh -c \
    "grep '\"type\":\"response.completed\"' $T_TMP/s | grep -q '\"status\":\"completed\".*\"text\":\"$final\".*\"output_tokens\":5,'"

b=$(curl -s -w ' %{http_code}' "$URL/v1/responses" -d '{"model":"gemma3:1b","input":[{"type":"bogus"}]}')
case "$b" in '{"error":{"message":"input[0]: unknown input item type: \"bogus\"",'*'"code":"BAD_REQUEST"'*' 400') ok 0 "responses: an unknown input item: 400 in OpenAI's shape, Ollama's sentence" ;;
*) ok 1 "responses: an unknown input item: 400 in OpenAI's shape, Ollama's sentence ($b)" ;; esac
b=$(curl -s -w ' %{http_code}' "$URL/v1/responses" -d '{"model":"nope:1b","input":"x"}')
case "$b" in *"model 'nope:1b' not found"*' 404') ok 0 "responses: an unknown model: 404" ;; *) ok 1 "responses: an unknown model: 404 ($b)" ;; esac
b=$(curl -s -w ' %{http_code}' "$URL/v1/responses" -d '{"model":"gemma3:1b","input":"x","tools":[{"type":"web_search"}]}')
case "$b" in *web_search*' 501') ok 0 "responses: the web_search tool: 501 saying so" ;; *) ok 1 "responses: the web_search tool: 501 ($b)" ;; esac

# a reasoning effort reaches Ollama as its think word, a JSON string ("high"), which it accepts
b=$(curl -s -w ' %{http_code}' "$URL/v1/responses" -d '{"model":"gemma3:1b","input":"x","max_output_tokens":2,"reasoning":{"effort":"high"}}')
case "$b" in *'"status":"completed"'*'"reasoning":{"effort":"high"}'*' 200') ok 0 "responses with reasoning.effort high: answered, the effort echoed" ;; *) ok 1 "responses with reasoning.effort high: answered ($b)" ;; esac
b=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/messages" -d '{"model":"gemma3:1b","max_tokens":2,"output_config":{"effort":"low"},"messages":[{"role":"user","content":"x"}]}')
is "$b" 200 "messages with output_config.effort low: answered"
b=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/chat/completions" -d '{"model":"gemma3:1b","max_tokens":2,"reasoning_effort":"medium","messages":[{"role":"user","content":"x"}]}')
is "$b" 200 "chat completions with reasoning_effort medium: answered"

# a request Ollama itself refuses (400: thinking asked of a model without it) is the caller's
# error: 400 with Ollama's sentence, in each API's shape, and no other node is tried
b=$(curl -s -w ' %{http_code}' "$URL/api/chat" -d '{"model":"qwen2.5:0.5b","think":true,"stream":false,"messages":[{"role":"user","content":"x"}]}')
case "$b" in '{"error":"\"qwen2.5:0.5b\" does not support thinking",'*'"code":"BAD_REQUEST"'*' 400') ok 0 "Ollama's 400 (think on a model without thinking): 400 BAD_REQUEST, Ollama's sentence" ;;
*) ok 1 "Ollama's 400 (think on a model without thinking): 400 BAD_REQUEST, Ollama's sentence ($b)" ;; esac
b=$(curl -s -w ' %{http_code}' "$URL/v1/chat/completions" -d '{"model":"qwen2.5:0.5b","reasoning_effort":"high","messages":[{"role":"user","content":"x"}]}')
case "$b" in '{"error":{"message":"\"qwen2.5:0.5b\" does not support thinking",'*' 400') ok 0 "... the same through /v1/chat/completions, in OpenAI's shape" ;;
*) ok 1 "... the same through /v1/chat/completions, in OpenAI's shape ($b)" ;; esac

# --- Messages (Anthropic's documented request) --------------------------------------------------
curl -s -D "$T_TMP/h" -o "$T_TMP/m" "$URL/v1/messages" -H 'x-api-key: any' \
    -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
    -d '{"model":"gemma3:1b","max_tokens":7,"system":"You are terse.","messages":[{"role":"user","content":"Hello, world"}]}'
check "messages, whole: 200, a message with one text block, stop_reason max_tokens, usage" sh -c \
    "grep -q ' 200' $T_TMP/h && grep -q '^{\"id\":\"msg_[^\"]*\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"gemma3:1b\",\"content\":\[{\"type\":\"text\",\"text\":\"[^\"]\+\"}\],\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":[1-9][0-9]*,\"output_tokens\":7}' $T_TMP/m"
curl -s -N -D "$T_TMP/h" -o "$T_TMP/ms" "$URL/v1/messages" -H 'x-api-key: any' \
    -H 'anthropic-version: 2023-06-01' \
    -d '{"model":"gemma3:1b","max_tokens":4,"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"Hello"}]},{"role":"assistant","content":"Hi"},{"role":"user","content":"Go on"}]}'
is "$(events "$T_TMP/ms")" "message_start content_block_start content_block_delta content_block_stop message_delta message_stop " \
    "messages, streamed: Anthropic's events in order"
check "... message_start with the estimated input tokens, the text block at index 0, end_turn or max_tokens" sh -c \
    "grep -q '^data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_[^\"]*\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"gemma3:1b\",\"content\":\[\],\"usage\":{\"input_tokens\":[1-9][0-9]*,\"output_tokens\":0}}}' $T_TMP/ms && grep -q '\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}' $T_TMP/ms && grep -q '\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"input_tokens\":[0-9]*,\"output_tokens\":4}' $T_TMP/ms"
b=$(curl -s -w ' %{http_code}' "$URL/v1/messages" -d '{"model":"gemma3:1b","messages":[{"role":"user","content":"x"}]}')
case "$b" in '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens is required and must be positive"},"request_id":"req_'*' 400') ok 0 "messages without max_tokens: 400 in Anthropic's shape" ;; *) ok 1 "messages without max_tokens: 400 in Anthropic's shape ($b)" ;; esac
b=$(curl -s -w ' %{http_code}' "$URL/v1/messages" -d '{"model":"nope:1b","max_tokens":3,"messages":[{"role":"user","content":"x"}]}')
case "$b" in *'"type":"not_found_error","message":"model '"'nope:1b'"' not found"'*' 404') ok 0 "messages, an unknown model: 404 not_found_error" ;; *) ok 1 "messages, an unknown model: 404 not_found_error ($b)" ;; esac

# --- thinking and tool calls: a router with no worker, answered by hand ------------------------
P2=$(free_port)
URL2=http://127.0.0.1:$P2
bg router2 $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --prefix orion:fake --http-listen "127.0.0.1:$P2" --http-token sekrit --queue-timeout 120
wait_for 10 curl -sf "$URL2/health"
MSG='{"role":"assistant","content":"","thinking":"I need the weather.","tool_calls":[{"id":"call_7","function":{"name":"get_weather","arguments":{"city":"Oslo"}}}]}'
n_req=0
# answer <out> <curl args...>: send the request, answer the entry it writes with MSG
answer() {
    out=$1
    shift
    n_req=$((n_req + 1))
    curl -s -N -o "$out" "$@" &
    c_pid=$!
    wait_for 10 sh -c "redis-cli -p $REDIS_PORT XLEN orion:fake:requests | grep -qx $n_req"
    redis-cli -p "$REDIS_PORT" XREVRANGE orion:fake:requests + - COUNT 1 >"$T_TMP/entry"
    cb=$(awk 'p == "callback" { print; exit } { p = $0 }' "$T_TMP/entry")
    rid=$(awk 'p == "request_id" { print; exit } { p = $0 }' "$T_TMP/entry")
    if [ -n "${CHUNKS:-}" ]; then # thinking streamed, then text
        rx() { redis-cli -p "$REDIS_PORT" XADD "$cb" '*' request_id "$rid" type chunk "$@" >/dev/null; }
        rx seq 1 delta '' thinking 'Let me'
        rx seq 2 delta '' thinking ' think.'
        rx seq 3 delta 'Hi'
        rx seq 4 delta ' there'
    fi
    redis-cli -p "$REDIS_PORT" XADD "$cb" '*' request_id "$rid" type done status ok \
        response "${RESPONSE:-}" message "$MSG" node_id pi-x model any:1b done_reason stop \
        prompt_eval_count 12 eval_count 4 >/dev/null
    wait "$c_pid"
}
answer "$T_TMP/f1" "$URL2/v1/responses" -H 'Authorization: Bearer sekrit' -d '{"model":"any:1b","input":"Weather in Oslo?","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}'
grep -q '"output":\[{"id":"rs_[^"]*","type":"reasoning","summary":\[{"type":"summary_text","text":"I need the weather."}\],"encrypted_content":"I need the weather."},{"id":"fc_[^"]*_0","type":"function_call",' "$T_TMP/f1" &&
    grep -qF '"status":"completed","call_id":"call_7","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}],"error":null' "$T_TMP/f1"
ok $? "responses, whole: a reasoning item, then a function_call item (arguments a JSON string), no message"
answer "$T_TMP/f2" "$URL2/v1/responses" -H 'Authorization: Bearer sekrit' -d '{"model":"any:1b","input":"Weather?","stream":true}'
is "$(events "$T_TMP/f2")" "response.created response.in_progress response.output_item.added response.reasoning_summary_text.delta response.reasoning_summary_text.done response.output_item.done response.output_item.added response.function_call_arguments.delta response.function_call_arguments.done response.output_item.done response.completed " \
    "responses, streamed: the reasoning item's events, then the function call's"
numbered "$T_TMP/f2"
ok $? "... numbered in order"
check "... the call's output_index 1, the completed response lists both items" sh -c \
    "grep -q '\"type\":\"response.function_call_arguments.done\",\"sequence_number\":[0-9]*,\"item_id\":\"fc_[^\"]*\",\"output_index\":1,' $T_TMP/f2 && grep '\"type\":\"response.completed\"' $T_TMP/f2 | grep -q '\"output\":\[{\"id\":\"rs_.*},{\"id\":\"fc_'"
answer "$T_TMP/f3" "$URL2/v1/messages" -H 'x-api-key: sekrit' -d '{"model":"any:1b","max_tokens":50,"messages":[{"role":"user","content":"Weather in Oslo?"}]}'
check "messages, whole: a thinking block, a tool_use block, stop_reason tool_use, usage 12/4" sh -c \
    "grep -q '\"content\":\[{\"type\":\"thinking\",\"thinking\":\"I need the weather.\"},{\"type\":\"tool_use\",\"id\":\"call_7\",\"name\":\"get_weather\",\"input\":{\"city\":\"Oslo\"}}\],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":12,\"output_tokens\":4}' $T_TMP/f3"
answer "$T_TMP/f4" "$URL2/v1/messages" -H 'x-api-key: sekrit' -d '{"model":"any:1b","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Weather?"}]}'
is "$(events "$T_TMP/f4" | sed 's/content_block_start content_block_delta content_block_stop/BLOCK/g')" \
    "message_start BLOCK BLOCK message_delta message_stop " "messages, streamed: a thinking block, a tool_use block"
grep -qF '"index":1,"content_block":{"type":"tool_use","id":"call_7","name":"get_weather","input":{}}' "$T_TMP/f4" &&
    grep -qF '"index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Oslo\"}"}' "$T_TMP/f4" &&
    grep -qF '"delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":12,"output_tokens":4}' "$T_TMP/f4"
ok $? "... the tool_use block at index 1 with its input as input_json_delta, stop_reason tool_use"
# thinking streamed before the text (chunk entries with a thinking field), in each API's way
MSG='{"role":"assistant","content":"Hi there","thinking":"Let me think."}'
export CHUNKS=1 RESPONSE='Hi there'
answer "$T_TMP/g1" "$URL2/api/chat" -H 'Authorization: Bearer sekrit' -d '{"model":"any:1b","messages":[{"role":"user","content":"hi"}],"think":true}'
is "$(grep -o '"message":{[^}]*}' "$T_TMP/g1" | tr '\n' ' ')" '"message":{"role":"assistant","content":"","thinking":"Let me"} "message":{"role":"assistant","content":"","thinking":" think."} "message":{"role":"assistant","content":"Hi"} "message":{"role":"assistant","content":" there"} "message":{"role":"assistant","content":""} ' \
    "/api/chat, streamed: the thinking lines first, then the text, the last line without either (as Ollama)"
answer "$T_TMP/g2" "$URL2/v1/chat/completions" -H 'Authorization: Bearer sekrit' -d '{"model":"any:1b","messages":[{"role":"user","content":"hi"}],"stream":true}'
is "$(grep -o '"delta":{[^}]*}' "$T_TMP/g2" | head -3 | tr '\n' ' ')" '"delta":{"role":"assistant","content":"","reasoning":"Let me"} "delta":{"content":"","reasoning":" think."} "delta":{"content":"Hi"} ' \
    "/v1/chat/completions, streamed: reasoning deltas, then content"
answer "$T_TMP/g3" "$URL2/v1/responses" -H 'Authorization: Bearer sekrit' -d '{"model":"any:1b","input":"hi","stream":true}'
is "$(events "$T_TMP/g3")" "response.created response.in_progress response.output_item.added response.reasoning_summary_text.delta response.reasoning_summary_text.done response.output_item.done response.output_item.added response.content_part.added response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.completed " \
    "/v1/responses, streamed: the reasoning item streams and closes, then the message"
check "... the reasoning's text is the deltas' (and the message at output_index 1)" sh -c \
    "grep -q '\"type\":\"response.reasoning_summary_text.done\",\"sequence_number\":[0-9]*,\"item_id\":\"rs_[^\"]*\",\"output_index\":0,\"summary_index\":0,\"text\":\"Let me think.\"' $T_TMP/g3 && grep -q '\"type\":\"response.output_text.done\",\"sequence_number\":[0-9]*,\"item_id\":\"msg_[^\"]*\",\"output_index\":1,\"content_index\":0,\"text\":\"Hi there\"' $T_TMP/g3"
answer "$T_TMP/g4" "$URL2/v1/messages" -H 'x-api-key: sekrit' -d '{"model":"any:1b","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
is "$(events "$T_TMP/g4" | sed 's/content_block_start content_block_delta content_block_stop/BLOCK/g')" \
    "message_start BLOCK BLOCK message_delta message_stop " "/v1/messages, streamed: a thinking block, then a text block"
check "... thinking_delta twice at index 0, text_delta at index 1" sh -c \
    "[ \$(grep -c '\"index\":0,\"delta\":{\"type\":\"thinking_delta\"' $T_TMP/g4) = 2 ] && [ \$(grep -c '\"index\":1,\"delta\":{\"type\":\"text_delta\"' $T_TMP/g4) = 2 ]"
unset CHUNKS RESPONSE
b=$(curl -s -w ' %{http_code}' "$URL2/v1/messages" -d '{"model":"any:1b","max_tokens":5,"messages":[{"role":"user","content":"x"}]}')
case "$b" in *'"type":"authentication_error"'*' 401') ok 0 "messages without the key: 401 authentication_error" ;; *) ok 1 "messages without the key: 401 ($b)" ;; esac

done_testing
