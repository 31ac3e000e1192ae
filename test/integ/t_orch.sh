#!/bin/sh
# Orchestration (issue 18) end to end through redis-server, a router with its HTTP front, three
# workers and ollama-sims, each sim holding a different model so that every step shows where it
# ran: debate and ensemble legs running at the same time on different nodes; critique stopping
# at the threshold (the sim's [[sim:score=X]] steers the critic's structured output) or going
# the full rounds; the pipeline's stages in order; a failed leg left out; a failed stage giving
# a partial answer; no usable answer giving the error schema; a bad mode refused; a run's
# caller canceling it; a router killed between steps and restarted, answering once; the active
# preset's mode as the default of requests that leave the model to the router.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
SIM="--load-ms 100 --tokens-per-s 50 --num-parallel 2"
start_sim a --models gemma3:1b $SIM
start_sim b --models llama3.2:1b $SIM
start_sim c --models qwen2.5:0.5b $SIM
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
start_worker pi-c "$SIM_URL_c" "$SIM_ROOT_c"
HP=$(free_port)
URL=http://127.0.0.1:$HP
cat >"$T_TMP/presets.json" <<'JSON'
{"presets": {"T-DEBATE": {"models": ["gemma3:1b", "llama3.2:1b"], "mode": "debate"}}}
JSON
RFLAGS="--http-listen 127.0.0.1:$HP --router-id r1 --debate-max-rounds 2 --presets $T_TMP/presets.json"
start_router $RFLAGS
wait_for 10 curl -sf "$URL/api/version"
three() { [ "$(curl -s "$URL/backends" | grep -o '"eligible":true' | wc -l)" -ge 3 ]; }
wait_for 20 three
ok $? "three nodes eligible"

# steps <json>: one line per step of the answer's orchestration: kind node status started_ms ms
steps() {
    printf '%s' "$1" | sed 's/.*"steps":\[//' | tr '{' '\n' | awk -F'"kind":"' 'NF > 1 {
        split($2, k, "\""); kind = k[1]
        node = $0; sub(/.*"node":"/, "", node); sub(/".*/, "", node); if (node == "") node = "-"
        st = $0; sub(/.*"status":"/, "", st); sub(/".*/, "", st)
        s = $0; sub(/.*"started_ms":/, "", s); sub(/[,}].*/, "", s)
        m = $0; sub(/.*"ms":/, "", m); sub(/[,}].*/, "", m)
        print kind, node, st, s, m }'
}
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\\([^,}]*\\).*/\\1/p" | head -1; }
# overlap <steps file> <kind>: the first two steps of that kind ran at the same time
overlap() {
    awk -v k="$2" '$1 == k { n++; s[n] = $4; e[n] = $4 + $5 } END {
        exit !(n >= 2 && s[2] < e[1] && s[1] < e[2]) }' "$1"
}
P='"options":{"num_predict":25},"stream":false'

# 1. debate over /api/chat: two legs at once on two nodes, a second round, the reconciler
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"debate\",\"models\":[\"gemma3:1b\",\"llama3.2:1b\"],\"messages\":[{\"role\":\"user\",\"content\":\"Is tea better than coffee?\"}],$P}")
steps "$out" >"$T_TMP/debate"
case "$out" in *'"message":{"role":"assistant","content":"'?*'"done":true'*) ok 0 "debate: answered" ;;
*) ok 1 "debate: answered: $out" ;; esac
is "$(awk '{print $1}' "$T_TMP/debate" | tr '\n' ' ')" "leg leg leg leg reconcile " "debate: 2 rounds of 2 legs (they disagree), then the reconciler"
is "$(awk '$1 == "leg" {print $2}' "$T_TMP/debate" | sort -u | tr '\n' ' ')" "pi-a pi-b " "debate: the legs ran on two nodes"
overlap "$T_TMP/debate" leg
ok $? "debate: the legs of round 1 ran at the same time ($(awk '$1 == "leg" {printf "%s+%s ", $4, $5}' "$T_TMP/debate")ms)"
wall=$(field "$out" wall_ms)
sum=$(field "$out" steps_ms)
ok "$(awk -v w="$wall" -v s="$sum" 'BEGIN { print !(w > 0 && w < s) }')" "debate: wall time $wall ms < the steps' sum $sum ms"
is "$(field "$out" rounds)" 2 "debate: rounds 2"
case "$(field "$out" agreement)" in 0.*|0) ok 0 "debate: agreement measured ($(field "$out" agreement))" ;;
*) ok 1 "debate: agreement measured: $out" ;; esac
case "$out" in *'"inference_metadata":{"config":null,"orchestration_mode":"debate","models_used":["'*'"handoff_steps":3,'*) ok 0 "debate: inference_metadata says what ran" ;;
*) ok 1 "debate: inference_metadata says what ran: $out" ;; esac

