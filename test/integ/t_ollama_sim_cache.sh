#!/bin/sh
# ollama-sim's prompt (KV) cache on the wire, in both engine generations: llama-server
# (>= v0.30: similarity, host-RAM cache), the Go runners (<= v0.24: longest prefix, clobbering;
# multiuser), v0.30.0's prompt_eval_count, the prefill rate, truncation at num_ctx, a reload on
# a num_ctx change, an unload dropping the cache, generate's context. prompt_eval_duration is
# computed from the uncached tokens (deterministic), so nothing here depends on wall time.
. "$(dirname "$0")/lib.sh"

sim() { # sim <name> <flags...>: sets U
    s_name=$1
    shift
    s_port=$(free_port)
    bg "sim-$s_name" $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$s_port" --load-ms 20 \
        --tokens-per-s 500 --prefill-tps 1000 "$@"
    U=http://127.0.0.1:$s_port
    wait_for 10 curl -sf "$U/api/version"
}
num() { sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" "$2" | tail -1; }
# chat <file> <json messages>: a stream:false chat with llama3.2:1b
chat() { curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"messages\":$2$3}" "$U/api/chat" >"$1"; }
uncached() { echo $(($(num prompt_eval_duration "$1") / 1000000)); } # at 1000 tokens/s
SYS='{"role":"system","content":"You answer questions about the weather, the sky and the sea in a few words."}'
A1="[$SYS,{\"role\":\"user\",\"content\":\"Why is the sky blue? [[sim:reply=Because air scatters blue light most.]]\"}]"
A2="[$SYS,{\"role\":\"user\",\"content\":\"Why is the sky blue? [[sim:reply=Because air scatters blue light most.]]\"},{\"role\":\"assistant\",\"content\":\"Because air scatters blue light most.\"},{\"role\":\"user\",\"content\":\"And why is the sea blue too?\"}]"
B1="[$SYS,{\"role\":\"user\",\"content\":\"Write a title for a chat about cooking pasta at home with friends.\"}]"

# --- llama-server (the default, v0.32.6), one slot, host cache -----------------------------
sim srv --models llama3.2:1b
ok $? "sim (llama-server generation) starts"
chat "$T_TMP/a1" "$A1"
p1=$(num prompt_eval_count "$T_TMP/a1")
is "$(uncached "$T_TMP/a1")" "$p1" "cold: every prompt token evaluated ($p1 at 1000/s)"
check "the reply marker fixes the answer" grep -q '"content":"Because air scatters blue light most."' "$T_TMP/a1"
chat "$T_TMP/a2" "$A2"
p2=$(num prompt_eval_count "$T_TMP/a2")
u2=$(uncached "$T_TMP/a2")
check "turn 2 counts the whole prompt ($p2 > $p1)" test "$p2" -gt "$p1"
check "turn 2 evaluates only what follows turn 1's prompt and answer ($u2 of $p2)" test "$u2" -lt $((p2 - p1))
chat "$T_TMP/b1" "$B1"
ub=$(uncached "$T_TMP/b1")
pb=$(num prompt_eval_count "$T_TMP/b1")
check "another chat in the one slot reuses the shared system prompt only ($ub of $pb)" \
    test "$ub" -lt "$pb" -a "$ub" -gt $((pb - p1 + 2))
chat "$T_TMP/a2b" "$A2"
is "$(uncached "$T_TMP/a2b")" 1 "chat A again after B: restored from the host-RAM cache, one token evaluated"
curl -s -d '{"model":"llama3.2:1b","keep_alive":0}' "$U/api/generate" >/dev/null
wait_for 5 sh -c "! curl -s $U/api/ps | grep -q llama3.2"
chat "$T_TMP/a2c" "$A2"
is "$(uncached "$T_TMP/a2c")" "$p2" "after an unload (keep_alive 0) everything is evaluated again"

# generate's context carries the conversation: the next turn hits
curl -s -d '{"model":"llama3.2:1b","stream":false,"prompt":"Name a colour."}' "$U/api/generate" >"$T_TMP/g1"
ctx=$(sed -n 's/.*"context":\(\[[0-9,]*\]\).*/\1/p' "$T_TMP/g1")
n_ctx=$(echo "$ctx" | tr -cd , | wc -c)
check "generate's context holds the prompt's and the answer's tokens ($((n_ctx + 1)))" \
    test $((n_ctx + 1)) -gt "$(num prompt_eval_count "$T_TMP/g1")"
curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"prompt\":\"And another.\",\"context\":$ctx}" "$U/api/generate" >"$T_TMP/g2"
check "a generate with that context evaluates only the new turn ($(uncached "$T_TMP/g2") of $(num prompt_eval_count "$T_TMP/g2"))" \
    test "$(uncached "$T_TMP/g2")" -lt 15

# num_ctx: truncation (>= v0.30 rule), prompt_eval_count capped, a reload, truncate:false
LONG=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "word%d ", i }')
curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"prompt\":\"$LONG\",\"options\":{\"num_ctx\":64}}" "$U/api/generate" >"$T_TMP/t1"
is "$(num prompt_eval_count "$T_TMP/t1")" 35 "num_ctx 64: the prompt is cut to 64 - (64 - 5) / 2 = 35 tokens (llama_server.go)"
check "/api/ps shows the runner reloaded with context 64" sh -c "curl -s $U/api/ps | grep -q '\"context_length\":64}'"
check "the reload was a cold load (load_duration >= 20 ms)" test "$(num load_duration "$T_TMP/t1")" -ge 20000000
curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"prompt\":\"$LONG\",\"options\":{\"num_ctx\":64},\"truncate\":false}" \
    -w '%{http_code}' -o "$T_TMP/t2" "$U/api/generate" >"$T_TMP/t2.code"
