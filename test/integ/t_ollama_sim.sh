#!/bin/sh
# ollama-sim on the wire: framing, content types, errors, scheduler, OpenAI SSE, sysfs files.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
ROOT=$T_TMP/root
mkdir -p "$ROOT"
bg sim $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$P" --models llama3.2:1b,qwen2.5:0.5b,gemma3:1b \
    --load-ms 600,gemma3:1b=1500 --tokens-per-s 100 --max-queue 1 --max-loaded 3 --sysfs-root "$ROOT"
U=http://127.0.0.1:$P
check "sim answers" wait_for 5 curl -sf "$U/api/version"

# raw response (headers + chunked framing as sent)
raw() { curl -s --raw -D - -o - "$@" | tr -d '\r'; }
CHAT='{"model":"llama3.2:1b","messages":[{"role":"user","content":"Say hello."}],"options":{"num_predict":5}}'
raw -d "$CHAT" "$U/api/chat" >"$T_TMP/chat"
is "$(sed -n 2p "$T_TMP/chat")" "Content-Type: application/x-ndjson" "stream content type"
check "stream is chunked" grep -qx "Transfer-Encoding: chunked" "$T_TMP/chat"
check "Date header" grep -q "^Date: .* GMT$" "$T_TMP/chat"
is "$(tail -2 "$T_TMP/chat" | head -1)" "0" "ends with the 0-chunk"
# one chunk per line: every chunk size equals its line + \n
chunks_ok() { # every chunk-size line equals the length of the line after it + 1 (\n)
    sed '1,/^$/d' "$1" | {
        n=0
        while IFS= read -r size; do
            [ "$size" = 0 ] && break
            IFS= read -r line || return 1
            IFS= read -r blank || return 1 # the chunk's own CRLF after the line's \n
            [ "$(printf %d "0x$size")" -eq $((${#line} + 1)) ] || n=$((n + 1))
        done
        echo $n
    }
}
bad=$(chunks_ok "$T_TMP/chat")
is "$bad" "0" "one chunk per NDJSON line"
is "$(grep -c '"done":false' "$T_TMP/chat")" "5" "num_predict 5 => five tokens"
check "done_reason length" grep -q '"done":true,"done_reason":"length","total_duration":' "$T_TMP/chat"
ld_cold=$(grep -o '"load_duration":[0-9]*' "$T_TMP/chat" | cut -d: -f2)
raw -d "$CHAT" "$U/api/chat" >"$T_TMP/chat2"
ld_warm=$(grep -o '"load_duration":[0-9]*' "$T_TMP/chat2" | cut -d: -f2)
check "cold load_duration about 600 ms ($ld_cold)" test "$ld_cold" -ge 550000000
check "warm load_duration < 50 ms ($ld_warm)" test "$ld_warm" -lt 50000000

GEN='{"model":"qwen2.5:0.5b","prompt":"Why is the sky blue?","stream":false}'
raw -d "$GEN" "$U/api/generate" >"$T_TMP/gen"
is "$(sed -n 2p "$T_TMP/gen")" "Content-Type: application/json; charset=utf-8" "stream:false content type"
len=$(sed -n 's/^Content-Length: //p' "$T_TMP/gen")
sed '1,/^$/d' "$T_TMP/gen" >"$T_TMP/gen.body"
body=$(cat "$T_TMP/gen.body")
is "$len" "$(printf %s "$body" | wc -c | tr -d ' ')" "stream:false has Content-Length"
check "done true with context" grep -q '"done":true,"done_reason":"stop","context":\[.*\],"total_duration":[0-9]*,.*}$' "$T_TMP/gen.body"
is "$(tail -c 1 "$T_TMP/gen.body")" "}" "no trailing newline"
LONG=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "word " }')
raw -d "{\"model\":\"qwen2.5:0.5b\",\"prompt\":\"$LONG\",\"stream\":false}" "$U/api/generate" >"$T_TMP/long"
check "body > 2048 bytes is chunked" grep -qx "Transfer-Encoding: chunked" "$T_TMP/long"

# errors, exact bodies
e() { curl -s -o "$T_TMP/e" -w '%{http_code} %{content_type}' "$@"; }
is "$(e -d '{"model":"llama3.3:70b","messages":[{"role":"user","content":"hi"}]}' "$U/api/chat")" \
    "404 application/json; charset=utf-8" "unknown model: 404"
is "$(cat "$T_TMP/e")" '{"error":"model '"'"'llama3.3:70b'"'"' not found"}' "404 body"
e -d '{"model":"llama3.2:1b","prompt":"hi","keep_alive":"300"}' "$U/api/generate" >/dev/null
is "$(cat "$T_TMP/e")" '{"error":"time: missing unit in duration \"300\""}' "bare numeric keep_alive string"
is "$(e -X POST "$U/api/chat")" "400 application/json; charset=utf-8" "missing body: 400"
is "$(cat "$T_TMP/e")" '{"error":"missing request body"}' "missing body text"
e -d '{}' "$U/api/generate" >/dev/null
is "$(cat "$T_TMP/e")" "{\"error\":\"model '' not found\"}" "generate without model"
e -d '{}' "$U/api/chat" >/dev/null
is "$(cat "$T_TMP/e")" '{"error":"model is required"}' "chat without model"
is "$(e "$U/api/nothere")" "404 text/plain" "unknown route"
is "$(cat "$T_TMP/e")" "404 page not found" "404 text"
is "$(e "$U/api/chat")" "405 text/plain" "wrong method"
is "$(curl -sI "$U/" | tr -d '\r' | grep -c '^Content-Length: 17$')" "1" "HEAD / Content-Length 17"

# keep_alive expiry visible in /api/ps
curl -s -d '{"model":"qwen2.5:0.5b","keep_alive":"1s"}' "$U/api/generate" >"$T_TMP/load"
check "load shortcut" grep -q '"done_reason":"load"' "$T_TMP/load"
check "qwen in /api/ps" sh -c "curl -s $U/api/ps | grep -q '\"name\":\"qwen2.5:0.5b\"'"
check "gone from /api/ps after 1 s" wait_for 4 sh -c "! curl -s $U/api/ps | grep -q qwen2.5"
curl -s -d '{"model":"llama3.2:1b","keep_alive":0}' "$U/api/generate" >"$T_TMP/unl"
check "unload shortcut" grep -q '"done_reason":"unload"' "$T_TMP/unl"

# queue: gemma (1.5 s) loads, qwen waits in the queue (1), llama3.2:1b-less third load => 503
curl -s -d '{"model":"gemma3:1b","keep_alive":"1m"}' "$U/api/generate" >/dev/null &
c1=$!
sleep 0.2
curl -s -d '{"model":"qwen2.5:0.5b"}' "$U/api/generate" >/dev/null &
c2=$!
sleep 0.2
is "$(e -d '{"model":"llama3.2:1b","prompt":"x"}' "$U/api/generate")" "503 application/json; charset=utf-8" "queue full: 503"
is "$(cat "$T_TMP/e")" '{"error":"server busy, please try again.  maximum pending requests exceeded"}' "503 text (two spaces)"
wait "$c1" "$c2"

# OpenAI SSE
raw -d '{"model":"llama3.2:1b","messages":[{"role":"user","content":"Say hello."}],"stream":true,"stream_options":{"include_usage":true}}' \
    "$U/v1/chat/completions" >"$T_TMP/sse"
is "$(sed -n 2p "$T_TMP/sse")" "Content-Type: text/event-stream" "SSE content type"
check "first delta has role" grep -q '"delta":{"role":"assistant","content":' "$T_TMP/sse"
check "finish chunk" grep -q '"delta":{},"finish_reason":"stop"' "$T_TMP/sse"
check "usage chunk" grep -q '"choices":\[\],"usage":{"prompt_tokens":' "$T_TMP/sse"
is "$(grep '^data: ' "$T_TMP/sse" | tail -1)" "data: [DONE]" "ends with data: [DONE]"
is "$(e -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' "$U/v1/chat/completions")" \
    "404 application/json" "OpenAI 404"
check "OpenAI error shape" grep -q '^{"error":{"message":"model .gpt-4o. not found","type":"not_found_error","param":null,"code":null}}$' "$T_TMP/e"
check "/v1/models" sh -c "curl -s $U/v1/models | grep -q '\"owned_by\":\"library\"'"

# sysfs
check "meminfo written" grep -q '^MemAvailable:' "$ROOT/proc/meminfo"
check "stat written" grep -q '^cpu  ' "$ROOT/proc/stat"
check "loadavg written" test -s "$ROOT/proc/loadavg"
is "$(cat "$ROOT/sys/class/thermal/thermal_zone0/type")" "cpu-thermal" "thermal type"
curl -s -d '{"c":80}' "$U/sim/temp" >/dev/null
check "forced temperature" wait_for 3 grep -qx 80000 "$ROOT/sys/class/thermal/thermal_zone0/temp"
curl -s -d '{"c":null}' "$U/sim/temp" >/dev/null

# faults
curl -s -d '{"mode":"midstream"}' "$U/sim/fail" >/dev/null
raw -d "$CHAT" "$U/api/chat" >"$T_TMP/mid"
check "midstream error line" grep -q '^{"error":"an error was encountered while running the model: unexpected EOF"}$' "$T_TMP/mid"
check "no done:true after the error" sh -c "! grep -q '\"done\":true' $T_TMP/mid"
curl -s -d '{"mode":"none"}' "$U/sim/fail" >/dev/null

# "down" with generations running and waiting (its own sim): every connection closes, the
# sim does not crash (it used to write to a freed request from the generation's timer), and
# it serves again after the outage
P2=$(free_port)
bg sim2 "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$P2" --models gemma3:1b --load-ms 100 \
    --tokens-per-s 5 --num-parallel 1
SIM2=$BG_PID
U2=http://127.0.0.1:$P2
check "second sim answers" wait_for 5 curl -sf "$U2/api/version"
GEN='{"model":"gemma3:1b","prompt":"hi"}'
curl -s -d "$GEN" "$U2/api/generate" >"$T_TMP/down1" 2>&1 &
C1=$!
curl -s -d "$GEN" "$U2/api/generate" >"$T_TMP/down2" 2>&1 & # waits for the one slot
C2=$!
sleep 0.8
is "$(curl -s -d '{"mode":"down","ms":1500}' "$U2/sim/fail")" '{"ok":true}' "down accepted"
wait "$C1" "$C2"
check "neither generation ended (no done:true)" sh -c "! grep -q '\"done\":true' $T_TMP/down1 $T_TMP/down2"
is "$(grep -l '"done":false' "$T_TMP/down1" "$T_TMP/down2" | wc -l)" 1 \
    "one had started (the other waited for the slot)"
sleep 2.5 # past the generations' next ticks and the outage
check "the sim survived going down with generations running" kill -0 "$SIM2"
check "it listens again after the outage" wait_for 5 curl -sf "$U2/api/version"
curl -s -d '{"model":"gemma3:1b","prompt":"hi","options":{"num_predict":2}}' "$U2/api/generate" >"$T_TMP/down3"
check "and generates again" grep -q '"done":true' "$T_TMP/down3"
# --shared-cpu: two requests on two models at once each run at about half the token rate
# (their eval_duration about doubles); without it each keeps its own rate. Both models are
# loaded first, both answers are 20 tokens, so only the overlap differs.
pair() { # pair <port>: "<ms of the lone request's eval> <ms of the slower of the pair's>"
    for m in gemma3:1b llama3.2:1b; do
        curl -s -d "{\"model\":\"$m\",\"prompt\":\"x\",\"stream\":false,\"options\":{\"num_predict\":1}}" \
            "http://127.0.0.1:$1/api/generate" >/dev/null
    done
    q='"prompt":"count","stream":false,"options":{"num_predict":20}'
    lone=$(curl -s -d "{\"model\":\"gemma3:1b\",$q}" "http://127.0.0.1:$1/api/generate" |
        grep -o '"eval_duration":[0-9]*' | cut -d: -f2)
    curl -s -d "{\"model\":\"gemma3:1b\",$q}" "http://127.0.0.1:$1/api/generate" >"$T_TMP/pa" &
    c=$!
    curl -s -d "{\"model\":\"llama3.2:1b\",$q}" "http://127.0.0.1:$1/api/generate" >"$T_TMP/pb"
    wait $c
    a=$(grep -o '"eval_duration":[0-9]*' "$T_TMP/pa" | cut -d: -f2)
    b=$(grep -o '"eval_duration":[0-9]*' "$T_TMP/pb" | cut -d: -f2)
    echo $((${lone:-0} / 1000000)) $(((${a:-0} > ${b:-0} ? ${a:-0} : ${b:-0}) / 1000000))
}
for shared in true false; do
    P3=$(free_port)
    bg "sim3-$shared" $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$P3" \
        --models gemma3:1b,llama3.2:1b --load-ms 50 --tokens-per-s 40 --max-loaded 2 --shared-cpu "$shared"
    S3=$BG_PID
    wait_for 5 curl -sf "http://127.0.0.1:$P3/api/version"
    set -- $(pair "$P3")
    if [ "$shared" = true ]; then
        ok $([ "$1" -gt 0 ] && [ "$2" -ge $(($1 * 3 / 2)) ]; echo $?) \
            "--shared-cpu: a request alongside another takes >= 1.5x its lone eval time ($2 vs $1 ms)"
    else
        ok $([ "$1" -gt 0 ] && [ "$2" -lt $(($1 * 3 / 2)) ]; echo $?) \
            "without --shared-cpu: alongside another it keeps its rate ($2 vs $1 ms)"
    fi
    kill "$S3" 2>/dev/null
done
done_testing
