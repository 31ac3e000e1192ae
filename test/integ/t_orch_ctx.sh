#!/bin/sh
# Orchestration (issue 18): a handoff too long for every model's context is compressed in
# pieces. One node whose models all have a 400-token context: an ensemble's two legs each fit
# (an earlier message's marker makes each answer 150 words), but the synthesis's handoff (both
# answers) does not, nor does its compression on any model; so the compression is cut into
# pieces, each compressed on its own and at once, and the synthesis runs on their texts joined.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
start_sim a --models 'tiny:1b+ctx=400,mini:1b+ctx=400' --load-ms 50 --tokens-per-s 300 --num-parallel 4
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
HP=$(free_port)
URL=http://127.0.0.1:$HP
start_router --http-listen 127.0.0.1:$HP --router-id r1
wait_for 10 curl -sf "$URL/api/version"
one() { curl -s "$URL/backends" | grep -q '"eligible":true'; }
wait_for 20 one
ok $? "one node eligible"

DRAFT=$(printf 'word %.0s' $(seq 150))
out=$(curl -s "$URL/api/chat" -d "{\"model\":\"auto\",\"orchestration_mode\":\"ensemble\",\"models\":[\"tiny:1b\",\"mini:1b\"],\"messages\":[{\"role\":\"user\",\"content\":\"Say it. [[sim:reply=$DRAFT]]\"},{\"role\":\"assistant\",\"content\":\"Done.\"},{\"role\":\"user\",\"content\":\"Again.\"}],\"stream\":false}")
kinds=$(printf '%s' "$out" | jq -r '[.orchestration.steps[] | .kind + "/" + .status] | join(" ")' 2>/dev/null)
case "$kinds" in "leg/ok leg/ok synthesize/ok compress/ok compress/ok"*) ok 0 "pieces: the synthesis's handoff compressed in pieces, then it ran ($kinds)" ;;
*) ok 1 "pieces: the synthesis's handoff compressed in pieces, then it ran: $(printf '%s' "$out" | cut -c1-1500)" ;; esac
# the pieces ran at once: each started before any of them had ended
check "pieces: they ran at the same time" sh -c "printf '%s' '$(printf '%s' "$out" | jq -c '[.orchestration.steps[] | select(.kind == "compress")]' 2>/dev/null)' | jq -e 'length >= 2 and (map(.started_ms) | max) < (map(.started_ms + .ms) | min)' >/dev/null"
is "$(printf '%s' "$out" | jq -r '"\(.done_reason) \(.orchestration.partial) \(.inference_metadata.compression_applied)"' 2>/dev/null)" \
    "stop false true" "pieces: a complete answer, compression applied"
case "$(printf '%s' "$out" | jq -r .message.content 2>/dev/null)" in ?*) ok 0 "pieces: the answer has text" ;;
*) ok 1 "pieces: the answer has text: $out" ;; esac

p=$(rcli XPENDING orion:inference:requests inference-router | head -1)
is "$p" 0 "nothing left pending in the router group"
done_testing