is "$(cat "$T_TMP/t2.code") $(cat "$T_TMP/t2")" \
    '400 {"error":"the request exceeds the available context size, try increasing it"}' "truncate:false: llama-server's 400"
curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"prompt\":\"$LONG\",\"options\":{\"num_ctx\":64},\"shift\":false}" "$U/api/generate" >"$T_TMP/t3"
check "shift:false: Ollama's 400 about the context length" grep -q '"error":"the prompt is longer than the context length currently available' "$T_TMP/t3"
curl -s -d '{"model":"llama3.2:1b","stream":false,"prompt":"short"}' "$U/api/generate" >/dev/null
check "a request with the default context reloads it (4096)" sh -c "curl -s $U/api/ps | grep -q '\"context_length\":4096}'"
MANY="[$SYS"
i=0
while [ $i -lt 30 ]; do MANY="$MANY,{\"role\":\"user\",\"content\":\"question number $i about the weather\"},{\"role\":\"assistant\",\"content\":\"answer $i\"}"; i=$((i + 1)); done
chat "$T_TMP/m1" "$MANY,{\"role\":\"user\",\"content\":\"last\"}]" ',"options":{"num_ctx":128}'
n=$(num prompt_eval_count "$T_TMP/m1")
check "a long chat with num_ctx 128: the oldest messages are dropped ($n <= 128)" test "$n" -le 128 -a "$n" -gt 64

# --- v0.30.0: prompt_eval_count counts only the uncached tokens -----------------------------
sim v300 --models llama3.2:1b --version-string 0.30.0
chat "$T_TMP/v1" "$A1"
chat "$T_TMP/v2" "$A2"
is "$(num prompt_eval_count "$T_TMP/v2")" "$(uncached "$T_TMP/v2")" "v0.30.0: prompt_eval_count = the uncached tokens"
check "  (fewer than the whole prompt)" test "$(num prompt_eval_count "$T_TMP/v2")" -lt "$p2"

# --- the Go runners (v0.24), one slot: another chat clobbers the slot ------------------------
sim v24 --models llama3.2:1b --version-string 0.24.0
chat "$T_TMP/r1" "$A1"
chat "$T_TMP/r2" "$B1"
chat "$T_TMP/r3" "$A2"
is "$(num prompt_eval_count "$T_TMP/r3")" "$p2" "v0.24: prompt_eval_count is the whole prompt"
check "v0.24, one slot: after another chat, chat A's turn 2 misses ($(uncached "$T_TMP/r3") of $p2)" \
    test "$(uncached "$T_TMP/r3")" -gt $((p2 - p1))
curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"prompt\":\"$LONG\",\"options\":{\"num_ctx\":64}}" "$U/api/generate" >"$T_TMP/r4"
is "$(num prompt_eval_count "$T_TMP/r4")" 64 "v0.24: an over-long prompt is cut to num_ctx (runner.go NewSequence)"
curl -s -d "{\"model\":\"llama3.2:1b\",\"stream\":false,\"prompt\":\"$LONG\",\"options\":{\"num_ctx\":64},\"truncate\":false}" "$U/api/generate" >"$T_TMP/r5"
is "$(cat "$T_TMP/r5")" '{"error":"the input length exceeds the context length"}' "v0.24 truncate:false: the runner's 400 text"
curl -s -d '{"model":"llama3.2:1b","prompt":"x","images":["aGVsbG8="],"stream":false}' "$U/api/generate" >"$T_TMP/r6"
check "v0.24: an image to a model without vision is ignored (the Go runner)" grep -q '"done":true' "$T_TMP/r6"
is "$(curl -s -d '{"model":"llama3.2:1b","input":"x"}' "$U/api/embed")" '{"error":"this model does not support embeddings"}' \
    "v0.24: embed on a completion model: the Go runner's text"

# --- v0.24 with OLLAMA_MULTIUSER_CACHE and two slots: chats keep their slots -----------------
sim mu --models llama3.2:1b --version-string 0.24.0 --kv-cache multiuser --num-parallel 2
chat "$T_TMP/u1" "$A1"
chat "$T_TMP/u2" "$B1"
chat "$T_TMP/u3" "$A2"
check "multiuser, two slots: chat A's turn 2 hits after chat B ($(uncached "$T_TMP/u3") of $p2)" \
    test "$(uncached "$T_TMP/u3")" -lt $((p2 - p1))

# --- none; the default prefill rate (the Pi 5 figure scaled by tokens-per-s / 10) ------------
port=$(free_port)
bg sim-pi $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$port" --models llama3.2:1b \
    --load-ms 20 --tokens-per-s 100 --kv-cache none
U=http://127.0.0.1:$port
wait_for 10 curl -sf "$U/api/version"
chat "$T_TMP/n1" "$A1"
chat "$T_TMP/n2" "$A1"
p=$(num prompt_eval_count "$T_TMP/n2")
want=$(awk -v p="$p" 'BEGIN { printf "%d", p * 1e9 / 729 }')
is "$(num prompt_eval_duration "$T_TMP/n2")" "$want" "--kv-cache none: nothing reused; 72.9 tokens/s x 100/10 = 729/s"
curl -s -d '{"model":"llama3.2:1b","input":"x"}' "$U/api/embed" >/dev/null
check "the sim is still up" curl -sf "$U/api/version"
done_testing
