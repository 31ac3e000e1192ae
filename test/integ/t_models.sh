#!/bin/sh
# Model management across the cluster through the workers (issue 23): a pull onto two nodes
# streams both nodes' progress interleaved, each line with its node, and one final success;
# stream:false answers the last object; a pull of a model no registry has fails on every node
# with Ollama's sentence; placement rules and the body's "nodes" choose where; copy and delete
# act on every node that has the model; /api/version is the lowest Ollama version of the
# eligible nodes; Ollama endpoints the router does not serve answer 501 naming the path.
. "$(dirname "$0")/lib.sh"

# Ollama's part of an error body: {"error":"..."} without the fields the error schema adds
# (code, type, provider, details: docs/PROTOCOL.md "Errors")
oerr() { sed -E 's/,"code":"[A-Z_]+","type":"[a-z_]+","provider":"[^"]*","details":\{[^}]*\}//'; }
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
start_sim a --models 'gemma3:1b' --load-ms 300 --tokens-per-s 200 --pull-mbps 1000 \
    --version-string 0.12.10 || ok 1 "ollama-sim a starts"
start_sim b --models 'gemma3:1b' --load-ms 300 --tokens-per-s 200 --pull-mbps 1000 \
    --version-string 0.13.0 || ok 1 "ollama-sim b starts"
start_sim c --models 'gemma3:1b' --load-ms 300 --tokens-per-s 200 --pull-mbps 1000 --version-string 0.9.0 ||
    ok 1 "ollama-sim c starts"
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a" --labels big
start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b" --labels big
start_worker pi-c "$SIM_URL_c" "$SIM_ROOT_c"
# pi-c is kept out of llama3.2 by placement; it is also the hot one below
printf 'model llama3.2* only labels=big\n' >"$T_TMP/placement"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
bg router $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" \
    --log-level debug --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 3 \
    --placement "$T_TMP/placement"
ROUTER_PID_1=$BG_PID
all_eligible() { curl -s "$URL/health" | grep -o '"eligible":true' | grep -c . | grep -qx 3; }
wait_for 10 all_eligible
ok $? "three workers report health, all eligible"
tags() { curl -s "$1/api/tags" | grep -o '"name":"[^"]*"' | tr '\n' ' '; }

# --- version ---------------------------------------------------------------------------------
has_versions() { for n in pi-a pi-b pi-c; do rcli HGET orion:inference:health $n | grep -q '"ollama_version":"0\.' || return 1; done; }
wait_for 5 has_versions
ok $? "each worker reports its Ollama's version (ollama_version) in its health"
sleep 1.2 # the router's refresh
curl -s -D "$T_TMP/h" -o "$T_TMP/b" "$URL/api/version"
is "$(cat "$T_TMP/b")" '{"version":"0.9.0"}' "/api/version: the lowest of the eligible nodes (0.9.0 < 0.12.10 < 0.13.0)"
grep -qi '^x-orion-version: ' "$T_TMP/h"
ok $? "... the router's own version in X-Orion-Version"
curl -s "$URL/health" | grep -q '"version":"'
ok $? "... and in /health"
curl -sf -X POST -d '{"c":82}' "$SIM_URL_c/sim/temp" >/dev/null
c_hot() { curl -s "$URL/health" | grep -q '"node":"pi-c","eligible":false'; }
wait_for 10 c_hot
ok $? "pi-c at 82 C is not eligible"
is "$(curl -s "$URL/api/version")" '{"version":"0.12.10"}' "/api/version with pi-c hot: 0.12.10 (semver order, not text order)"
curl -sf -X POST -d '{"c":50}' "$SIM_URL_c/sim/temp" >/dev/null

# --- pull ------------------------------------------------------------------------------------
curl -s -D "$T_TMP/h" -o "$T_TMP/pull" "$URL/api/pull" -d '{"model":"llama3.2:1b"}'
grep -qi '^content-type: application/x-ndjson' "$T_TMP/h"
ok $? "pull: streamed as NDJSON"
is "$(tail -1 "$T_TMP/pull")" '{"status":"success"}' "... the last line is the one success"
is "$(grep -c '"status":"success"' "$T_TMP/pull")" 1 "... and the only one"
is "$(grep -vc '"node":"pi-[ab]"}$' "$T_TMP/pull")" 1 "... every other line names its node (pi-a or pi-b)"
! grep -q '"node":"pi-c"' "$T_TMP/pull"
ok $? "... none names pi-c: placement keeps llama3.2 on the big nodes"
grep -q '^{"status":"pulling [0-9a-f]\{12\}","digest":"sha256:[0-9a-f]\{64\}","total":[0-9]*,"completed":[0-9]*,"node":"pi-a"}$' "$T_TMP/pull"
ok $? "... a progress line as Ollama writes it, with the node last"
# interleaved: the node changes from one line to the next more than twice
switches=$(grep -o '"node":"pi-[ab]"' "$T_TMP/pull" | uniq | wc -l)
[ "$switches" -gt 4 ]
ok $? "... the two nodes' progress interleaves ($switches runs of lines from one node)"
for n in a b; do grep -q '"status":"writing manifest","node":"pi-'$n'"' "$T_TMP/pull" || n=x; [ $n != x ]; done
ok $? "... both nodes wrote their manifest"
case "$(tags "$SIM_URL_a")$(tags "$SIM_URL_b")" in *llama3.2:1b*llama3.2:1b*) ok 0 "llama3.2:1b is installed on pi-a and pi-b" ;; *) ok 1 "llama3.2:1b is installed on pi-a and pi-b" ;; esac
tags "$SIM_URL_c" | grep -q llama3.2
ok $((!$?)) "... and not on pi-c"
installed_both() { for n in pi-a pi-b; do rcli HGET orion:inference:health $n | grep -q '"installed":\[[^]]*llama3.2:1b' || return 1; done; }
wait_for 5 installed_both
ok $? "... their health lists it"
sleep 1.2
out=$(curl -s "$URL/api/generate" -d '{"model":"llama3.2:1b","prompt":"hi","stream":false}')
case "$out" in *'"done":true'*) ok 0 "the pulled model answers through the router" ;; *) ok 1 "the pulled model answers through the router"; echo "#   $out" ;; esac