# 1b. the same streamed: each step's end shows as progress the clients skip, then the answer
curl -s -N "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"debate\",\"models\":[\"gemma3:1b\",\"llama3.2:1b\"],\"messages\":[{\"role\":\"user\",\"content\":\"Tea?\"}],\"options\":{\"num_predict\":25}}" >"$T_TMP/nd"
is "$(grep -c '"content":""},"done":false,"orchestration_progress":{"mode":"debate","step":' "$T_TMP/nd")" 5 "streamed /api/chat: 5 progress lines (an empty piece each), one a step"
case "$(tail -1 "$T_TMP/nd")" in *'"done":true'*'"orchestration":{"mode":"debate"'*) ok 0 "... then the report in the last line" ;;
*) ok 1 "... then the report in the last line: $(tail -1 "$T_TMP/nd")" ;; esac
curl -s -N "$URL/v1/chat/completions" -d '{"model":"auto","orchestration_mode":"ensemble","models":["gemma3:1b","llama3.2:1b"],"stream":true,"max_tokens":25,"messages":[{"role":"user","content":"Tea?"}]}' >"$T_TMP/sse"
is "$(grep -c '^: orchestration_progress {"mode":"ensemble"' "$T_TMP/sse")" 3 "streamed /v1/chat/completions: 3 progress comments (SSE comments: clients skip them)"
check "... then the text in data chunks and [DONE]" sh -c "grep -q '^data: {.*\"content\":\"[^\"]' $T_TMP/sse && tail -2 $T_TMP/sse | grep -qx 'data: \[DONE\]'"

# 1c. the final step's tokens stream as they come (a 3-stage pipeline, its last stage 25 tokens
# at 50 tokens/s): several content pieces, all before that step's progress line (so while it
# ran, not after), their text the non-streamed answer's; the report in the last line
# stamp: each line of stdin after the ms since the epoch it arrived at
stamp() { while IFS= read -r l; do printf '%s %s\n' "$(date +%s%3N)" "$l"; done; }
PIPE='"model":"auto","orchestration_mode":"pipeline","models":["gemma3:1b","llama3.2:1b"]'
want=$(curl -s "$URL/api/chat" -d "{$PIPE,\"messages\":[{\"role\":\"user\",\"content\":\"Tea facts?\"}],$P}" | jq -r .message.content)
curl -s -N "$URL/api/chat" -d "{$PIPE,\"messages\":[{\"role\":\"user\",\"content\":\"Tea facts?\"}],\"options\":{\"num_predict\":25}}" | stamp >"$T_TMP/nd2"
cut -d' ' -f2- "$T_TMP/nd2" >"$T_TMP/nd2.json"
# pieces: line numbers of the content pieces (done false, text, no progress); last: step 3's end
pieces=$(jq -c 'select(.done == false and .orchestration_progress == null and .message.content != "") | input_line_number' "$T_TMP/nd2.json" | tr '\n' ' ')
last=$(jq -c 'select(.orchestration_progress.step == 3) | input_line_number' "$T_TMP/nd2.json")
n=$(echo $pieces | wc -w)
ok "$([ "$n" -gt 1 ] && echo 0 || echo 1)" "streamed pipeline /api/chat: the final step's text in $n pieces (more than one)"
ok "$(awk -v l="${last:-0}" -v p="$pieces" 'BEGIN { n = split(p, a, " "); print !(n > 1 && l > a[n]) }')" "... every piece before the final step's progress line ($last), so while it ran"
t1=$(awk -v k="$(echo $pieces | cut -d' ' -f1)" 'NR == k { print $1 }' "$T_TMP/nd2")
t2=$(tail -1 "$T_TMP/nd2" | cut -d' ' -f1)
ok "$([ -n "$t1" ] && [ $((t2 - t1)) -ge 150 ] && echo 0 || echo 1)" "... the first piece $((t2 - ${t1:-t2})) ms before the last line (>= 150: 25 tokens at 50/s)"
is "$(jq -j 'select(.done == false) | .message.content' "$T_TMP/nd2.json")" "$want" "... the pieces make the non-streamed answer's text"
is "$(tail -1 "$T_TMP/nd2.json" | jq -c '[.done, .done_reason, .message.content, .orchestration.mode, .orchestration.total_steps, .inference_metadata.orchestration_mode]')" \
    '[true,"stop","","pipeline",3,"pipeline"]' "... the last line: done, its text streamed already, the report"
