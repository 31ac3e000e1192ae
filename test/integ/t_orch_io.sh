#!/bin/sh
# Orchestration (issue 18): what the caller asked for reaches the steps, end to end through
# redis-server, a router with its HTTP front, two workers and ollama-sims whose models differ
# in what they can do (gemma3:1b: no tools, no thinking, no vision; llama3.2:1b: tools;
# gemma3:4b: vision; think:1b: thinking). format and tools go to the steps whose text can be
# the answer (the final answer follows the caller's schema; a draft on a model without tools
# is not sent them, a final stage on one is); think and images go to every step (a critic on a
# model that cannot think, or cannot see, fails: the answer is partial). A client that goes
# away cancels the run's running step and ends the run. The knobs' INFERENCE_* names are read.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
SIM="--load-ms 50 --tokens-per-s 200 --num-parallel 2"
start_sim a --models 'gemma3:1b,think:1b+caps=completion/thinking,small:1b+ctx=400' $SIM
start_sim b --models 'llama3.2:1b,gemma3:4b' $SIM
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
HP=$(free_port)
URL=http://127.0.0.1:$HP
# the seed's names of the knobs: one critique round, a threshold the sim's 0.9 does not reach
INFERENCE_CRITIQUE_MAX_ROUNDS=1 INFERENCE_CRITIQUE_THRESHOLD=0.95 \
    start_router --http-listen 127.0.0.1:$HP --router-id r1
wait_for 10 curl -sf "$URL/api/version"
two() { [ "$(curl -s "$URL/backends" | grep -o '"eligible":true' | wc -l)" -ge 2 ]; }
wait_for 20 two
ok $? "two nodes eligible"
P='"options":{"num_predict":20},"stream":false'
SCHEMA='{"type":"object","properties":{"city":{"type":"string"},"pop":{"type":"integer"}},"required":["city","pop"]}'
IMG=iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==

# 1. format (a JSON schema) over /api/chat: the synthesis answers in it
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"ensemble\",\"models\":[\"gemma3:1b\",\"llama3.2:1b\"],\"format\":$SCHEMA,\"messages\":[{\"role\":\"user\",\"content\":\"Biggest city?\"}],$P}")
content=$(printf '%s' "$out" | jq -r '.message.content' 2>/dev/null)
check "format: the ensemble's answer follows the caller's schema ($content)" \
    sh -c "printf '%s' '$content' | jq -e '(.city | type) == \"string\" and (.pop | type) == \"number\"'"
is "$(printf '%s' "$out" | jq -r '[.orchestration.steps[] | .kind + "/" + .status] | join(" ")' 2>/dev/null)" \
    "leg/ok leg/ok synthesize/ok" "format: the legs and the synthesis ran"

# 1b. the same over Redis: a P:requests entry's format field, the answer on its callback
rcli XADD orion:inference:requests '*' request_id fmt1 model auto orchestration_mode debate \
    models '["gemma3:1b","llama3.2:1b"]' prompt 'Biggest city?' format "$SCHEMA" \
    options '{"num_predict":20}' callback cb:fmt1 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:fmt1) -ge 1 ]"
content=$(answer_field cb:fmt1 response)
check "format over Redis: the debate's reconciled answer follows the schema ($content)" \
    sh -c "printf '%s' '$content' | jq -e '(.city | type) == \"string\" and (.pop | type) == \"number\"'"

# 2. response_format json_schema over /v1/chat/completions: critique's generator answers in it
out=$(curl -s "$URL/v1/chat/completions" -d "{\"model\":\"auto\",\"orchestration_mode\":\"critique\",\"models\":[\"llama3.2:1b\",\"gemma3:1b\"],\"max_tokens\":20,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"c\",\"schema\":$SCHEMA}},\"messages\":[{\"role\":\"user\",\"content\":\"Biggest city? [[sim:score=0.9]]\"}]}")
content=$(printf '%s' "$out" | jq -r '.choices[0].message.content' 2>/dev/null)
check "response_format: critique's answer follows the caller's schema ($content)" \
    sh -c "printf '%s' '$content' | jq -e '(.city | type) == \"string\" and (.pop | type) == \"number\"'"
is "$(printf '%s' "$out" | jq -r '.orchestration.confidence' 2>/dev/null)" 0.9 \
    "response_format: the critic still gave its own verdict (0.9)"
