#!/bin/sh
# The router's operating endpoints: /metrics, /stats, /backends, register/deregister (P:drain)
# and the status page /ui, against a real redis-server with health written by hand for three
# nodes (pi-hot over --max-temp). The page is checked in headless Chromium when it is there.
. "$(dirname "$0")/lib.sh"
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
H=orion:inference:health
Q=orion:inference:requests
D=orion:inference:drain
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
health() { # health <node> <temp> <ram> <cpu> <capacity> <models json> <installed json>
    rcli HSET $H "$1" "{\"node_id\":\"$1\",\"last_seen\":$(date +%s),\"temp_c\":$2,\"ram_percent\":$3,\"cpu_percent\":$4,\"ram_total_mb\":8000,\"capacity\":$5,\"models\":$6,\"installed\":$7,\"available\":true}" >/dev/null
}
beat() {
    while :; do
        health pi-a 51.5 40 12.5 2 '["gemma3:1b"]' '["gemma3:1b"]'
        health pi-b 60 55.5 30 1 '[]' '["gemma3:1b"]'
        health pi-hot 80 35 90 1 '["qwen2.5:0.5b"]' '["gemma3:1b","qwen2.5:0.5b"]'
        sleep 0.5
    done
}
field() { awk -v f="$1" 'prev == f { print; exit } { prev = $0 }'; }
worker() { # pi-a answers everything: a chunk, then done
    while :; do
        for id in $(rcli --raw XRANGE "$Q:pi-a" - + | grep -E '^[0-9]+-[0-9]+$'); do
            e=$(rcli --raw XRANGE "$Q:pi-a" "$id" "$id")
            cb=$(echo "$e" | field callback)
            rid=$(echo "$e" | field request_id)
            rcli XDEL "$Q:pi-a" "$id" >/dev/null
            rcli XADD "$cb" '*' request_id "$rid" type chunk seq 1 delta "Hi" >/dev/null
            rcli XADD "$cb" '*' request_id "$rid" type done status ok response Hi node_id pi-a \
                model gemma3:1b done_reason stop eval_count 1 >/dev/null
            rcli XADD orion:inference:events '*' type done request_id "$rid" node_id pi-a \
                model gemma3:1b info '' total_duration 900000000 load_duration 1000 >/dev/null
        done
        sleep 0.05
    done
}
beat &
T_PIDS="$T_PIDS $!"
worker &
T_PIDS="$T_PIDS $!"
bg router $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --http-listen "127.0.0.1:$HTTP_PORT"
ROUTER_PID=$BG_PID
wait_for 5 curl -sf "$URL/api/version"
ok $? "the router serves HTTP"
sleep 1.5 # the first health refreshes (hysteresis marks included)

# traffic: two requests through the front, one straight onto P:requests
curl -s "$URL/api/generate" -d '{"model":"gemma3:1b","prompt":"x","stream":false}' >/dev/null
curl -s "$URL/api/chat" -d '{"model":"gemma3:1b","messages":[{"role":"user","content":"y"}]}' >/dev/null
rcli XADD $Q '*' model "no model" prompt p callback orion:inference:cb:t1 >/dev/null # a bad request
# one that waits: its model is installed only on the hot node
rcli XADD $Q '*' model qwen2.5:0.5b prompt w callback orion:inference:cb:t2 timeout_ms 600000 >/dev/null
sleep 1.2
# done answers on pi-hot for the first token: one its runner measured (first_token_ms 120),
# one from an older runner (load 300 ms + prompt eval 200 ms: 500 ms); one request started on
# it and not finished, its entry still in pi-hot's stream
rcli XADD orion:inference:events '*' type done request_id h1 node_id pi-hot model qwen2.5:0.5b \
    info '' total_duration 1000000000 load_duration 0 first_token_ms 120 >/dev/null
rcli XADD orion:inference:events '*' type done request_id h2 node_id pi-hot model qwen2.5:0.5b \
    info '' total_duration 3000000000 load_duration 300000000 prompt_eval_duration 200000000 >/dev/null
HOT_ENTRY=$(rcli XADD "$Q:pi-hot" '*' request_id h3 model qwen2.5:0.5b prompt p callback orion:inference:cb:h3)
rcli XADD orion:inference:events '*' type started request_id h3 node_id pi-hot model qwen2.5:0.5b \
    info '' >/dev/null
# failed answers as workers report them: with their code, and an older worker's without one
rcli XADD orion:inference:events '*' type failed request_id f1 node_id pi-b model llama3.2:1b \
    info '' code ollama_unreachable >/dev/null