# the same over OpenAI's SSE: data chunks with the text before the final step's progress comment,
# the report on the last chunk before [DONE]
curl -s -N "$URL/v1/chat/completions" -d "{$PIPE,\"stream\":true,\"max_tokens\":25,\"messages\":[{\"role\":\"user\",\"content\":\"Tea facts?\"}]}" >"$T_TMP/sse2"
cl=$(grep -n '^: orchestration_progress {"mode":"pipeline","step":3,' "$T_TMP/sse2" | cut -d: -f1)
n=$(head -n "${cl:-0}" "$T_TMP/sse2" | grep -c '^data: {.*"delta":{[^}]*"content":"[^"]')
ok "$([ "$n" -gt 1 ] && echo 0 || echo 1)" "streamed pipeline /v1/chat/completions: $n data chunks of text before the final step's progress comment"
is "$(sed -n 's/^data: {/{/p' "$T_TMP/sse2" | jq -j '.choices[0].delta.content // empty')" "$want" "... their text is the non-streamed answer's"
is "$(grep '^data: {' "$T_TMP/sse2" | tail -1 | sed 's/^data: //' | jq -c '[.choices[0].finish_reason, .orchestration.mode, .inference_metadata.orchestration_mode]')" \
    '["stop","pipeline","pipeline"]' "... the last chunk before [DONE] carries finish_reason and the report"
# ... and over /v1/completions: text chunks, the report on the finishing chunk
curl -s -N "$URL/v1/completions" -d "{$PIPE,\"stream\":true,\"max_tokens\":25,\"prompt\":\"Tea facts?\"}" >"$T_TMP/sse3"
cl=$(grep -n '^: orchestration_progress {"mode":"pipeline","step":3,' "$T_TMP/sse3" | cut -d: -f1)
n=$(head -n "${cl:-0}" "$T_TMP/sse3" | grep -c '^data: {.*"text":"[^"]')
ok "$([ "$n" -gt 1 ] && echo 0 || echo 1)" "streamed pipeline /v1/completions: $n text chunks before the final step's progress comment"
is "$(grep '^data: {' "$T_TMP/sse3" | tail -1 | sed 's/^data: //' | jq -c '[.choices[0].finish_reason, .orchestration.mode, .inference_metadata.orchestration_mode]')" \
    '["stop","pipeline","pipeline"]' "... the finishing chunk carries the report"
# over Redis: a P:requests entry with stream set gets the chunks on its callback, then one answer
rcli XADD orion:inference:requests '*' request_id str1 model auto orchestration_mode pipeline \
    models '["gemma3:1b","llama3.2:1b"]' messages '[{"role":"user","content":"Tea facts?"}]' \
    options '{"num_predict":25}' stream true callback cb:str1 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT --raw XRANGE cb:str1 - + | grep -cx done) -ge 1 ]"
