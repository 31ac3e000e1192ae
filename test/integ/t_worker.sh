#!/bin/sh
# orion-inference-worker against a real redis-server and an Ollama stand-in (ollama-sim), with
# a fixture /proc and /sys: health contents, chat/generate/streamed answers, bad entries,
# unknown model, Ollama down, Ollama hung (--ollama-timeout), Redis restarted, kill -9
# mid-generation, already-answered entries, SIGTERM.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
H=orion:inference:health
S=orion:inference:requests:pi-t
ROOT=$ORION_TOP/test/data/proc/pi4
OLLAMA_URL=${WORKER_TEST_OLLAMA:-}
if [ -z "$OLLAMA_URL" ]; then
    start_sim t --models gemma3:1b,llama3.2:1b --load-ms 300 --tokens-per-s 50 || ok 1 "ollama-sim starts"
    OLLAMA_URL=$SIM_URL_t
fi
start_worker pi-t "$OLLAMA_URL" "$ROOT"
WPID=$BG_PID
has_health() { rcli HEXISTS $H pi-t | grep -q 1; }
wait_for 5 has_health
ok $? "health published under the node id"
hj=$(health_json pi-t)
echo "# $hj"
for f in '"node_id":"pi-t"' '"temp_c":61.234' '"ram_total_mb":7810' '"available":true' '"capacity":1' '"ollama_up":true' '"installed":["' '"models":[' '"last_seen":' '"ollama_version":"0.32.6"'; do
    case "$hj" in *"$f"*) ok 0 "health has $f" ;; *) ok 1 "health has $f" ;; esac
done
add() { rcli XADD $S '*' "$@" >/dev/null; }
answered() { [ "$(answers "$1")" -ge 1 ]; }

add model gemma3:1b prompt "Say hello" callback cb-gen
wait_for 10 answered cb-gen
is "$(answer_field cb-gen status)" ok "generate: status ok"
test -n "$(answer_field cb-gen response)"; ok $? "generate: the whole text in response"
is "$(answer_field cb-gen node_id)" pi-t "generate: node_id"
test "$(answer_field cb-gen eval_count)" -gt 0 2>/dev/null; ok $? "generate: Ollama's counters passed on"
# the done event on P:events carries total_duration and load_duration (routers learn from them)
ev_field() { # ev_field <type> <field>: the field of the first event of that type
    rcli --raw XRANGE orion:inference:events - + | awk -v t="$1" -v f="$2" '
        /^[0-9]+-[0-9]+$/ && prev != "request_id" { typ = "" } prev == "type" { typ = $0 }
        typ == t && prev == f { print; exit } { prev = $0 }'
}
has_done_ev() { [ -n "$(ev_field done load_duration)" ]; }
wait_for 5 has_done_ev
test "$(ev_field done load_duration)" -ge 300000000 2>/dev/null
ok $? "done event: load_duration of the cold load (>= 300 ms in ns): $(ev_field done load_duration)"
test "$(ev_field done total_duration)" -ge "$(ev_field done load_duration)" 2>/dev/null
ok $? "done event: total_duration >= load_duration"
is "$(ev_field done prompt_eval_count)" "$(answer_field cb-gen prompt_eval_count)" \
    "done event: the answer's prompt_eval_count (routers learn prefill rates)"
is "$(ev_field done eval_duration)" "$(answer_field cb-gen eval_duration)" "done event: eval_duration"
test "$(ev_field done prompt_eval_duration)" -gt 0 2>/dev/null
ok $? "done event: prompt_eval_duration"
is "$(ev_field done prompt_cached)" "" "done event: no prompt_cached where Ollama does not tell it"
is "$(ev_field started total_duration)" "" "started event: no counters"

add model gemma3:1b messages '[{"role":"user","content":"hi"}]' callback cb-chat stream true
wait_for 10 answered cb-chat
is "$(answer_field cb-chat status)" ok "chat: status ok"
case "$(answer_field cb-chat message)" in '{"role":"assistant","content":'*) ok 0 "chat: message JSON" ;; *) ok 1 "chat: message JSON" ;; esac
chunks=$(rcli --raw XRANGE cb-chat - + | grep -cx chunk)
test "$chunks" -ge 1; ok $? "stream=true: $chunks chunk entries before the answer"
last=$(rcli --raw XRANGE cb-chat - + | awk 'prev=="type"{t=$0}{prev=$0}END{print t}')
is "$last" done "the done entry comes last"