is "$(curl -s -w ' %{http_code} %{content_type}' "$URL/api/pull" -d '{"model":"qwen2.5:0.5b","stream":false,"nodes":["pi-c"]}')" \
    '{"status":"success"} 200 application/json' "pull stream:false onto the node named: the last object only"
tags "$SIM_URL_c" | grep -q qwen2.5:0.5b && ! tags "$SIM_URL_a" | grep -q qwen2.5
ok $? "... qwen2.5:0.5b is on pi-c only"
out=$(curl -s "$URL/api/pull" -d '{"model":"nosuch:1b"}')
case "$out" in *'{"error":"pull of '"'"'nosuch:1b'"'"' failed on pi-'*'pull model manifest: file does not exist'*) ok 0 "a pull of an unknown model: the stream ends with Ollama's error, per node" ;;
*) ok 1 "a pull of an unknown model: the stream ends with Ollama's error, per node"; echo "#   $out" ;; esac
is "$(curl -s -w ' %{http_code}' "$URL/api/pull" -d '{"model":"bad name"}' | oerr)" '{"error":"invalid model name"} 400' "pull of a bad name: 400"
is "$(curl -s -w ' %{http_code}' "$URL/api/pull" -d '{"model":"m","nodes":["pi-z"]}' | oerr)" "{\"error\":\"node 'pi-z' is not known\"} 400" "pull onto an unknown node: 400"

# a client that leaves cancels the pull on the nodes (as Ollama stops a pull whose client leaves)
curl -s -m 1 "$URL/api/pull" -d '{"model":"gemma3:4b"}' >/dev/null
canceled() { grep -q "pull of 'gemma3:4b': canceled" "$T_TMP"/worker-pi-a.log; }
wait_for 10 canceled
ok $? "a pull whose client left is canceled on the worker"

# a router restart ends the client's stream, not the pulls: they run on the workers
curl -s "$URL/api/pull" -d '{"model":"gemma3:4b","nodes":["pi-a","pi-b"]}' >"$T_TMP/pull4b" &
curl_pid=$!
pulling() { grep -q '"completed":[1-9][0-9]*,"node":"pi-b"' "$T_TMP/pull4b" && grep -q '"completed":[1-9][0-9]*,"node":"pi-a"' "$T_TMP/pull4b"; }
wait_for 10 pulling
ok $? "a pull of gemma3:4b onto pi-a and pi-b is under way"
kill "$ROUTER_PID_1"
wait "$curl_pid"
grep -q success "$T_TMP/pull4b"
ok $((!$?)) "the router stops: the client's stream ends without success"
bg router2 $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" \
    --log-level debug --http-listen "127.0.0.1:$HTTP_PORT" --stale-after 3 \
    --placement "$T_TMP/placement"
arrived() { tags "$SIM_URL_a" | grep -q gemma3:4b && tags "$SIM_URL_b" | grep -q gemma3:4b; }
wait_for 20 arrived
ok $? "... the pulls went on: gemma3:4b arrives on both nodes"
wait_for 10 all_eligible
ok $? "the new router sees the three nodes"
listed_4b() { curl -s "$URL/api/tags" | grep -q '"name":"gemma3:4b"'; }
wait_for 10 listed_4b
ok $? "... and lists gemma3:4b in /api/tags"

