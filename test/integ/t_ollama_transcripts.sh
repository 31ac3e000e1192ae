#!/bin/sh
# ollama-sim against the reference transcripts (../shared/reference/transcripts/*.raw): the
# requests recorded there are replayed with curl and the sim's raw bytes (curl --raw: chunk
# framing kept) are compared with the recorded responses. Deterministic answers (errors,
# liveness, version, 404) must match byte for byte once the Date header is masked; answers with
# generated text, times and counters must match in framing, headers and JSON skeleton (every
# key in Go's order, strings and numbers masked). Then the scheduler: keep-alive in /api/ps,
# 503 when the queue is full, cold vs warm load_duration; and the fake sysfs.
. "$(dirname "$0")/lib.sh"
LC_ALL=C
export LC_ALL
CR=$(printf '\r')
TR=${ORION_TRANSCRIPTS:-$ORION_TOP/../shared/reference/transcripts}

# --- helpers ---------------------------------------------------------------------------------
# part <file> <label> <REQUEST|RESPONSE>: the exact bytes of one recorded message
part() {
    p_line=$(grep -n -a -F "=== $2 $3 (" "$TR/$1.raw" | head -1)
    p_no=${p_line%%:*}
    p_len=$(echo "$p_line" | sed 's/.*(\([0-9]*\) bytes).*/\1/')
    p_off=$(head -n "$p_no" "$TR/$1.raw" | wc -c)
    dd if="$TR/$1.raw" bs=1 skip="$p_off" count="$p_len" 2>/dev/null
}
# head_of / body_of <file>: a raw HTTP message's head (up to the blank line) or body
head_of() { awk -v cr="$CR" '{ print } $0 == cr { exit }' "$1"; }
body_of() { awk -v cr="$CR" 'body { print } $0 == cr && !body { body = 1 }' "$1"; }
# replay <file> <label> <url> <out>: send the recorded request (method, path, body) with curl
replay() {
    part "$1" "$2" REQUEST >"$T_TMP/req"
    r_first=$(head -n 1 "$T_TMP/req" | tr -d '\r')
    r_method=${r_first%% *}
    r_path=$(echo "$r_first" | cut -d' ' -f2)
    body_of "$T_TMP/req" >"$T_TMP/req.body"
    printf '%s' "$(cat "$T_TMP/req.body")" >"$T_TMP/req.body2" # no newline of our own
    if [ "$r_method" = HEAD ]; then
        curl -s -i --raw -I "$3$r_path" >"$4"
    elif [ -s "$T_TMP/req.body2" ]; then
        curl -s -i --raw -X "$r_method" -H 'Content-Type: application/json' \
            --data-binary @"$T_TMP/req.body2" "$3$r_path" >"$4"
    else
        curl -s -i --raw -X "$r_method" "$3$r_path" >"$4"
    fi
}
mask_date() { sed "s/^Date: .*GMT$CR\$/Date: X$CR/"; }
# same <a> <b>: byte-equal after masking the Date header
same() { mask_date <"$1" >"$1.m"; mask_date <"$2" >"$2.m"; cmp -s "$1.m" "$2.m"; }
# skeleton: JSON with strings of varying content and all numbers masked
skeleton() {
    sed -E -e 's/"(created_at|expires_at|modified_at)":"[^"]*"/"\1":"T"/g' \
        -e 's/"(content|response|text|error)":"([^"\\]|\\.)*"/"\1":"S"/g' \
        -e 's/"context":\[[0-9,]*\]/"context":[0]/g' \
        -e 's/"id":"(chatcmpl|cmpl)-[0-9]+"/"id":"\1-N"/g' \
        -e 's/":-?[0-9][0-9.eE+-]*/":0/g'
}
# chunks <raw body>: "ok N" when every chunk-size line equals the bytes that follow it (the
# whole stream ending in 0 CRLF CRLF); prints the data of each chunk on one line as "#k: ..."
chunks() {
    awk 'function hex(s,  i, v) { v = 0; s = tolower(s)
             for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
             return v }
         BEGIN { want = -1; n = 0; bad = 0; fin = 0 }
         fin == 1 { if ($0 != cr) bad = 1; fin = 2; next }
         fin == 2 { bad = 1; next }
         want < 0 { sub(cr "$", ""); want = hex($0); got = 0; if (want == 0) fin = 1; else n++; next }
         got < want && got + length($0) - 1 == want && substr($0, length($0)) == cr {
             # data without a final newline: its CRLF ends this same line
             printf "#%d: %s\n", n, substr($0, 1, length($0) - 1); want = -1; next }
         got < want { got += length($0) + 1; printf "#%d: %s\n", n, $0; if (got > want) bad = 1; next }
         { if ($0 != cr) bad = 1; want = -1 }
         END { if (bad || fin != 2) print "bad"; else print "ok " n }' cr="$CR" "$1"
}
json_num() { sed -n "s/.*\"$2\":\\([0-9]*\\).*/\\1/p" "$1" | tail -1; }