add prompt "no model" callback cb-bad1
add model gemma3:1b callback cb-bad2
add model gemma3:1b messages '[{"role":' callback cb-bad3
add model gemma3:1b prompt x priority 9 callback cb-bad4
for c in cb-bad1 cb-bad2 cb-bad3 cb-bad4; do
    wait_for 5 answered $c
    is "$(answer_field $c code)" bad_request "bad entry $c: bad_request"
done
add model nope:1b prompt x callback cb-404
wait_for 10 answered cb-404
is "$(answer_field cb-404 code)" model_not_found "unknown model: model_not_found"
is "$(answer_field cb-404 retriable)" false "... not retriable"
is "$(ev_field failed code)" bad_request "failed event: the answer's code (the first: a bad entry)"
has_404_ev() { rcli --raw XRANGE orion:inference:events - + | grep -qx model_not_found; }
wait_for 5 has_404_ev
ok $? "failed event of the unknown model: code model_not_found"
is "$(rcli XLEN $S)" 0 "every entry acknowledged and deleted: nothing pending"

rcli SET orion:inference:done:already 1 >/dev/null
add model gemma3:1b prompt x callback cb-dup request_id already
sleep 1.5
is "$(answers cb-dup)" 0 "an already answered request is acknowledged without running"
is "$(rcli XLEN $S)" 0 "... and removed"