# --- copy and delete -------------------------------------------------------------------------
is "$(curl -s -w ' %{http_code}' "$URL/api/copy" -d '{"source":"llama3.2:1b","destination":"mine:v1"}')" ' 200' "copy: 200, empty body"
case "$(tags "$SIM_URL_a")$(tags "$SIM_URL_b")" in *mine:v1*mine:v1*) ok 0 "... the copy is on both nodes that had the model" ;; *) ok 1 "... the copy is on both nodes that had the model" ;; esac
is "$(curl -s -w ' %{http_code}' "$URL/api/copy" -d '{"source":"nosuch","destination":"x"}' | oerr)" '{"error":"model \"nosuch\" not found"} 404' "copy of a model no node has: 404"
is "$(curl -s -w ' %{http_code}' "$URL/api/copy" -d '{"source":"llama3.2:1b"}' | oerr)" '{"error":"destination \"\" is invalid"} 400' "copy without destination: 400"
mine_everywhere() { for n in pi-a pi-b; do rcli HGET orion:inference:health $n | grep -q 'mine:v1' || return 1; done; }
wait_for 5 mine_everywhere
sleep 1.2
is "$(curl -s -w ' %{http_code}' -X DELETE "$URL/api/delete" -d '{"model":"mine:v1"}')" ' 200' "delete: 200, empty body"
tags "$SIM_URL_a" | grep -q mine:v1 || tags "$SIM_URL_b" | grep -q mine:v1
ok $((!$?)) "... the model is gone from every node"
gone_health() { for n in pi-a pi-b; do ! rcli HGET orion:inference:health $n | grep -q 'mine:v1' || return 1; done; }
wait_for 5 gone_health
sleep 1.2
is "$(curl -s -w ' %{http_code}' -X DELETE "$URL/api/delete" -d '{"model":"mine:v1"}' | oerr)" "{\"error\":\"model 'mine:v1' not found\"} 404" "delete again: 404"
is "$(curl -s -w ' %{http_code}' -X DELETE "$URL/api/delete" -d '{}' | oerr)" '{"error":"model is required"} 400' "delete without a model: 400"
is "$(curl -s -w ' %{http_code}' "$URL/api/delete" -d '{"model":"x"}')" '405 method not allowed 405' "POST /api/delete: 405"

# --- ollama run MODEL: show, pull when 404, show again, load, then the prompt -----------------
is "$(curl -s -w ' %{http_code}' "$URL/api/show" -d '{"model":"llama3.2:3b"}' | oerr)" "{\"error\":\"model 'llama3.2:3b' not found\"} 404" \
    "ollama run, a model no node has: /api/show answers 404, the CLI's cue to pull"
curl -s "$URL/api/pull" -d '{"model":"llama3.2:3b"}' >"$T_TMP/runpull"
is "$(tail -1 "$T_TMP/runpull")" '{"status":"success"}' "... /api/pull streams to success"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/show" -d '{"model":"llama3.2:3b"}')" 200 \
    "... /api/show right after the success answers 200 (the success waited for the nodes' health)"
curl -s "$URL/api/chat" -d '{"model":"llama3.2:3b","messages":[]}' | grep -q '"done_reason":"load"'
ok $? "... the CLI's load (chat with no messages) is answered done_reason load"
curl -s "$URL/api/generate" -d '{"model":"llama3.2:3b","prompt":"hi","stream":false}' | grep -q '"done":true'
ok $? "... and the prompt is answered"

# --- what the router does not serve ------------------------------------------------------------
out=$(curl -s -w ' %{http_code}' "$URL/api/create" -d '{"model":"x","from":"gemma3:1b"}')
case "$out" in *'POST /api/create: not served by the ORION router'*'ollama create'*' 501') ok 0 "/api/create: 501, run it on a node" ;; *) ok 1 "/api/create: 501, run it on a node"; echo "#   $out" ;; esac
out=$(curl -s -w ' %{http_code}' "$URL/api/push" -d '{"model":"x"}')
case "$out" in *'POST /api/push: not served'*'ollama push'*' 501') ok 0 "/api/push: 501, run it on a node" ;; *) ok 1 "/api/push: 501, run it on a node"; echo "#   $out" ;; esac
for p in "HEAD /api/blobs/sha256:00" "POST /api/blobs/sha256:00" "GET /api/status" "POST /api/me" "POST /api/experimental/web_search"; do
    set -- $p
    if [ "$1" = HEAD ]; then # -I: curl waits for no body
        st=$(curl -s -I -o "$T_TMP/b" -w '%{http_code}' "$URL$2")
    else
        st=$(curl -s -o "$T_TMP/b" -w '%{http_code}' -X "$1" "$URL$2" -d '{}')
    fi
    [ "$st" = 501 ] && { [ "$1" = HEAD ] || grep -q "$1 $2: not served by the ORION router" "$T_TMP/b"; }
    ok $? "$1 $2: 501 naming the path"
done
out=$(curl -s -w ' %{http_code}' "$URL/v1/audio/transcriptions" -d '{}')
case "$out" in *'"message":"POST /v1/audio/transcriptions: not served'*'"code":"NOT_IMPLEMENTED"'*' 501') ok 0 "/v1/audio/transcriptions: 501 in OpenAI's shape" ;; *) ok 1 "/v1/audio/transcriptions: 501 in OpenAI's shape"; echo "#   $out" ;; esac
is "$(curl -s -w ' %{http_code}' "$URL/api/nonsense")" '404 page not found 404' "a path Ollama does not have either: 404"
is "$(rcli XLEN orion:inference:requests)" 0 "request stream drained"
for n in pi-a pi-b pi-c; do
    p=$(rcli XPENDING orion:inference:admin:$n inference-workers | head -1)
    [ "$p" = 0 ] || { ok 1 "no admin entry of $n left pending ($p)"; continue; }
    ok 0 "no admin entry of $n left pending"
done
done_testing