is "$(printf '%s' "$out" | jq -r '"\(.orchestration.threshold) \(.orchestration.rounds) " + ([.orchestration.steps[].kind] | join(" "))' 2>/dev/null)" \
    "0.95 1 generate critic revise" \
    "INFERENCE_CRITIQUE_THRESHOLD 0.95, INFERENCE_CRITIQUE_MAX_ROUNDS 1: one round, then the revision answers"

# 3. tools go to the answering step only: a draft on a model without tools is not sent them ...
TOOLS='"tools":[{"type":"function","function":{"name":"get_weather","description":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]'
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"pipeline\",\"models\":[\"gemma3:1b\",\"llama3.2:1b\"],$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}],$P}")
is "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.completed_steps)"' 2>/dev/null)" "stop 3" \
    "tools: a pipeline whose last stage can use tools completes (the draft on gemma3:1b got none)"
# ... and a final stage on a model without tools is: it fails, the answer is partial
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"pipeline\",\"models\":[\"llama3.2:1b\",\"gemma3:1b\"],$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}],$P}")
case "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.error)"' 2>/dev/null)" in
"partial "*"does not support tools"*) ok 0 "tools: the final stage on gemma3:1b was sent them (partial)" ;;
*) ok 1 "tools: the final stage on gemma3:1b was sent them (partial): $out" ;; esac

# 4. think goes to every step: a critic that cannot think fails ...
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"critique\",\"models\":[\"think:1b\",\"gemma3:1b\"],\"think\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Why? [[sim:score=0.9]]\"}],$P}")
case "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.error)"' 2>/dev/null)" in
"partial "*"does not support thinking"*) ok 0 "think: the critic on gemma3:1b was asked to think (partial)" ;;
*) ok 1 "think: the critic on gemma3:1b was asked to think (partial): $out" ;; esac
# ... while models that can think complete the run
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"critique\",\"models\":[\"think:1b\",\"think:1b\"],\"think\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Why? [[sim:score=0.9]]\"}],$P}")
is "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.completed_steps)"' 2>/dev/null)" "stop 3" \
    "think: generator, critic and reviser that can think complete"

# 5. images go to every step: the critic sees the caller's image (/api/generate's images) ...
out=$(curl -s "$URL/api/generate" -d "{\"model\":\"auto\",\"orchestration_mode\":\"critique\",\"models\":[\"gemma3:4b\",\"gemma3:1b\"],\"images\":[\"$IMG\"],\"prompt\":\"What is this? [[sim:score=0.9]]\",\"timeout\":10,$P}")
case "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.error)"' 2>/dev/null)" in
"partial "*"image input is not supported"*) ok 0 "images: a critic that cannot see was sent the image (partial)" ;;
*) ok 1 "images: a critic that cannot see was sent the image (partial): $out" ;; esac
out=$(curl -s "$URL/api/generate" -d "{\"model\":\"auto\",\"orchestration_mode\":\"critique\",\"models\":[\"gemma3:4b\",\"gemma3:4b\"],\"images\":[\"$IMG\"],\"prompt\":\"What is this? [[sim:score=0.9]]\",$P}")
is "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.completed_steps)"' 2>/dev/null)" "stop 3" \
    "images: a vision generator, critic and reviser complete"
# ... and from the last user message of a chat
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"critique\",\"models\":[\"gemma3:4b\",\"gemma3:1b\"],\"timeout\":10,\"messages\":[{\"role\":\"user\",\"content\":\"What is this? [[sim:score=0.9]]\",\"images\":[\"$IMG\"]}],$P}")
case "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.error)"' 2>/dev/null)" in
"partial "*"image input is not supported"*) ok 0 "images: a chat's image reaches the critic too (partial)" ;;
*) ok 1 "images: a chat's image reaches the critic too (partial): $out" ;; esac

# 6. the client goes away mid-run: the step running is canceled (P:cancel:{id}.s0.t1, set by the
# router as it drops the run)
LONG=$(printf 'word %.0s' $(seq 1000)) # 1000 tokens at 200/s: 5 s
curl -s -m 1 "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"pipeline\",\"models\":[\"llama3.2:1b\",\"gemma3:1b\"],\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"[[sim:reply=$LONG]]\"}]}" >/dev/null
gone_key() { redis-cli -p "$REDIS_PORT" --scan --pattern 'orion:inference:cancel:gw-*.s0.t1' | grep -q .; }
wait_for 10 gone_key
ok $? "disconnect: the running step is canceled"
check "disconnect: the router says so" grep -q "canceled by its caller\|the client went away" "$T_TMP"/router-*.log