rcli XADD orion:inference:events '*' type failed request_id f2 node_id pi-b model llama3.2:1b \
    info '' code ollama_unreachable >/dev/null
rcli XADD orion:inference:events '*' type failed request_id f3 node_id pi-b model llama3.2:1b \
    info '' >/dev/null
sleep 1.2

# --- /metrics -----------------------------------------------------------------------------
curl -s -D "$T_TMP/mh" "$URL/metrics" >"$T_TMP/m"
check "/metrics: Content-Type text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$T_TMP/mh"
m() { grep -F "$1 " "$T_TMP/m" | grep -v '^#' | head -1 | awk '{ print $NF }'; }
is "$(m 'orion_requests_routed_total{kind="sticky"}')" 2 "orion_requests_routed_total{kind=\"sticky\"} 2"
for k in queued spill cold; do
    is "$(m "orion_requests_routed_total{kind=\"$k\"}")" 0 "... {kind=\"$k\"} 0"
done
is "$(m 'orion_requests_routed_by_node_total{node="pi-a"}')" 2 "orion_requests_routed_by_node_total{node=\"pi-a\"} 2"
is "$(m 'orion_requests_routed_by_node_total{node="pi-hot"}')" 0 "... {node=\"pi-hot\"} 0"
is "$(m orion_bad_requests_total)" 1 "orion_bad_requests_total 1"
is "$(m 'orion_requests_total{model="gemma3:1b",node="pi-a",outcome="ok"}')" 2 \
    "orion_requests_total{model=\"gemma3:1b\",node=\"pi-a\",outcome=\"ok\"} 2 (done events)"
is "$(m 'orion_requests_total{model="llama3.2:1b",node="pi-b",outcome="ollama_unreachable"}')" 2 \
    "... {...,outcome=\"ollama_unreachable\"} 2 (failed events with their code)"
is "$(m 'orion_requests_total{model="llama3.2:1b",node="pi-b",outcome="error"}')" 1 \
    "... {...,outcome=\"error\"} 1 (a failed event without a code)"
is "$(m orion_requests_uncounted_total)" 0 "orion_requests_uncounted_total 0"
for c in orion_timeouts_total orion_failovers_total orion_deadletter_total; do
    is "$(m $c)" 0 "$c 0"
done
is "$(m orion_queue_depth)" 1 "orion_queue_depth 1 (a model installed only on the hot node)"
is "$(m 'orion_node_temp_celsius{node="pi-hot"}')" 80 "orion_node_temp_celsius{node=\"pi-hot\"} 80"
is "$(m 'orion_node_temp_celsius{node="pi-a"}')" 51.5 "... {node=\"pi-a\"} 51.5"
is "$(m 'orion_node_ram_percent{node="pi-b"}')" 55.5 "orion_node_ram_percent{node=\"pi-b\"} 55.5"
is "$(m 'orion_node_cpu_percent{node="pi-a"}')" 12.5 "orion_node_cpu_percent{node=\"pi-a\"} 12.5"
is "$(m 'orion_node_capacity{node="pi-a"}')" 2 "orion_node_capacity{node=\"pi-a\"} 2"
is "$(m 'orion_node_inflight{node="pi-a"}')" 0 "orion_node_inflight{node=\"pi-a\"} 0"
is "$(m 'orion_node_eligible{node="pi-a"}')" 1 "orion_node_eligible{node=\"pi-a\"} 1"
is "$(m 'orion_node_eligible{node="pi-hot"}')" 0 "... {node=\"pi-hot\"} 0"
check "# TYPE lines for counters, gauges and histograms" sh -c \
    "grep -q '^# TYPE orion_timeouts_total counter' $T_TMP/m && grep -q '^# TYPE orion_node_eligible gauge' $T_TMP/m && grep -q '^# TYPE orion_http_request_seconds histogram' $T_TMP/m"
is "$(m orion_http_request_seconds_count)" 2 "orion_http_request_seconds_count 2"
is "$(m 'orion_http_request_seconds_bucket{le="+Inf"}')" 2 "... le=\"+Inf\" 2"
is "$(m orion_http_first_token_seconds_count)" 2 "orion_http_first_token_seconds_count 2"
is "$(m orion_http_queue_wait_seconds_count)" 2 "orion_http_queue_wait_seconds_count 2"
is "$(grep -c '^orion_http_queue_wait_seconds_bucket{le=' "$T_TMP/m")" 9 "... 9 buckets (0.1 .. 60, +Inf)"
check "every sample line is NAME{LABELS} VALUE" sh -c \
    "! grep -v '^#' $T_TMP/m | grep -Evq '^[a-z_]+(\\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*\\})? [0-9.e+-]+\$'"

# label escaping: a node id with a quote and a backslash
rcli HSET $H 'odd"\x' "{\"node_id\":\"odd\\\"\\\\x\",\"last_seen\":$(date +%s),\"temp_c\":40,\"available\":false}" >/dev/null
sleep 1.2
check "label values escaped: odd\\\"\\\\x" sh -c "curl -s $URL/metrics | grep -qF 'orion_node_temp_celsius{node=\"odd\\\"\\\\x\"} 40'"
rcli HDEL $H 'odd"\x' >/dev/null

# --- /stats and /backends -----------------------------------------------------------------
s=$(curl -s -D "$T_TMP/sh" "$URL/stats")
check "/stats: JSON" grep -qi '^content-type: application/json' "$T_TMP/sh"
check "... counters" sh -c "echo '$s' | grep -q '\"counters\":{\"routed\":2,\"sticky\":2,\"queued\":0,\"spill\":0,\"cold\":0,\"timeouts\":0,\"failovers\":0,\"deadletter\":0,\"bad_requests\":1'"
check "... queue_depth 1" sh -c "echo '$s' | grep -q '\"queue_depth\":1'"
check "... outcomes" sh -c "echo '$s' | grep -q '\"outcomes\":\[{\"model\":\"gemma3:1b\",\"node\":\"pi-a\",\"outcome\":\"ok\",\"count\":2}'"
check "... recent answers, newest first" sh -c "echo '$s' | grep -q '\"recent\":\[{\"request_id\":\"f3\",\"model\":\"llama3.2:1b\",\"node\":\"pi-b\",\"outcome\":\"error\",\"at\":[0-9.]*,\"total_ms\":null},{\"request_id\":\"f2\"'"
check "... a done answer's total time (900 ms)" sh -c "echo '$s' | grep -q '\"node\":\"pi-a\",\"outcome\":\"ok\",\"at\":[0-9.]*,\"total_ms\":900}'"
check "... pi-a's numbers" sh -c "echo '$s' | grep -q '{\"node\":\"pi-a\",\"eligible\":true,\"reason\":\"\",\"drained\":false,\"draining\":false,\"temp_c\":51.5,\"ram_percent\":40.0,\"cpu_percent\":12.5,\"inflight\":0,\"capacity\":2,\"routed\":2,\"sticky\":2'"
# backend_stats (the router's window of each node's and model's answers)
bs() { curl -s "$URL/stats" | sed 's/.*"backend_stats":\[//'; }
check "... backend_stats: pi-a answered 2 in 900 ms (n, mean, p50, p95), its first token unknown" \
    sh -c "echo '$s' | grep -q '{\"node\":\"pi-a\",\"inflight\":0,\"answered\":2,\"errors\":0,\"latency_ms\":{\"n\":2,\"mean\":900.0,\"p50\":900.0,\"p95\":900.0},\"first_token_ms\":null,\"models\":\[{\"model\":\"gemma3:1b\",\"inflight\":0,\"answered\":2,\"errors\":0,'"
check "... pi-b: 3 errors, nothing answered, per model too" \
    sh -c "echo '$s' | grep -q '{\"node\":\"pi-b\",\"inflight\":0,\"answered\":0,\"errors\":3,\"latency_ms\":null,\"first_token_ms\":null,\"models\":\[{\"model\":\"llama3.2:1b\",\"inflight\":0,\"answered\":0,\"errors\":3,'"
hot='{"node":"pi-hot","inflight":1,"answered":2,"errors":0,"latency_ms":{"n":2,"mean":2000.0,"p50":1000.0,"p95":3000.0},"first_token_ms":{"n":2,"mean":310.0,"p50":120.0,"p95":500.0},"models":[{"model":"qwen2.5:0.5b","inflight":1,"answered":2,'
wait_for 5 sh -c "curl -s $URL/stats | grep -qF '$hot'"
ok $? "... pi-hot: 1 s and 3 s answers (p50 1000, p95 3000), first token 120 ms measured and 500 ms from load + prompt eval, one in flight (node and model)"
rcli XDEL "$Q:pi-hot" "$HOT_ENTRY" >/dev/null
rcli XADD orion:inference:events '*' type failed request_id h3 node_id pi-hot model qwen2.5:0.5b \
    info '' code canceled >/dev/null
wait_for 5 sh -c "curl -s $URL/stats | grep -qF '{\"node\":\"pi-hot\",\"inflight\":0,\"answered\":2,\"errors\":1,'"
ok $? "... its end (failed): not in flight, one error"
b=$(curl -s "$URL/backends")
check "/backends: pi-hot out, with the reason" sh -c "echo '$b' | grep -q '{\"node\":\"pi-hot\",\"eligible\":false,\"reason\":\"hot: 80 C > 75\"'"
check "... pi-b eligible" sh -c "echo '$b' | grep -q '{\"node\":\"pi-b\",\"eligible\":true'"
# one node view (node.c) for the router and orionctl: the same object, byte for byte
c=$(ORION_REDIS_ADDR=$REDIS_ADDR $ORION_WRAP "$ORION_BIN/orionctl" status --json)
for n in pi-a pi-b pi-hot; do
    x=$(echo "$c" | grep -o "{\"node\":\"$n\"[^}]*}")
    y=$(echo "$b" | grep -o "{\"node\":\"$n\"[^}]*}")
    [ -n "$x" ] && [ "$x" = "$y" ]
    ok $? "orionctl status --json shows $n as /backends does: $x"
done

# --- register / deregister ----------------------------------------------------------------
is "$(curl -s "$URL/backends/deregister" -d '{"node":"pi-b"}')" '{"node":"pi-b","drained":true,"known":true}' "deregister pi-b"
check "... P:drain has pi-b" sh -c "[ -n \"\$(redis-cli -p $REDIS_PORT HGET $D pi-b)\" ]"
# the front writes P:drain; the router's view follows at its next read of P:drain (every second)
wait_for 3 sh -c "curl -s $URL/backends | grep -q '{\"node\":\"pi-b\",\"eligible\":false,\"reason\":\"draining\",\"drained\":true'"
ok $? "... /backends shows it draining within a refresh"
sleep 1.2
check "... and still after a refresh" sh -c "curl -s $URL/backends | grep -q '{\"node\":\"pi-b\",\"eligible\":false,\"reason\":\"draining\"'"
is "$(curl -s "$URL/metrics" | grep '^orion_node_eligible{node="pi-b"}')" 'orion_node_eligible{node="pi-b"} 0' "... orion_node_eligible 0"
is "$(curl -s "$URL/backends/register" -d '{"node":"pi-b"}')" '{"node":"pi-b","drained":false,"known":true}' "register pi-b"
is "$(rcli HEXISTS $D pi-b)" 0 "... P:drain no longer has it"
sleep 1.2
check "... /backends shows it eligible" sh -c "curl -s $URL/backends | grep -q '{\"node\":\"pi-b\",\"eligible\":true'"
is "$(curl -s -w ' %{http_code}' "$URL/backends/register" -d '{"nodes":"x"}')" '{"error":"want {\"url\":\"http://HOST:PORT\",\"name\":\"NAME\"} (name optional), or {\"node\":\"ID\"} to undrain a node"} 400' "register without url or node: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/backends/register")" 400 "... no body: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/backends/deregister" -d '{"node":"a b"}')" 400 "... a node id with a space: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/backends/register" -X GET)" 405 "GET /backends/register: 405"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" 405 "POST /metrics: 405"