# kill -9 in the middle of a generation: after a restart the request is answered exactly once
if [ -z "${WORKER_TEST_OLLAMA:-}" ]; then
    curl -sf -X POST -d '{"mode":"hang"}' "$OLLAMA_URL/sim/fail" >/dev/null
    add model gemma3:1b prompt "a long answer please" callback cb-kill
    sleep 0.8
    kill -9 "$WPID"
    wait "$WPID" 2>/dev/null
    is "$(answers cb-kill)" 0 "killed mid-generation: no answer yet"
    curl -sf -X POST -d '{"mode":"none"}' "$OLLAMA_URL/sim/fail" >/dev/null
    start_worker pi-t "$OLLAMA_URL" "$ROOT"
    WPID=$BG_PID
    wait_for 20 answered cb-kill
    is "$(answer_field cb-kill status)" ok "after the restart its own pending request ran again"
    sleep 1
    is "$(answers cb-kill)" 1 "... and was answered exactly once"

    # a caller cancels a running request: Ollama's generation is stopped, answered canceled
    curl -sf -X POST -d '{"mode":"hang"}' "$OLLAMA_URL/sim/fail" >/dev/null
    add model gemma3:1b prompt "cancel me" callback cb-cancel request_id req-cancel
    sleep 0.5
    rcli SET orion:inference:cancel:req-cancel 1 EX 60 >/dev/null
    wait_for 5 answered cb-cancel
    is "$(answer_field cb-cancel code)" canceled "a canceled request is answered code=canceled"
    curl -sf -X POST -d '{"mode":"none"}' "$OLLAMA_URL/sim/fail" >/dev/null

    # Ollama sending garbage, failing mid-stream: error answers, the worker stays up
    curl -sf -X POST -d '{"mode":"garbage"}' "$OLLAMA_URL/sim/fail" >/dev/null
    add model gemma3:1b prompt x callback cb-garbage
    wait_for 10 answered cb-garbage
    is "$(answer_field cb-garbage code)" bad_response "Ollama sends garbage: bad_response"
    curl -sf -X POST -d '{"mode":"midstream"}' "$OLLAMA_URL/sim/fail" >/dev/null
    add model gemma3:1b prompt x callback cb-mid stream true
    wait_for 10 answered cb-mid
    is "$(answer_field cb-mid code)" ollama_error "an error line inside the stream: ollama_error"
    curl -sf -X POST -d '{"mode":"none"}' "$OLLAMA_URL/sim/fail" >/dev/null
    kill -0 "$WPID"; ok $? "the worker is still up"

    # Ollama never sends its headers: with --ollama-timeout 2 the request is answered timeout
    # after ~2 s instead of holding the slot for the default 600 s
    start_sim h --models gemma3:1b --load-ms 100 --tokens-per-s 50 || ok 1 "second ollama-sim starts"
    curl -sf -X POST -d '{"mode":"hang"}' "$SIM_URL_h/sim/fail" >/dev/null
    start_worker pi-h "$SIM_URL_h" "$ROOT" --ollama-timeout 2
    WH=$BG_PID
    sleep 0.5
    t0=$(date +%s)
    rcli XADD orion:inference:requests:pi-h '*' model gemma3:1b prompt hung callback cb-hung >/dev/null
    wait_for 15 answered cb-hung
    dt=$(($(date +%s) - t0))
    is "$(answer_field cb-hung code)" timeout "hung Ollama, --ollama-timeout 2: answered timeout"
    is "$(answer_field cb-hung retriable)" true "... retriable"
    [ "$dt" -ge 1 ] && [ "$dt" -le 6 ]
    ok $? "... after about 2 s (took $dt s)"
    kill "$WH"
    wait "$WH" 2>/dev/null

    # the done event goes right behind the answer, not after its confirmation: routers learn
    # that the slot is free before a caller who read the answer can ask again. With
    # --redis-min-replicas 1 and no replica the answer is never confirmed (WAIT finds none),
    # yet the event is there
    start_worker pi-r "$OLLAMA_URL" "$ROOT" --redis-min-replicas 1 --redis-wait-timeout 200
    WR=$BG_PID
    rcli XADD orion:inference:requests:pi-r '*' model gemma3:1b prompt r request_id rep-1 \
        callback cb-rep >/dev/null
    wait_for 15 answered cb-rep
    ok $? "min-replicas 1 without a replica: the answer is written"
    rep_done() { # an entry of P:events with type done and request_id rep-1
        rcli --raw XRANGE orion:inference:events - + | awk '
            /^[0-9]+-[0-9]+$/ && prev != "request_id" { typ = ""; rid = "" }
            prev == "type" { typ = $0 } prev == "request_id" { rid = $0 }
            typ == "done" && rid == "rep-1" { f = 1 } { prev = $0 } END { exit !f }'
    }
    wait_for 10 rep_done
    ok $? "... and its done event with it, though WAIT never confirmed the answer"
    kill "$WR"
    wait "$WR" 2>/dev/null

    # Ollama down, then back
    kill "$SIM_PID_t"
    wait "$SIM_PID_t" 2>/dev/null
    add model gemma3:1b prompt down callback cb-down
    wait_for 10 answered cb-down
    is "$(answer_field cb-down code)" ollama_unreachable "Ollama down: ollama_unreachable"
    is "$(answer_field cb-down retriable)" true "... retriable"
    ollama_down() { health_json pi-t | grep -q '"ollama_up":false'; }
    wait_for 5 ollama_down
    ok $? "health shows ollama_up false, models []"
    health_json pi-t | grep -q '"available":true'; ok $? "the worker stays available"
    port=${OLLAMA_URL##*:}
    bg sim-again $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$port" --models gemma3:1b,llama3.2:1b \
        --load-ms 300 --tokens-per-s 50 --sysfs-root "$SIM_ROOT_t"
    ollama_up() { health_json pi-t | grep -q '"ollama_up":true'; }
    wait_for 10 ollama_up
    ok $? "Ollama back: health shows ollama_up true"
    add model gemma3:1b prompt up callback cb-up
    wait_for 10 answered cb-up
    is "$(answer_field cb-up status)" ok "requests served again"
fi

# Redis restarted (no persistence): the worker reconnects and publishes again
kill -9 "$REDIS_PID"
sleep 1
bg redis2 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$T_TMP"
REDIS_PID=$BG_PID
wait_for 10 has_health
ok $? "Redis restarted: health published again"
add model gemma3:1b prompt again callback cb-after
wait_for 30 answered cb-after # both connections may be in their 5 s backoff
is "$(answer_field cb-after status)" ok "requests served after the restart (group re-created)"
kill -0 "$WPID"; ok $? "worker still running"
is "$(grep -c 'redis.*Connection refused' "$T_TMP/worker-pi-t.log")" 2 "outage logged once per connection, not once per retry"
is "$(grep -c 'redis.*: connected' "$T_TMP/worker-pi-t.log")" 2 "recovery logged once per connection"

# SIGTERM: field removed, exit 0
kill -TERM "$WPID"
wait "$WPID"
is "$?" 0 "SIGTERM: exit 0"
is "$(rcli HEXISTS $H pi-t)" 0 "SIGTERM: health field removed"
done_testing