# 8. the context budget: the draft (an earlier message's marker makes it 500 words) does not
# fit small:1b's 400-token context, so the fast model (the role, as the router resolves it)
# compresses the handoff before the refine stage is sent; a handoff that stays too long (the
# goal itself is 500 words, and the compressor, seeing the marker, answers 500 words again)
# ends after 3 compressions with CONTEXT_BUDGET_EXCEEDED
LONG=$(printf 'word %.0s' $(seq 500))
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"pipeline\",\"models\":[\"gemma3:1b\",\"small:1b\"],\"messages\":[{\"role\":\"user\",\"content\":\"Write. [[sim:reply=$LONG]]\"},{\"role\":\"assistant\",\"content\":\"Done.\"},{\"role\":\"user\",\"content\":\"Now improve it.\"}],\"stream\":false}")
is "$(printf '%s' "$out" | jq -r '"\(.done_reason) " + ([.orchestration.steps[] | .kind + "/" + (if .kind == "compress" then "fast" else .model end) + "/" + .status] | join(" ")) + " \(.inference_metadata.compression_applied)"' 2>/dev/null)" \
    "stop stage/gemma3:1b/ok stage/small:1b/ok compress/fast/ok stage/small:1b/ok true" \
    "context budget: the handoff compressed by the fast model before refine, then the run completes"
out=$(curl -s -w ' %{http_code}' "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"pipeline\",\"models\":[\"gemma3:1b\",\"small:1b\"],\"messages\":[{\"role\":\"user\",\"content\":\"Write. [[sim:reply=$LONG]]\"}],\"stream\":false}")
case "$out" in *'"code":"CONTEXT_BUDGET_EXCEEDED"'*'after 3 compressions'*' 400') ok 0 "context budget: 3 compressions, then CONTEXT_BUDGET_EXCEEDED (400)" ;;
*) ok 1 "context budget: 3 compressions, then CONTEXT_BUDGET_EXCEEDED (400): $(printf '%s' "$out" | cut -c1-600)" ;; esac
# ... and with roles (no models list): each debate leg's prompt (an earlier message's 400-word
# marker) fits the
# caller's num_ctx 700, but the reconciler's handoff (both legs' 400 words) fits no model at
# that size, so it is compressed (without the caller's options) before it is sent
DRAFT=$(printf 'word %.0s' $(seq 400))
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"debate\",\"options\":{\"num_ctx\":700},\"messages\":[{\"role\":\"user\",\"content\":\"Say it. [[sim:reply=$DRAFT]]\"},{\"role\":\"assistant\",\"content\":\"Done.\"},{\"role\":\"user\",\"content\":\"Again.\"}],\"stream\":false}")
is "$(printf '%s' "$out" | jq -r '"\(.done_reason) " + ([.orchestration.steps[] | .kind + "/" + .requested + "/" + .status] | join(" "))' 2>/dev/null)" \
    "stop leg/primary/ok leg/thinker/ok reconcile/primary/ok compress/fast/ok" \
    "context budget with roles: the reconciler's handoff compressed before it is sent: $(printf "%s" "$out" | cut -c1-300)"

# 7. the seed's INFERENCE_* names of every knob, and ORION_* winning over them
env INFERENCE_CRITIQUE_MAX_ROUNDS=4 INFERENCE_CRITIQUE_THRESHOLD=0.6 INFERENCE_DEBATE_MAX_ROUNDS=5 \
    INFERENCE_DEBATE_RECONCILE_MODEL=thinker INFERENCE_ENSEMBLE_MIN_AGREEMENT=0.5 \
    INFERENCE_ENSEMBLE_SYNTHESIS_MODEL=fast INFERENCE_PIPELINE_STAGES=draft,validate \
    ORION_DEBATE_MAX_ROUNDS=6 "$ORION_BIN/orion-inference-router" --check-config >"$T_TMP/conf" 2>&1
is "$(grep -E '^(critique|debate|ensemble|pipeline)' "$T_TMP/conf" | tr '\n' ' ')" \
    "critique-max-rounds=4 critique-threshold=0.6 debate-max-rounds=6 debate-reconcile-model=thinker ensemble-min-agreement=0.5 ensemble-synthesis-model=fast pipeline-stages=draft,validate " \
    "INFERENCE_* knobs are read; ORION_DEBATE_MAX_ROUNDS wins over INFERENCE_DEBATE_MAX_ROUNDS"

done_testing
