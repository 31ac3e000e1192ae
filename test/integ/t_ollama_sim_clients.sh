#!/bin/sh
# ollama-sim with the official npm clients `ollama` and `openai` (test/node/sim_clients.mjs):
# their parsers accept what the sim sends for pull progress, embeddings (OpenAI's base64 too),
# show, copy, delete and structured outputs. Without node and npm the script says so and skips.
. "$(dirname "$0")/lib.sh"
NODE_DIR=$ORION_TOP/test/node
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    skip "node and npm not found: install nodejs and npm to run the npm client tests"
    done_testing
    exit 0
fi
if [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] ||
    [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$NODE_DIR" --no-audit --no-fund >"$T_TMP/npm.log" 2>&1
    st=$?
    ok $st "npm ci installs the pinned ollama and openai packages into test/node"
    [ $st -eq 0 ] || { sed 's/^/# /' "$T_TMP/npm.log" | tail -20; done_testing; exit 1; }
fi
P=$(free_port)
bg sim $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$P" --load-ms 20 --tokens-per-s 500 \
    --models llama3.2:1b,nomic-embed-text --pull-mbps 2000 --version-string 0.12.6 --kv-cache server
check "sim answers" wait_for 10 curl -sf "http://127.0.0.1:$P/api/version"
SIM_URL=http://127.0.0.1:$P node "$NODE_DIR/sim_clients.mjs" >"$T_TMP/node.tap" 2>"$T_TMP/node.err"
st=$?
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok 0 "${line#ok [0-9]* - }" ;;
    "not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
    "#"*) echo "$line" ;;
    esac
done <"$T_TMP/node.tap"
[ -s "$T_TMP/node.err" ] && sed 's/^/# /' "$T_TMP/node.err" | tail -5
ok $st "sim_clients.mjs exits 0"
done_testing