# --- /ui ----------------------------------------------------------------------------------
curl -s -D "$T_TMP/uh" "$URL/ui" >"$T_TMP/ui.html"
check "/ui: text/html" grep -qi '^content-type: text/html' "$T_TMP/uh"
check "... no external assets" sh -c "! grep -Eq '(src|href)=\"(https?:)?//' $T_TMP/ui.html"
check "... reads /stats" grep -q "fetch('/stats'" "$T_TMP/ui.html"
CHROME=$(command -v chromium || command -v chromium-browser || true)
chrome_dump() { # chrome_dump <url> <out>
    prof=$(mktemp -d "$T_TMP/chrome-XXXXXX")
    timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
        --virtual-time-budget=5000 --dump-dom "$1" >"$2" 2>"$T_TMP/chrome.err"
}
if [ -n "$CHROME" ]; then
    chrome_dump "$URL/ui" "$T_TMP/dom"
    check "Chromium: the page shows pi-a, pi-b and pi-hot" sh -c \
        "grep -q '<td data-label=\"node\">pi-a</td>' $T_TMP/dom && grep -q '<td data-label=\"node\">pi-b</td>' $T_TMP/dom && grep -q '<td data-label=\"node\">pi-hot</td>' $T_TMP/dom"
    check "... pi-hot's reason (hot: 80)" grep -q '<td class="no" data-label="state">hot: 80 C &gt; 75</td>' "$T_TMP/dom"
    check "... the queue depth (1)" grep -q '<b id="queue" class="busy">1</b>' "$T_TMP/dom"
    check "... the counters (bad requests 1)" grep -q '<td data-label="counter">bad requests</td><td class="num" data-label="value">1</td>' "$T_TMP/dom"
    check "... the recent requests (f1 ollama_unreachable on pi-b)" grep -q \
        '<td data-label="request">f1</td><td data-label="model">llama3.2:1b</td><td data-label="node">pi-b</td><td class="no" data-label="outcome">ollama_unreachable</td>' "$T_TMP/dom"
