#!/bin/sh
# Embeddings through the router's HTTP front (issue 23): /api/embed, /api/embeddings and
# /v1/embeddings give what Ollama gives (the vectors byte for byte, compared with an
# ollama-sim asked directly), a batch past ORION_EMBED_PIECE (64) inputs is cut into pieces
# spread over both nodes and answered in the inputs' order, a hot node gets no piece, a piece
# whose node stops is sent again for the router to place, and bad requests get Ollama's
# errors (or ours past the limits).
. "$(dirname "$0")/lib.sh"

start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
for s in a b; do
    start_sim "$s" --models 'nomic-embed-text,gemma3:1b' --load-ms 300 --tokens-per-s 200 ||
        ok 1 "ollama-sim $s starts"
done
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
bg router $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" \
    --log-level debug --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 3
both_eligible() { curl -s "$URL/health" | grep -o '"eligible":true' | grep -c . | grep -qx 2; }
wait_for 10 both_eligible
ok $? "two workers report health, both eligible"

# same(file-from-router, file-from-sim): equal once the router's "orion" object and Ollama's
# timings are left out
strip() { sed -e 's/,"orion":{[^}]*}//' -e 's/,"total_duration":[0-9]*//' -e 's/,"load_duration":[0-9]*//' "$1"; }
same() { [ -s "$1" ] && [ "$(strip "$1")" = "$(strip "$2")" ]; }
post() { # post <url> <body> <out>: the status
    curl -s -o "$3" -w '%{http_code}' "$1" -d "$2"
}