rcli --raw XRANGE cb:str1 - + >"$T_TMP/str1"
n=$(awk 'prev == "type" && $0 == "chunk" { n++ } prev == "type" && $0 == "progress" { p = n } { prev = $0 } END { print n + 0 " " p + 0 }' "$T_TMP/str1")
ok "$(echo $n | awk '{ print !($1 > 1 && $1 == $2) }')" "over Redis: chunk entries, all before the final step's progress entry (chunks, before: $n)"
is "$(awk 'prev == "delta" { printf "%s", $0 } { prev = $0 }' "$T_TMP/str1")" "$(answer_field cb:str1 response)" "... their deltas make the answer's response"
is "$(answer_field cb:str1 response)" "$want" "... which is the non-streamed answer's"
is "$(answers cb:str1)" 1 "... and one answer"

# 1d. the saga rule while the final step streams: the synthesis (200 words at 50 tokens/s) is
# canceled after its first chunks; its progress entry (failed) follows them, then the partial answer's text (the last
# leg's) as one chunk, then the one answer, partial
LONG=$(seq 1 200 | sed 's/^/word/' | tr '\n' ' ')
rcli XADD orion:inference:requests '*' request_id part1 model auto orchestration_mode ensemble \
    models '["gemma3:1b","llama3.2:1b"]' prompt "Tea? [[sim:reply=$LONG]]" \
    options '{"num_predict":250}' stream true callback cb:part1 >/dev/null
wait_for 30 sh -c "redis-cli -p $REDIS_PORT --raw XRANGE cb:part1 - + | grep -qx chunk"
rcli SET orion:inference:cancel:part1.s2.t1 1 EX 600 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT --raw XRANGE cb:part1 - + | grep -cx done) -ge 1 ]"
rcli --raw XRANGE cb:part1 - + >"$T_TMP/part1"
seq=$(awk 'prev == "type" { printf "%s ", $0 } { prev = $0 }' "$T_TMP/part1")
case "$seq" in "progress progress chunk "*"chunk progress chunk done ") ok 0 "streamed partial: legs, synthesis chunks, its failed progress, one chunk, the answer" ;;
*) ok 1 "streamed partial: legs, synthesis chunks, its failed progress, one chunk, the answer: $seq" ;; esac
case "$(awk 'prev == "progress" { p = $0 } { prev = $0 } END { print p }' "$T_TMP/part1")" in *'"step":3,'*'"status":"failed"'*) ok 0 "... the synthesis's progress says failed" ;;
*) ok 1 "... the synthesis's progress says failed: $(cat "$T_TMP/part1")" ;; esac
is "$(answer_field cb:part1 done_reason)" partial "... the answer is partial (the saga rule)"
is "$(awk 'prev == "delta" { d = $0 } { prev = $0 } END { print d }' "$T_TMP/part1")" "$(answer_field cb:part1 response)" "... the last chunk is the partial answer's text"
case "$(answer_field cb:part1 orchestration)" in *'"partial":true,"completed_steps":2,'*) ok 0 "... orchestration.partial, 2 steps completed" ;;
*) ok 1 "... orchestration.partial, 2 steps completed: $(answer_field cb:part1 orchestration)" ;; esac

# 1e. a streamed run canceled by its caller while its final step streams: answered canceled
# once, after the chunks already relayed; the step is canceled too
rcli XADD orion:inference:requests '*' request_id can2 model auto orchestration_mode ensemble \
    models '["gemma3:1b","llama3.2:1b"]' prompt "Tea? [[sim:reply=$LONG]]" \
    options '{"num_predict":250}' stream true callback cb:can2 >/dev/null
wait_for 30 sh -c "redis-cli -p $REDIS_PORT --raw XRANGE cb:can2 - + | grep -qx chunk"
rcli SET orion:inference:cancel:can2 1 EX 600 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:can2) -ge 1 ] && redis-cli -p $REDIS_PORT --raw XRANGE cb:can2 - + | grep -qx error"
is "$(answer_field cb:can2 code)" canceled "streamed cancel: the run is answered canceled"
is "$(answers cb:can2)" 1 "... once"
is "$(rcli --raw XRANGE cb:can2 - + | awk 'prev == "type" { t = $0 } { prev = $0 } END { print t }')" error "... after the chunks relayed before"
wait_for 10 sh -c "[ \$(redis-cli -p $REDIS_PORT EXISTS orion:inference:cancel:can2.s2.t1) = 1 ]"
ok $? "... and its streaming step is canceled too"

