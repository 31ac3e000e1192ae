#!/bin/sh
# Paths only unit tests reached before, end to end through redis-server, a router with its HTTP
# front, workers and ollama-sims: a placement rule keeping the 4 GB robot Pi out; the
# brain-service names /chat, /generate, /models answering; OpenAI image_url parts (data: URLs)
# reaching Ollama as images; --policy round-robin and least-conn in a running router.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
MODELS=gemma3:1b,llama3.2:1b,gemma3:4b
start_sim a --models "$MODELS" --load-ms 200 --tokens-per-s 40
start_sim b --models "$MODELS" --load-ms 200 --tokens-per-s 40
start_sim robot --models "$MODELS" --load-ms 200 --tokens-per-s 40 --ram-mb 4096
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
start_worker robot "$SIM_URL_robot" "$SIM_ROOT_robot" --labels robot
cat >"$T_TMP/placement.conf" <<'RULES'
# the robot Pi runs its own software: no LLM work there
node * exclude labels=robot
RULES
HP=$(free_port)
URL=http://127.0.0.1:$HP
router_with() { # router_with <policy>: a router (the previous one stopped) with that policy
    [ -z "${ROUTER_PID:-}" ] || { kill "$ROUTER_PID"; wait_for 10 gone "$ROUTER_PID"; }
    start_router --http-listen "127.0.0.1:$HP" --placement "$T_TMP/placement.conf" --policy "$1"
    wait_for 10 curl -sf "$URL/api/version"
}
backend() { # backend <node>: that node's entry in /backends, on one line
    curl -sf "$URL/backends" | tr '{' '\n' | grep "\"node\":\"$1\""
}
three_fresh() { [ "$(rcli HLEN orion:inference:health)" = 3 ] && backend robot | grep -q '"eligible":true' &&
    backend pi-a | grep -q '"eligible":true' && backend pi-b | grep -q '"eligible":true'; }
gen() { # gen <model> <prompt> [path]: a non-streamed generate; prints "NODE BODY"
    curl -s -D "$T_TMP/h" "$URL${3:-/api/generate}" \
        -d "{\"model\":\"$1\",\"prompt\":\"$2\",\"stream\":false,\"options\":{\"num_predict\":3}}" >"$T_TMP/b"
    printf '%s %s\n' "$(tr -d '\r' <"$T_TMP/h" | awk -F': ' 'tolower($1)=="x-orion-node"{print $2}')" "$(cat "$T_TMP/b")"
}

# 1. placement: the robot is fresh and cool but never gets work
router_with sticky
wait_for 15 three_fresh
ok $? "the robot Pi reports health and is fresh and eligible as a node (the rule is per model)"
for i in 1 2 3 4 5 6; do
    m=gemma3:1b
    [ $((i % 2)) = 0 ] && m=llama3.2:1b
    gen $m "placement $i" >>"$T_TMP/placed"
done
is "$(grep -c '"done":true' "$T_TMP/placed")" 6 "six requests answered"
is "$(awk '{print $1}' "$T_TMP/placed" | grep -c robot)" 0 "... none by the robot"
is "$(rcli XLEN orion:inference:requests:robot)" 0 "... nothing ever put on the robot's stream"

# 2. the brain-service names of the same endpoints answer, not only their 400 path
out=$(curl -s "$URL/chat" -d '{"model":"gemma3:1b","messages":[{"role":"user","content":"hi"}],"stream":false}')
case "$out" in *'"message":{"role":"assistant","content":"'?*'"done":true'*) ok 0 "POST /chat answers a chat" ;;
*) ok 1 "POST /chat answers a chat: $out" ;; esac
out=$(gen gemma3:1b hello /generate)
case "$out" in *'"response":"'?*'"done":true'*) ok 0 "POST /generate answers a generation" ;;
*) ok 1 "POST /generate answers a generation: $out" ;; esac
out=$(curl -s "$URL/models")
case "$out" in *gemma3:1b*llama3.2:1b*|*llama3.2:1b*gemma3:1b*) ok 0 "GET /models lists the cluster's models" ;;
*) ok 1 "GET /models lists the cluster's models: $out" ;; esac

# 3. OpenAI image_url parts become Ollama images: the vision model's prompt grows by the image
# (ollama-sim counts 256 tokens for an image, docs/OLLAMA-SIM.md), a text-only model refuses
IMG=iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==
oai() { # oai <model> <content json>: usage.prompt_tokens, or the body when there is none
    curl -s "$URL/v1/chat/completions" -d "{\"model\":\"$1\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":$2}]}" >"$T_TMP/o"
    sed -n 's/.*"prompt_tokens":\([0-9]*\).*/\1/p' "$T_TMP/o" | grep . || cat "$T_TMP/o"
}
plain=$(oai gemma3:4b '[{"type":"text","text":"what is this"}]')
withimg=$(oai gemma3:4b "[{\"type\":\"text\",\"text\":\"what is this\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,$IMG\"}}]")
case "$plain$withimg" in *[!0-9]*|"") ok 1 "image_url: answered with usage ($plain / $withimg)" ;;
*) is "$((withimg - plain))" 256 "image_url (a data: URL) reached Ollama as an image: prompt $plain -> $withimg tokens" ;; esac
out=$(oai gemma3:1b "[{\"type\":\"text\",\"text\":\"what is this\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,$IMG\"}}]")
case "$out" in *"image input is not supported"*) ok 0 "... a text-only model's refusal of the image comes back" ;;
*) ok 1 "... a text-only model's refusal of the image comes back: $out" ;; esac

# 4. --policy round-robin: one request after another alternates between the eligible nodes
# (sticky would keep a model where it is loaded)
router_with round-robin
wait_for 15 three_fresh
for i in 1 2 3 4; do gen gemma3:1b "rr $i" | awk '{print $1}'; done >"$T_TMP/rr"
is "$(tr '\n' ' ' <"$T_TMP/rr")" "$(awk 'NR==1{a=$1} NR==2{b=$1} END{print a" "b" "a" "b" "}' "$T_TMP/rr")" \
    "round-robin: four requests in turn: $(tr '\n' ' ' <"$T_TMP/rr")"
is "$(sort -u "$T_TMP/rr" | tr '\n' ' ')" "pi-a pi-b " "... over both eligible nodes, never the robot"

# 5. --policy least-conn: two requests at once go to two nodes
router_with least-conn
wait_for 15 three_fresh
for i in 1 2; do
    curl -s -D "$T_TMP/lh$i" "$URL/api/generate" \
        -d "{\"model\":\"llama3.2:1b\",\"prompt\":\"lc $i\",\"stream\":false,\"options\":{\"num_predict\":60}}" >/dev/null &
    eval "LC$i=\$!"
done
wait "$LC1" "$LC2"
n1=$(tr -d '\r' <"$T_TMP/lh1" | awk -F': ' 'tolower($1)=="x-orion-node"{print $2}')
n2=$(tr -d '\r' <"$T_TMP/lh2" | awk -F': ' 'tolower($1)=="x-orion-node"{print $2}')
check "least-conn: two requests at once on two nodes ($n1, $n2)" test -n "$n1" -a -n "$n2" -a "$n1" != "$n2"
done_testing