if [ ! -f "$TR/01-api-chat-stream-cold.raw" ]; then
    skip "transcripts not found in $TR"
    done_testing
    exit 0
fi

start_sim main --models llama3.2:1b,gemma3:1b,qwen2.5:0.5b --load-ms 600 --tokens-per-s 200 \
    --version-string 0.11.4
ok $? "ollama-sim starts and answers /api/version"
U=$SIM_URL_main
R=$SIM_ROOT_main
O=$T_TMP/out

# --- byte for byte ---------------------------------------------------------------------------
for x in 04-api-ps-tags-version:head-root 04-api-ps-tags-version:get-root \
    04-api-ps-tags-version:version 03-errors:chat-model-not-found \
    03-errors:generate-bad-keepalive 03-errors:generate-empty-model 03-errors:unknown-route \
    05-openai-compat:openai-model-not-found; do
    f=${x%%:*} l=${x#*:}
    part "$f" "$l" RESPONSE >"$T_TMP/want"
    replay "$f" "$l" "$U" "$O"
    same "$O" "$T_TMP/want"
    ok $? "$l: the same bytes as the transcript (Date masked)"
done
curl -s -i --raw -X GET "$U/api/chat" >"$O"
head -n 1 "$O" | grep -q '^HTTP/1.1 405 Method Not Allowed' && grep -qx "Content-Type: text/plain$CR" "$O" &&
    [ "$(body_of "$O")" = "405 method not allowed" ]
ok $? "GET /api/chat: 405, text/plain without charset, '405 method not allowed'"

# --- more of §4.2 and §1.5: exact bodies ----------------------------------------------------
err_is() { # err_is <path> <body> <status> <json body> <description>
    curl -s -i --raw -d "$2" "$U$1" >"$O"
    head -n 1 "$O" | grep -q "^HTTP/1.1 $3 " && grep -qx "Content-Type: application/json; charset=utf-8$CR" "$O" &&
        [ "$(body_of "$O")" = "$4" ]
    ok $? "$5"
}
err_is /api/chat '' 400 '{"error":"missing request body"}' "empty body: 400 missing request body"
err_is /api/chat '{}' 400 '{"error":"model is required"}' "chat without a model: 400 model is required"
err_is /api/chat '{"model":"a<b>&c","messages":[]}' 404 \
    '{"error":"model '"'"'a\u003cb\u003e\u0026c'"'"' not found"}' "Go's HTML escaping of < > & in JSON"
err_is /api/chat '{"model":"gemma3:1b","messages":[],"think":"x"}' 400 \
    '{"error":"invalid think value: \"x\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)"}' \
    "think \"x\": 400 with the exact message"
err_is /api/generate '{"model":"gemma3:1b","prompt":"hi","keep_alive":"-1"}' 400 \
    '{"error":"time: missing unit in duration \"-1\""}' 'keep_alive "-1": missing unit'
err_is /api/generate '{"model":"gemma3:1b","prompt":"hi","keep_alive":true}' 400 \
    '{"error":"Unsupported type: '"'"'bool'"'"'"}' "keep_alive true: Unsupported type 'bool'"
curl -s -i --raw -d '{"model":"gemma3:1b","messages":[]}' "$U/v1/chat/completions" >"$O"
head -n 1 "$O" | grep -q '^HTTP/1.1 400 ' && grep -qx "Content-Type: application/json; charset=utf-8$CR" "$O" &&
    [ "$(body_of "$O")" = '{"error":{"message":"[] is too short - '"'"'messages'"'"'","type":"invalid_request_error","param":null,"code":null}}' ]
ok $? "OpenAI empty messages: 400 from the middleware (charset, no newline)"
curl -s -i --raw -I "$U/api/ps" | head -n 1 | grep -q '^HTTP/1.1 405 '
ok $? "HEAD /api/ps: 405 (GET only)"

# --- streamed chat (01): headers, one chunk per NDJSON line, skeleton of each line ------------
part 01-api-chat-stream-cold chat-stream RESPONSE >"$T_TMP/want"
replay 01-api-chat-stream-cold chat-stream "$U" "$O"
head_of "$T_TMP/want" | mask_date >"$T_TMP/wh"
head_of "$O" | mask_date >"$T_TMP/gh"
cmp -s "$T_TMP/wh" "$T_TMP/gh"
ok $? "chat stream: the transcript's head (status, Content-Type, Date, Transfer-Encoding)"
body_of "$O" >"$T_TMP/gb"
chunks "$T_TMP/gb" >"$T_TMP/gc"
tail -n 1 "$T_TMP/gc" | grep -q '^ok ' && [ "$(grep -c '^#' "$T_TMP/gc")" = "$(tail -n 1 "$T_TMP/gc" | cut -d' ' -f2)" ]
ok $? "chat stream: every chunk is exactly one NDJSON line, sizes right, ends 0 CRLF CRLF"
body_of "$T_TMP/want" >"$T_TMP/wb"
grep '^{' "$T_TMP/wb" | skeleton | sort -u >"$T_TMP/ws"
grep '^{' "$T_TMP/gb" | skeleton | sort -u >"$T_TMP/gs"
cmp -s "$T_TMP/ws" "$T_TMP/gs"
ok $? "chat stream: the same line shapes (Go key order, omitempty) as the transcript"
grep '^{' "$T_TMP/gb" | tail -n 1 | grep -q '"done":true,"done_reason":"stop"'
ok $? "chat stream: ends with the done line (done_reason stop)"
grep '^{' "$T_TMP/gb" | head -n 1 | grep -q '"created_at":"[0-9-]*T[0-9:]*\(\.[0-9]*[1-9]\)\{0,1\}Z"'
ok $? "chat stream: created_at is RFC 3339 UTC with trimmed fraction"
ld=$(json_num "$T_TMP/gb" load_duration)
[ "${ld:-0}" -ge 590000000 ]
ok $? "cold load: load_duration ($ld ns) covers the 600 ms load (timer slack 10 ms)"
replay 01-api-chat-stream-cold chat-stream "$U" "$O"
ld=$(body_of "$O" | grep load_duration >"$T_TMP/x"; json_num "$T_TMP/x" load_duration)
[ "${ld:-999999999}" -lt 100000000 ]
ok $? "warm: load_duration ($ld ns) a few ms"
n=$(grep -c '"done":false' "$T_TMP/gb")
replay 01-api-chat-stream-cold chat-stream "$U" "$O"
[ "$n" -le 32 ] && [ "$(body_of "$O" | grep -c '"done":false')" = "$n" ]
ok $? "the same prompt gives the same answer ($n pieces, num_predict 32 respected)"

# --- non-streamed generate (02), Content-Length vs chunked ----------------------------------
part 02-api-generate-nonstream-warm generate-nonstream RESPONSE >"$T_TMP/want"
replay 02-api-generate-nonstream-warm generate-nonstream "$U" "$O"
head_of "$O" | mask_date | sed 's/^Content-Length: [0-9]*/Content-Length: N/' >"$T_TMP/gh"
head_of "$T_TMP/want" | mask_date | sed 's/^Content-Length: [0-9]*/Content-Length: N/' >"$T_TMP/wh"
cmp -s "$T_TMP/gh" "$T_TMP/wh"
ok $? "generate stream:false: the transcript's head (charset, Content-Length)"
body_of "$O" | skeleton >"$T_TMP/gs"
body_of "$T_TMP/want" | skeleton >"$T_TMP/ws"
cmp -s "$T_TMP/gs" "$T_TMP/ws"
ok $? "generate stream:false: the same skeleton (context, counters, no trailing newline)"
len=$(grep -i '^Content-Length:' "$O" | tr -dc 0-9)
[ "$(body_of "$O" | tr -d '\n' | wc -c)" -eq "$len" ] && [ "$len" -le 2048 ]
ok $? "a body of $len bytes (<= 2048) carries Content-Length"
long=$(i=0; while [ $i -lt 400 ]; do printf 'word%d ' $i; i=$((i + 1)); done)
curl -s -i --raw -d "{\"model\":\"qwen2.5:0.5b\",\"prompt\":\"$long\",\"stream\":false}" \
    "$U/api/generate" >"$O"
body_of "$O" >"$T_TMP/gb"
grep -qx "Transfer-Encoding: chunked$CR" "$O" && ! grep -qi '^Content-Length' "$O" &&
    [ "$(chunks "$T_TMP/gb" | tail -n 1)" = "ok 1" ]
ok $? "a body over 2048 bytes (a 400-word prompt's context) is chunked, in one chunk as Go writes it"
curl -s -d '{"model":"qwen2.5:0.5b","prompt":"Tell me a story.","stream":false,"options":{"num_predict":3}}' \
    "$U/api/generate" >"$O"
grep -q '"done_reason":"length","context":\[' "$O" && [ "$(json_num "$O" eval_count)" = 3 ]
ok $? "num_predict 3: three tokens, done_reason length"

# --- ps / tags (04) --------------------------------------------------------------------------
part 04-api-ps-tags-version ps RESPONSE >"$T_TMP/want"
curl -s -d '{"model":"gemma3:1b","keep_alive":0}' "$U/api/generate" >/dev/null
curl -s -d '{"model":"qwen2.5:0.5b","keep_alive":0}' "$U/api/generate" >/dev/null
replay 04-api-ps-tags-version ps "$U" "$O"
head_of "$O" | mask_date | sed 's/^Content-Length: [0-9]*/Content-Length: N/' >"$T_TMP/gh"
head_of "$T_TMP/want" | mask_date | sed 's/^Content-Length: [0-9]*/Content-Length: N/' >"$T_TMP/wh"
body_of "$O" | skeleton >"$T_TMP/gs"
body_of "$T_TMP/want" | skeleton >"$T_TMP/ws"
cmp -s "$T_TMP/gh" "$T_TMP/wh" && cmp -s "$T_TMP/gs" "$T_TMP/ws"
ok $? "ps: the transcript's head and skeleton (size, digest, details, expires_at, size_vram, context_length)"
body_of "$O" | grep -q '"size":1514584145,"digest":"baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878"'
ok $? "ps: llama3.2:1b's size and digest as in the transcript"
body_of "$O" | grep -q '"expires_at":"[0-9-]*T[0-9:.]*\(Z\|[+-][0-9][0-9]:[0-9][0-9]\)"'
ok $? "ps: expires_at in local time with an offset"
part 04-api-ps-tags-version tags RESPONSE >"$T_TMP/want"
replay 04-api-ps-tags-version tags "$U" "$O"
body_of "$O" | sed 's/,"capabilities":\[[^]]*\]//g' | skeleton | tr '{' '\n' | sort >"$T_TMP/gs"
body_of "$T_TMP/want" | skeleton | tr '{' '\n' | sort >"$T_TMP/ws"
cmp -s "$T_TMP/gs" "$T_TMP/ws"
ok $? "tags: the transcript's entries (names, sizes, digests, details; capabilities aside)"
for m in gemma3:1b qwen2.5:0.5b llama3.2:1b; do
    body_of "$T_TMP/want" | sed 's/},{/}\n{/g' | grep "\"name\":\"$m\"" |
        sed 's/"modified_at":"[^"]*",//' >"$T_TMP/we"
    body_of "$O" | sed 's/},{/}\n{/g' | grep "\"name\":\"$m\"" |
        sed 's/"modified_at":"[^"]*",//; s/,"capabilities":\[[^]]*\]//' >"$T_TMP/ge"
    cmp -s "$T_TMP/we" "$T_TMP/ge" || break
done
ok $? "tags: each library model's entry equals the transcript's byte for byte (but modified_at)"

# --- keep_alive ------------------------------------------------------------------------------
curl -s -d '{"model":"qwen2.5:0.5b","prompt":"hi","stream":false,"keep_alive":"2s"}' "$U/api/generate" >/dev/null
curl -s "$U/api/ps" | grep -q '"name":"qwen2.5:0.5b"'
ok $? "keep_alive 2s: the model shows in /api/ps"
sleep 3
! curl -s "$U/api/ps" | grep -q '"name":"qwen2.5:0.5b"'
ok $? "keep_alive 2s: gone from /api/ps after 3 s"
curl -s -d '{"model":"gemma3:1b","prompt":"hi","stream":false,"keep_alive":-1}' "$U/api/generate" >/dev/null
curl -s "$U/api/ps" | sed 's/},{"name"/}\n{"name"/g' | grep '"name":"gemma3:1b"' |
    grep -q '"expires_at":"2[3-9][0-9][0-9]-'
ok $? "keep_alive -1: expires_at about 292 years ahead"
curl -s -d '{"model":"gemma3:1b","prompt":"","keep_alive":0}' "$U/api/generate" >"$O"
grep -q '"done":true,"done_reason":"unload"' "$O"
ok $? "empty prompt + keep_alive 0: done_reason unload"
curl -s -d '{"model":"gemma3:1b","messages":[]}' "$U/api/chat" >"$O"
grep -q '^{"model":"gemma3:1b","created_at":"[^"]*","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}$' "$O"
ok $? "chat with no messages: the load answer"

# --- mid-stream error (03) -------------------------------------------------------------------
curl -s -d '{"mode":"midstream"}' "$U/sim/fail" >/dev/null
replay 03-errors chat-midstream-error "$U" "$O"
body_of "$O" >"$T_TMP/gb"
chunks "$T_TMP/gb" >"$T_TMP/gc"
head -n 1 "$O" | grep -q '200 OK' && tail -n 1 "$T_TMP/gc" | grep -q '^ok' &&
    grep '^#' "$T_TMP/gc" | tail -n 1 | grep -q '^#[0-9]*: {"error":"[^"]*"}$' &&
    ! grep -q '"done":true' "$T_TMP/gb"
ok $? "mid-stream failure: 200, then an {\"error\"} line as its own chunk, no done line"
curl -s -d '{"mode":"none"}' "$U/sim/fail" >/dev/null

# --- OpenAI (05) -----------------------------------------------------------------------------
part 05-openai-compat "openai-stream-v0.32.6+" RESPONSE >"$T_TMP/want"
replay 05-openai-compat "openai-stream-v0.32.6+" "$U" "$O"
head_of "$O" | mask_date >"$T_TMP/gh"
head_of "$T_TMP/want" | mask_date >"$T_TMP/wh"
cmp -s "$T_TMP/gh" "$T_TMP/wh"
ok $? "SSE: the transcript's head (text/event-stream, chunked)"
body_of "$O" >"$T_TMP/gb"
chunks "$T_TMP/gb" >"$T_TMP/gc"
tail -n 1 "$T_TMP/gc" | grep -q '^ok'
ok $? "SSE: chunk framing"
last=$(tail -n 2 "$T_TMP/gc" | head -n 1 | cut -d: -f1)
grep "^$last: " "$T_TMP/gc" | cut -d' ' -f2- | grep -c '^data: ' >"$T_TMP/n"
[ "$(cat "$T_TMP/n")" = 3 ] && grep "^$last: " "$T_TMP/gc" | tail -n 2 | head -n 1 | grep -q '^#[0-9]*: data: \[DONE\]$'
ok $? "SSE: finish, usage and data: [DONE] share the last chunk"
grep -o '^#[0-9]*: data: .*' "$T_TMP/gc" | cut -d' ' -f2- | skeleton | sort -u >"$T_TMP/gs"
body_of "$T_TMP/want" | grep '^data: ' | skeleton | sort -u >"$T_TMP/ws"
cmp -s "$T_TMP/gs" "$T_TMP/ws"
ok $? "SSE: the v0.32.6+ event shapes (role once, finish chunk with empty delta, usage chunk)"
[ "$(grep -o '"created":[0-9]*' "$T_TMP/gb" | sort -u | wc -l)" -eq 1 ] &&
    [ "$(grep -o '"id":"chatcmpl-[0-9]*"' "$T_TMP/gb" | sort -u | wc -l)" -eq 1 ]
ok $? "SSE: one id and one created for the whole stream"
part 05-openai-compat openai-nonstream RESPONSE >"$T_TMP/want"
replay 05-openai-compat openai-nonstream "$U" "$O"
head_of "$O" | mask_date | sed 's/^Content-Length: [0-9]*/Content-Length: N/' >"$T_TMP/gh"
head_of "$T_TMP/want" | mask_date | sed 's/^Content-Length: [0-9]*/Content-Length: N/' >"$T_TMP/wh"
body_of "$O" | skeleton >"$T_TMP/gs"
body_of "$T_TMP/want" | skeleton >"$T_TMP/ws"
cmp -s "$T_TMP/gh" "$T_TMP/wh" && cmp -s "$T_TMP/gs" "$T_TMP/ws" && [ "$(tail -c 1 "$O" | od -An -c | tr -d ' ')" = '\n' ]
ok $? "OpenAI stream:false: application/json without charset, the same skeleton, trailing newline"
part 05-openai-compat openai-models RESPONSE >"$T_TMP/want"
replay 05-openai-compat openai-models "$U" "$O"
same "$O" "$T_TMP/want"
ok $? "/v1/models: the transcript's bytes (newest first, as /api/tags; trailing newline)"

# --- sysfs -----------------------------------------------------------------------------------
wait_for 3 test -s "$R/sys/class/thermal/thermal_zone0/temp"
[ -s "$R/proc/meminfo" ] && [ -s "$R/proc/stat" ] && [ -s "$R/proc/loadavg" ] &&
    [ "$(cat "$R/sys/class/thermal/thermal_zone0/type")" = cpu-thermal ] &&
    grep -q '^MemTotal: *8388608 kB$' "$R/proc/meminfo"
ok $? "sysfs: meminfo (8192 MB), stat, loadavg, thermal_zone0 (cpu-thermal)"
curl -s -d '{"c":80}' "$U/sim/temp" >/dev/null
wait_for 3 grep -qx 80000 "$R/sys/class/thermal/thermal_zone0/temp"
ok $? "POST /sim/temp {\"c\":80}: the zone reads 80000 within a tick"
curl -s -d '{"c":null}' "$U/sim/temp" >/dev/null
wait_for 3 sh -c "! grep -qx 80000 '$R/sys/class/thermal/thermal_zone0/temp'"
ok $? "{\"c\":null} releases it"

# --- queue full (03): a second sim with one pending slot -------------------------------------
# a load of 6 s, so that the two requests are surely in (one loading, one pending) 1 s after
# each was sent, on a machine loaded 10 times over as well
start_sim q --models llama3.2:1b,gemma3:1b,qwen2.5:0.5b --load-ms 6000 --max-queue 1
Q=$SIM_URL_q
curl -s -d '{"model":"llama3.2:1b","prompt":"a","stream":false}' "$Q/api/generate" >"$T_TMP/qa" &
pa=$!
sleep 1
curl -s -d '{"model":"qwen2.5:0.5b","prompt":"b","stream":false}' "$Q/api/generate" >"$T_TMP/qb" &
pb=$!
sleep 1
part 03-errors chat-queue-full RESPONSE >"$T_TMP/want"
replay 03-errors chat-queue-full "$Q" "$O"
same "$O" "$T_TMP/want"
ok $? "queue full: 503 with the transcript's exact bytes (two spaces after 'again.')"
wait "$pa" "$pb"
grep -q '"done":true' "$T_TMP/qa" && grep -q '"done":true' "$T_TMP/qb"
ok $? "queue full: the loading and the queued request both finish"
ld=$(json_num "$T_TMP/qb" load_duration)
[ "${ld:-0}" -ge 2600000000 ]
ok $? "queued behind another load: load_duration ($ld ns) = the wait (~1.3 s) + its own load (1.5 s)"

done_testing