# 2. critique over Redis: the critic's verdict 0.9 reaches the threshold after one round
rcli XADD orion:inference:requests '*' request_id crit1 model auto orchestration_mode critique \
    models '["gemma3:1b","llama3.2:1b"]' prompt 'Name a prime. [[sim:score=0.9]]' \
    options '{"num_predict":25}' callback cb:crit1 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:crit1) -ge 1 ]"
is "$(answer_field cb:crit1 status)" ok "critique: answered ok"
o=$(answer_field cb:crit1 orchestration)
steps "$o" >"$T_TMP/crit1"
is "$(awk '{print $1 "@" $2}' "$T_TMP/crit1" | tr '\n' ' ')" "generate@pi-a critic@pi-b " "critique: generator on pi-a, critic on pi-b, then stopped"
is "$(field "$o" confidence)" 0.9 "critique: confidence is the verdict's score 0.9"
is "$(answer_field cb:crit1 done_reason)" stop "critique: done_reason stop"
is "$(answers cb:crit1)" 1 "critique: one answer on the callback"
is "$(rcli --raw XRANGE cb:crit1 - + | grep -cx progress)" 0 "critique: no progress entries for a request without stream"
is "$(rcli EXISTS orion:inference:orch:crit1)" 0 "critique: the steps' callback is deleted"

# 3. critique below the threshold: two rounds of critic and revision
rcli XADD orion:inference:requests '*' request_id crit2 model auto orchestration_mode critique \
    models '["gemma3:1b","llama3.2:1b"]' prompt 'Name a prime. [[sim:score=0.3]]' \
    options '{"num_predict":25}' callback cb:crit2 >/dev/null
wait_for 40 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:crit2) -ge 1 ]"
o=$(answer_field cb:crit2 orchestration)
is "$(steps "$o" | awk '{print $1}' | tr '\n' ' ')" "generate critic revise critic revise " "critique: score 0.3 runs both rounds"
is "$(field "$o" rounds)" 2 "critique: rounds 2"

# 4. ensemble over /v1/chat/completions: three legs on three nodes at once, then the synthesis
out=$(curl -s "$URL/v1/chat/completions" -d '{"model":"auto","orchestration_mode":"ensemble","models":["gemma3:1b","llama3.2:1b","qwen2.5:0.5b"],"max_tokens":25,"messages":[{"role":"user","content":"Say hi"}]}')
steps "$out" >"$T_TMP/ens"
case "$out" in *'"object":"chat.completion"'*'"finish_reason":"stop"'*) ok 0 "ensemble: a chat.completion" ;;
*) ok 1 "ensemble: a chat.completion: $out" ;; esac
is "$(awk '$1 == "leg" {print $2}' "$T_TMP/ens" | sort | tr '\n' ' ')" "pi-a pi-b pi-c " "ensemble: a leg on each node"
is "$(awk '{print $1}' "$T_TMP/ens" | tail -1)" synthesize "ensemble: the synthesizer answers"
overlap "$T_TMP/ens" leg
ok $? "ensemble: the legs ran at the same time"

# 5. pipeline: the stages follow the list
out=$(curl -s "$URL/api/generate" -d "{\"model\":\"auto\",\"orchestration_mode\":\"pipeline\",\"models\":[\"qwen2.5:0.5b\",\"llama3.2:1b\",\"gemma3:1b\"],\"prompt\":\"Write a haiku\",$P}")
is "$(steps "$out" | awk '{print $1 "@" $2}' | tr '\n' ' ')" "stage@pi-c stage@pi-b stage@pi-a " "pipeline: draft, refine, validate on the list's models"
case "$out" in *'"response":"'?*'"done_reason":"stop"'*) ok 0 "pipeline: a generate answer" ;;
*) ok 1 "pipeline: a generate answer: $out" ;; esac