else
    skip "chromium not installed"
fi

# --- the outcome series are bounded -------------------------------------------------------
# the series are bounded: 300 failed events of 300 new models, read 16 at a time, fill the
# table to its 256 series and the rest are counted in orion_requests_uncounted_total
curl -s "$URL/metrics" >"$T_TMP/m"
before=$(grep -c '^orion_requests_total{' "$T_TMP/m")
rcli EVAL "for i=1,300 do redis.call('XADD', KEYS[1], '*', 'type', 'failed', 'request_id', 'g'..i,
  'node_id', 'pi-b', 'model', 'many-'..i, 'info', '', 'code', 'ollama_error') end return 1" 1 \
    orion:inference:events >/dev/null
sleep 1.5
curl -s "$URL/metrics" >"$T_TMP/m2"
is "$(grep -c '^orion_requests_total{' "$T_TMP/m2")" 256 \
    "300 new model/node/outcome series: the table holds its 256"
is "$(grep '^orion_requests_uncounted_total ' "$T_TMP/m2" | awk '{print $2}')" $((300 - (256 - before))) \
    "the $((300 - (256 - before))) past the limit are counted as uncounted"
check "... the last series kept is many-$((256 - before)) with its count" \
    grep -qF "orion_requests_total{model=\"many-$((256 - before))\",node=\"pi-b\",outcome=\"ollama_error\"} 1" "$T_TMP/m2"