E='"model":"nomic-embed-text"'
for body in "{$E,\"input\":\"Why is the sky blue?\"}" "{$E,\"input\":[\"a\",\"b\"],\"dimensions\":4}" \
    "{$E,\"input\":[\"short\"],\"truncate\":false,\"keep_alive\":\"10m\"}" "{$E,\"input\":\"\"}"; do
    st=$(post "$URL/api/embed" "$body" "$T_TMP/r")
    post "$SIM_URL_a/api/embed" "$body" "$T_TMP/s" >/dev/null
    [ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s"
    ok $? "/api/embed $body: 200, Ollama's answer"
    [ $? -eq 0 ] || { echo "#   $(cut -c1-200 "$T_TMP/r")"; echo "#   $(cut -c1-200 "$T_TMP/s")"; }
done
grep -q '"prompt_eval_count":[1-9]' "$T_TMP/s" || grep -q '"embeddings":\[\]' "$T_TMP/s"
ok $? "... the counters come with the vectors"

body="{$E,\"prompt\":\"Why is the sky blue?\"}"
st=$(post "$URL/api/embeddings" "$body" "$T_TMP/r")
post "$SIM_URL_b/api/embeddings" "$body" "$T_TMP/s" >/dev/null
[ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s" && grep -q '^{"embedding":\[-\{0,1\}0\.' "$T_TMP/r"
ok $? "/api/embeddings (legacy): 200, one unnormalised vector as Ollama writes it"
is "$(curl -s "$URL/api/embeddings" -d "{$E}")" '{"embedding":[]}' "/api/embeddings without prompt: the model loads, no vector"

for body in "{$E,\"input\":[\"a\",\"b\"],\"dimensions\":3}" "{$E,\"input\":\"a\",\"encoding_format\":\"base64\"}" \
    "{$E,\"input\":\"\"}"; do
    st=$(post "$URL/v1/embeddings" "$body" "$T_TMP/r")
    post "$SIM_URL_a/v1/embeddings" "$body" "$T_TMP/s" >/dev/null
    [ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s"
    ok $? "/v1/embeddings $body: 200, Ollama's answer"
    [ $? -eq 0 ] || { echo "#   $(cut -c1-200 "$T_TMP/r")"; echo "#   $(cut -c1-200 "$T_TMP/s")"; }
done

# a batch of 150: three pieces (64, 64, 22) over both nodes, in order
awk 'BEGIN { printf "{\"model\":\"nomic-embed-text\",\"dimensions\":8,\"input\":["; for (i = 0; i < 150; i++) printf "%s\"text number %d\"", i ? "," : "", i; print "]}" }' >"$T_TMP/big.json"
st=$(curl -s -D "$T_TMP/h" -o "$T_TMP/r" -w '%{http_code}' "$URL/api/embed" -d @"$T_TMP/big.json")
curl -s -o "$T_TMP/s" "$SIM_URL_b/api/embed" -d @"$T_TMP/big.json"
[ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s"
ok $? "a batch of 150 inputs: 200, the 150 vectors in the inputs' order (as one Ollama gives them)"
grep -q '"orion":{"pieces":3,"nodes":\["pi-[ab]","pi-[ab]","pi-[ab]"\]}' "$T_TMP/r" &&
    grep -q '"nodes":\[[^]]*pi-a' "$T_TMP/r" && grep -q '"nodes":\[[^]]*pi-b' "$T_TMP/r"
ok $? "... cut in 3 pieces run on both nodes: $(grep -o '"orion":{[^}]*}' "$T_TMP/r")"
is "$(grep -o '"prompt_eval_count":[0-9]*' "$T_TMP/r")" "$(grep -o '"prompt_eval_count":[0-9]*' "$T_TMP/s")" \
    "... prompt_eval_count is the pieces' sum"
curl -s "$SIM_URL_a/api/ps" | grep -q nomic-embed-text && curl -s "$SIM_URL_b/api/ps" | grep -q nomic-embed-text
ok $? "... the model is loaded on both simulators"
sed 's/"dimensions":8,//' "$T_TMP/big.json" >"$T_TMP/big1.json"
st=$(post "$URL/v1/embeddings" @"$T_TMP/big1.json" "$T_TMP/r")
post "$SIM_URL_a/v1/embeddings" @"$T_TMP/big1.json" "$T_TMP/s" >/dev/null
[ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s" && grep -q '"index":149}' "$T_TMP/r"
ok $? "/v1/embeddings with 150 inputs: the data in order, index 0 to 149"

# health-aware: a hot node gets no piece
curl -sf -X POST -d '{"c":82}' "$SIM_URL_b/sim/temp" >/dev/null
b_hot() { curl -s "$URL/health" | grep -q '"node":"pi-b","eligible":false'; }
wait_for 10 b_hot
ok $? "pi-b at 82 C is not eligible"
st=$(curl -s -o "$T_TMP/r" -w '%{http_code}' "$URL/api/embed" -d @"$T_TMP/big.json")
[ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s" 2>/dev/null; true
grep -q '"orion":{"pieces":3,"nodes":\["pi-a","pi-a","pi-a"\]}' "$T_TMP/r"
ok $? "with pi-b hot the whole batch runs on pi-a: $(grep -o '"orion":{[^}]*}' "$T_TMP/r")"
curl -sf -X POST -d '{"c":50}' "$SIM_URL_b/sim/temp" >/dev/null
wait_for 10 both_eligible
ok $? "pi-b cooled down: eligible again"

# failed over: pi-b's worker stops with a piece pinned to it; the piece comes back after
# --stale-after, waits its 2 s for pi-b and is sent again for the router to place (pi-a)
sed 's/"dimensions":8,/"dimensions":8,"timeout":2,/' "$T_TMP/big.json" >"$T_TMP/big2.json"
kill -STOP "$WORKER_PID_pi_b"
st=$(curl -s -o "$T_TMP/r" -w '%{http_code}' -m $((30 * ORION_SLOW)) "$URL/api/embed" -d @"$T_TMP/big2.json")
kill -CONT "$WORKER_PID_pi_b"
curl -s -o "$T_TMP/s" "$SIM_URL_a/api/embed" -d @"$T_TMP/big.json"
[ "$st" = 200 ] && same "$T_TMP/r" "$T_TMP/s" && ! grep -q '"nodes":\[[^]]*pi-b' "$T_TMP/r"
ok $? "a piece pinned to a stopped node is run elsewhere: 200, in order, on pi-a only ($(grep -o '"orion":{[^}]*}' "$T_TMP/r"))"
grep -q "sent again for the router to place" "$T_TMP"/router*.log
ok $? "... the front says it sent the piece again"

# errors
# Ollama's part of a native error: {"error":"..."} without the error schema's own fields
oerr() { sed -E 's/,"code":"[A-Z_]+","type":"[a-z_]+","provider":"[^"]*","details":\{[^}]*\}//'; }
e() { curl -s -w ' %{http_code}' "$URL$1" -d "$2" | oerr; }
is "$(e /api/embed '{"model":"nope","input":"x"}')" '{"error":"model '"'"'nope'"'"' not found"} 404' "unknown model: 404"
is "$(e /api/embed '{"input":"x"}')" '{"error":"model '"'"''"'"' not found"} 404' "no model: 404 as Ollama"
is "$(e /api/embeddings '{"prompt":"x"}')" '{"error":"model is required"} 400' "legacy, no model: 400"
is "$(e /api/embed "{$E,\"input\":[1]}")" '{"error":"invalid input type"} 400' "a number in the inputs: 400"
is "$(e /api/embed "{$E,\"input\":{}}")" '{"error":"invalid input type"} 400' "an object as input: 400"
is "$(e /api/embed "{$E,\"input\":\"x\",\"truncate\":\"no\"}")" \
    '{"error":"json: cannot unmarshal string into Go struct field EmbedRequest.truncate of type bool"} 400' "truncate a string: Go's 400"
is "$(e /api/embed "{$E,\"input\":\"x\",\"dimensions\":\"9\"}")" \
    '{"error":"json: cannot unmarshal string into Go struct field EmbedRequest.dimensions of type int"} 400' "dimensions a string: Go's 400"
is "$(e /v1/embeddings "{$E,\"input\":[]}")" \
    '{"error":{"message":"invalid input","type":"non_retriable","param":null,"code":"BAD_REQUEST","provider":"orion-inference","details":{}}}
 400' "/v1: no inputs: 400 in OpenAI's shape"
is "$(e /v1/embeddings "{$E,\"input\":\"a\",\"encoding_format\":\"hex\"}" | head -1 | cut -c1-90)" \
    "{\"error\":{\"message\":\"Invalid value for 'encoding_format' = hex. Supported values: ['float'" "/v1: a bad encoding_format: Ollama's sentence"
awk 'BEGIN { printf "{\"model\":\"nomic-embed-text\",\"input\":["; for (i = 0; i < 2049; i++) printf "%s\"x\"", i ? "," : ""; print "]}" }' >"$T_TMP/toomany.json"
is "$(curl -s -w ' %{http_code}' "$URL/api/embed" -d @"$T_TMP/toomany.json" | oerr)" \
    '{"error":"too many inputs: 2049 (at most 2048 in one request)"} 400' "2049 inputs: 400, the limit named"
out=$(e /api/embed '{"model":"gemma3:1b","input":"x"}')
case "$out" in *'does not support embeddings'*' 500') ok 0 "a model that cannot embed: Ollama's sentence" ;; *) ok 1 "a model that cannot embed: Ollama's sentence"; echo "#   $out" ;; esac
is "$(rcli XLEN orion:inference:requests)" 0 "request stream drained"
is "$(rcli --scan --pattern 'orion:inference:cb:*' | wc -l | tr -d ' ')" 0 "no callback stream left behind"
done_testing