# 6. a failed leg: the model is on no node; the ensemble goes on with the others
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"ensemble\",\"models\":[\"gemma3:1b\",\"nosuch:1b\",\"llama3.2:1b\"],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"timeout\":5,$P}")
steps "$out" >"$T_TMP/fail"
is "$(awk '$1 == "leg" {print $3}' "$T_TMP/fail" | tr '\n' ' ')" "ok failed ok " "failed leg: marked failed, the others ok"
is "$(awk '{print $1 "/" $3}' "$T_TMP/fail" | tail -1)" synthesize/ok "failed leg: synthesized from the rest"
case "$out" in *'"partial":false'*'"error":"step 2 (leg, nosuch:1b) failed'*) ok 0 "failed leg: the answer says which step failed" ;;
*) ok 1 "failed leg: the answer says which step failed: $out" ;; esac

# 7. a stage that fails for good: the last usable text comes back, partial
out=$(curl -s "$URL/v1/chat/completions" -d '{"model":"auto","orchestration_mode":"pipeline","models":["gemma3:1b","nosuch:1b","llama3.2:1b"],"max_tokens":25,"timeout":5,"messages":[{"role":"user","content":"hi"}]}')
case "$out" in *'"content":"'?*'"finish_reason":"partial"'*'"partial":true,"completed_steps":1,"total_steps":3'*) ok 0 "saga: partial answer with the draft, 1 of 3 steps" ;;
*) ok 1 "saga: partial answer with the draft: $out" ;; esac

# 8. no usable answer: the error schema of the failed steps
out=$(curl -s -w ' %{http_code}' "$URL/v1/chat/completions" -d '{"model":"auto","orchestration_mode":"debate","models":["nosuch:1b","nosuch2:1b"],"timeout":5,"messages":[{"role":"user","content":"hi"}]}')
case "$out" in *'"code":"ORCHESTRATION_FAILED"'*) ok 0 "every leg failed: code ORCHESTRATION_FAILED" ;;
*) ok 1 "every leg failed: code ORCHESTRATION_FAILED: $out" ;; esac
case "$out" in *'"type":"non_retriable"'*'"details":{"mode":"debate"'*'"completed_steps":0'*' 502') ok 0 "... non_retriable, its details the orchestration, 502" ;;
*) ok 1 "... non_retriable, its details the orchestration, 502: $out" ;; esac

# 8b. contamination: every answer is a stack trace; the draft is quarantined, asked again with
# fresh context, contaminated again: the run ends with nothing clean to give
rcli XADD orion:inference:requests '*' request_id dirty1 model auto orchestration_mode pipeline \
    models '["gemma3:1b","llama3.2:1b"]' prompt 'x [[sim:reply=Traceback (most recent call last): Error: boom]]' \
    callback cb:dirty1 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:dirty1) -ge 1 ]"
is "$(answer_field cb:dirty1 code)" orchestration_failed "contamination: orchestration_failed"
o=$(answer_field cb:dirty1 orchestration)
case "$o" in *'"error":"step 1 (stage, gemma3:1b) contaminated: 2 marker(s)'*'"quarantined_steps":1'*'"status":"failed","tries":2,"markers":2,"quarantined":true'*) ok 0 "... the draft quarantined once, then given up, the report says why" ;;
*) ok 1 "... the draft quarantined once, then given up, the report says why: $o" ;; esac

# 9. a bad mode is a bad request
rcli XADD orion:inference:requests '*' model auto orchestration_mode chorus prompt x callback cb:bad >/dev/null
wait_for 10 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:bad) -ge 1 ]"
is "$(answer_field cb:bad code)" bad_request "orchestration_mode chorus: bad_request"
rcli XADD orion:inference:requests '*' model auto orchestration_mode debate models '["a", 3]' prompt x callback cb:bad2 >/dev/null
wait_for 10 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:bad2) -ge 1 ]"
is "$(answer_field cb:bad2 code)" bad_request "models with a number: bad_request"