# backend_stats holds 128 series: 6 before (pi-a, pi-b, pi-hot, each with one model), so 122
# of the 300 new (pi-b, many-N) fit and 178 are counted as dropped; pi-b's total has them all
st=$(curl -s "$URL/stats")
is "$(echo "$st" | grep -o '"backend_stats_dropped":[0-9]*')" '"backend_stats_dropped":178' \
    "backend_stats: 122 of the 300 new series kept, 178 counted as dropped"
check "... pi-b's total counts every error (303)" sh -c \
    "echo '$st' | grep -q '{\"node\":\"pi-b\",\"inflight\":0,\"answered\":0,\"errors\":303,'"

# --- with --http-token --------------------------------------------------------------------
kill "$ROUTER_PID"
wait "$ROUTER_PID" 2>/dev/null
bg router2 $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --log-level debug \
    --http-listen "127.0.0.1:$HTTP_PORT" --http-token s3cret
ROUTER_PID=$BG_PID
wait_for 5 curl -s -o /dev/null "$URL/health"
sleep 1.2
for p in /metrics /stats /backends /ui; do
    is "$(curl -s -o /dev/null -w '%{http_code}' "$URL$p")" 401 "--http-token: $p without it, 401"
done
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"node":"pi-a"}' "$URL/backends/deregister")" 401 "... POST /backends/deregister, 401"
is "$(rcli HEXISTS $D pi-a)" 0 "... and P:drain untouched"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' "$URL/metrics")" 200 "... /metrics with the token, 200"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/ui?token=s3cret")" 200 "... /ui?token=TOKEN, 200"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/ui?token=wrong")" 401 "... a wrong one, 401"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/stats?token=s3cret")" 401 "... only /ui takes it in the query"
if [ -n "$CHROME" ]; then
    chrome_dump "$URL/ui?token=s3cret#token=s3cret" "$T_TMP/dom2"
    check "Chromium with the token: the page shows the nodes" sh -c \
        "grep -q '>pi-hot</td>' $T_TMP/dom2 && grep -q 'hot: 80' $T_TMP/dom2"
else
    skip "chromium not installed"
fi
done_testing