# 10. cancel: the run is answered canceled, the steps running then canceled too
rcli XADD orion:inference:requests '*' request_id can1 model auto orchestration_mode debate \
    models '["gemma3:1b","llama3.2:1b"]' prompt 'long' options '{"num_predict":400}' callback cb:can1 >/dev/null
wait_for 10 sh -c "redis-cli -p $REDIS_PORT XRANGE orion:inference:events - + | grep -q can1.s1.t1"
rcli SET orion:inference:cancel:can1 1 EX 600 >/dev/null
wait_for 10 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:can1) -ge 1 ]"
is "$(answer_field cb:can1 code)" canceled "cancel: the run is answered canceled"
wait_for 10 sh -c "redis-cli -p $REDIS_PORT --scan --pattern 'orion:inference:cancel:can1.s*' | grep -q ."
r=$?
ok $r "cancel: its running legs are canceled too"
[ $r = 0 ] || grep -h can1 "$T_TMP"/*.log | sed 's/^/# /'

# 11. durability: the router dies after the generator answered; restarted, it resumes
rcli XADD orion:inference:requests '*' request_id dur1 model auto orchestration_mode critique \
    models '["gemma3:1b","llama3.2:1b"]' prompt 'Name a prime. [[sim:score=0.9]]' \
    options '{"num_predict":60}' callback cb:dur1 >/dev/null
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN orion:inference:orch:dur1) -ge 1 ]"
kill -9 "$ROUTER_PID"
wait_for 10 gone "$ROUTER_PID"
is "$(rcli XLEN cb:dur1)" 0 "durability: killed between steps, before the answer"
start_router $RFLAGS
wait_for 40 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN cb:dur1) -ge 1 ]"
is "$(answer_field cb:dur1 status)" ok "durability: the restarted router answered"
is "$(answers cb:dur1)" 1 "durability: exactly one answer"
o=$(answer_field cb:dur1 orchestration)
is "$(steps "$o" | awk '{print $1 "/" $3}' | tr '\n' ' ')" "generate/ok critic/ok " "durability: the run resumed: generate and critic"
is "$(rcli --raw XRANGE orion:inference:events - + | awk 'prev == "type" { t = $0 } prev == "request_id" && $0 == "dur1.s0.t1" && t == "done" { n++ } { prev = $0 } END { print n + 0 }')" 1 "durability: the generator ran once (one done event)"
# 12. the active preset's mode is the default of a request with model auto and no task_type
out=$(curl -s "$URL/v1/config" -d '{"config":"T-DEBATE"}')
case "$out" in *'"orchestration_mode":"debate"'*) ok 0 "preset T-DEBATE active, mode debate" ;;
*) ok 1 "preset T-DEBATE active, mode debate: $out" ;; esac
out=$(curl -s "$URL/api/generate" -d "{\"model\":\"auto\",\"prompt\":\"tea or coffee\",$P}")
is "$(steps "$out" | awk '{print $1}' | tr '\n' ' ')" "leg leg leg leg reconcile " "preset mode: model auto runs a debate of the preset's two models"
case "$out" in *'"config":"T-DEBATE"'*) ok 0 "... inference_metadata names the preset" ;;
*) ok 1 "... inference_metadata names the preset: $out" ;; esac
for body in '"model":"gemma3:1b"' '"model":"auto","task_type":"code"' '"model":"thinker"'; do
    out=$(curl -s "$URL/api/generate" -d "{$body,\"prompt\":\"tea or coffee\",$P}")
    case "$out" in *'"response":"'?*'"done":true'*) case "$out" in *orchestration*) ok 1 "preset mode: {$body} runs single: $out" ;;
        *) ok 0 "preset mode: {$body} runs single" ;; esac ;;
    *) ok 1 "preset mode: {$body} runs single: $out" ;; esac
done

p=$(rcli XPENDING orion:inference:requests inference-router | head -1)
is "$p" 0 "nothing left pending in the router group"
[ "$p" = 0 ] || { rcli XPENDING orion:inference:requests inference-router - + 10; cat "$T_TMP"/router-*.log | grep -v debug | tail -30; } | sed 's/^/# /'

done_testing
