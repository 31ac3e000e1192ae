#!/bin/sh
# The status page /ui as a person sees it: headless Chromium (driven by playwright-core from
# test/node) takes full-page screenshots at 1280x800 and at 390x844 (a phone) of a 3-node
# cluster in every state, into build/ui/ (kept out of the repository): pi-a eligible, loading
# a model with one request running in its one slot and one queued behind it; pi-b draining;
# pi-c hot, then stale; one request waiting in the router. Each page is checked for what a
# person needs: every state named, running and queued apart, and at 390 px no sideways scroll
# (the page no wider than the screen, no element past its edge, every node row within it,
# each value labelled), and the latency table shows each node's and model's answers, errors,
# latency and first token (from done/failed events written by hand). Health is written by
# hand (no worker answers, so the requests stay).
. "$(dirname "$0")/lib.sh"
if [ -n "$ORION_WRAP" ] || [ -n "${ORION_SANITIZE:-}" ]; then
    skip "the page is the same under sanitize and valgrind: make check looks at it"
    done_testing
    exit 0
fi
CHROME=$(command -v chromium || command -v chromium-browser || true)
NODE_DIR=$ORION_TOP/test/node
if [ -z "$CHROME" ] || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    skip "chromium, node or npm not installed (tools/install-deps.sh installs them when apt can)"
    done_testing
    exit 0
fi
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ] ||
    [ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$NODE_DIR" --no-audit --no-fund >"$T_TMP/npm.log" 2>&1
    st=$?
    ok $st "npm ci installs playwright-core into test/node"
    [ $st -eq 0 ] || { sed 's/^/# /' "$T_TMP/npm.log" | tail -20; done_testing; exit 1; }
fi
OUT=$ORION_TOP/build/ui
mkdir -p "$OUT"
rm -f "$OUT"/*.png

start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
H=orion:inference:health
Q=orion:inference:requests
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
health() { # health <node> <temp> <ram> <cpu> <inflight> <models json> <installed json>
    rcli HSET $H "$1" "{\"node_id\":\"$1\",\"last_seen\":$(date +%s),\"temp_c\":$2,\"ram_percent\":$3,\"cpu_percent\":$4,\"ram_total_mb\":8000,\"capacity\":1,\"inflight\":$5,\"models\":$6,\"installed\":$7,\"available\":true}" >/dev/null
}
beat() { # beat <running on pi-a> [nodes...]: a health report from each node every 0.5 s
    while :; do
        case " $* " in *" pi-a "*) health pi-a 58.2 61.5 97.5 "$1" '[]' '["gemma3:1b"]' ;; esac
        case " $* " in *" pi-b "*) health pi-b 49 40 3 0 '["llama3.2:1b"]' '["gemma3:1b","llama3.2:1b"]' ;; esac
        case " $* " in *" pi-c "*) health pi-c 80.4 72 88 0 '["qwen2.5:0.5b"]' '["qwen2.5:0.5b","gemma3:1b"]' ;; esac
        sleep 0.5
    done
}
beat 0 pi-a pi-b pi-c &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
# --binding early: a request queued on a node's stream behind a running one is a state the page
# must show apart; bound late (sticky's default) the router would hold it instead
bg router "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" --http-listen "127.0.0.1:$HTTP_PORT" \
    --stale-after 3 --router-id ui-test --binding early
wait_for 5 curl -sf "$URL/api/version"
ok $? "the router serves HTTP"
bj() { curl -s "$URL/backends"; }
wait_for 5 sh -c "curl -s $URL/backends | grep -q '\"node\":\"pi-c\",\"eligible\":false,\"reason\":\"hot'"
ok $? "pi-c is out: hot"
curl -s "$URL/backends/deregister" -d '{"node":"pi-b"}' >/dev/null
wait_for 5 sh -c "curl -s $URL/backends | grep -q '\"node\":\"pi-b\",\"eligible\":false,\"reason\":\"draining\"'"
ok $? "pi-b is out: draining"
# pi-a, the only eligible node, gets gemma3:1b cold: its worker is taking it (running 1 of 1)
rcli XADD $Q '*' model gemma3:1b prompt one callback orion:inference:cb:ui:1 >/dev/null
wait_for 5 sh -c "[ \$(redis-cli -p $REDIS_PORT XLEN $Q:pi-a) = 1 ]"
ok $? "request 1 routed to pi-a"
kill "$BEAT"
beat 1 pi-a pi-b pi-c &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
# a second for the same model queues behind it; one for a model only the hot pi-c has waits
rcli XADD $Q '*' model gemma3:1b prompt two callback orion:inference:cb:ui:2 >/dev/null
rcli XADD $Q '*' model qwen2.5:0.5b prompt three callback orion:inference:cb:ui:3 timeout_ms 600000 >/dev/null
# answers the workers reported earlier, for the recent-requests table
for i in 1 2 3; do
    rcli XADD orion:inference:events '*' type done request_id "gw-ui-test-router-with-a-long-name-$i" \
        node_id pi-b model llama3.2:1b info '' total_duration 1234000000 load_duration 1000 >/dev/null
done
rcli XADD orion:inference:events '*' type failed request_id gw-ui-test-4 node_id pi-c \
    model qwen2.5:0.5b info '' code ollama_unreachable >/dev/null
wait_for 5 sh -c "curl -s $URL/stats | grep -q '\"node\":\"pi-a\".*\"running\":1,\"queued\":1,\"loading\":\[\"gemma3:1b\"\]'"
ok $? "/stats: pi-a runs 1, has 1 queued, is loading gemma3:1b"
wait_for 5 sh -c "curl -s $URL/metrics | grep -q '^orion_queue_depth 1'"
ok $? "one request waits in the router"
is "$(curl -s "$URL/metrics" | grep '^orion_node_queued{node="pi-a"}')" 'orion_node_queued{node="pi-a"} 1' \
    "/metrics: orion_node_queued{node=\"pi-a\"} 1"
wait_for 5 sh -c "curl -s $URL/stats | grep -q '\"backend_stats\":.*\"node\":\"pi-c\",\"inflight\":0,\"answered\":0,\"errors\":1'"
ok $? "/stats backend_stats: the failed answer on pi-c counted"

# shot <scene>: screenshots at both sizes; facts to $T_TMP/<scene>.json (one line per size)
shot() {
    (cd "$NODE_DIR" && timeout 120 node ui.mjs "$URL" "$OUT" "$1" 1280x800 390x844) \
        >"$T_TMP/$1.json" 2>"$T_TMP/$1.err"
    ok $? "$1: Chromium opens /ui at 1280x800 and 390x844 and draws the nodes"
    [ -s "$T_TMP/$1.err" ] && sed 's/^/# /' "$T_TMP/$1.err"
}
# fact <scene> <size> <js expression over f, the page's facts>
fact() {
    grep "\"size\":\"$2\"" "$T_TMP/$1.json" | node -e '
        const f = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const row = (id) => f.nodes.find((n) => n.id === "node-" + id) || { cells: [], labels: [] };
        const lat = (id) => f.latency.find((n) => n.id === "lat-" + id) || { cells: [] };
        console.log(String(eval(process.argv[1])));' "$3" 2>&1
}
looks() { # looks <scene> <size> <description> <js expression that must be true>
    is "$(fact "$1" "$2" "$4")" true "$1 $2: $3"
}
phone() { # what a phone needs, at 390 px
    s=$1
    looks "$s" 390x844 "no sideways scroll (page width <= 390)" 'f.scrollWidth <= f.width'
    looks "$s" 390x844 "no element past the screen's edge" 'f.overflow.length === 0'
    r=$(fact "$s" 390x844 'f.overflow.slice(0, 5).join(" ")')
    [ -z "$r" ] || echo "#   past the edge: $r"
    looks "$s" 390x844 "every node row within the screen" 'f.nodes.every((n) => n.fits)'
    looks "$s" 390x844 "every value labelled (temp, RAM, running, queued...)" \
        'f.nodes.every((n) => n.labels[2].includes("temp") && n.labels[5].includes("running") && n.labels[6].includes("queued"))'
    looks "$s" 390x844 "text at least 12 px" 'f.nodes.every((n) => n.fontPx >= 12)'
}

shot hot
for size in 1280x800 390x844; do
    looks hot $size "three nodes" 'f.nodes.length === 3'
    looks hot $size "pi-a eligible" 'row("pi-a").cells[1] === "eligible" && row("pi-a").stateClass === "ok"'
    looks hot $size "pi-a: running 1 / 1 slot, 1 queued apart" 'row("pi-a").cells[5] === "1 / 1" && row("pi-a").cells[6] === "1"'
    looks hot $size "pi-a: gemma3:1b shown loading" 'row("pi-a").cells[8].includes("gemma3:1b loading")'
    looks hot $size "pi-b draining" 'row("pi-b").cells[1] === "draining" && row("pi-b").stateClass === "warn"'
    looks hot $size "pi-c hot, with its temperature and the line" 'row("pi-c").cells[1] === "hot: 80.4 C > 75" && row("pi-c").stateClass === "no"'
    looks hot $size "1 waiting in the router" 'f.queue === "1"'
    looks hot $size "no error shown" 'f.err === ""'
    looks hot $size "latency: pi-b answered 3, mean/p50/p95 1234.0 ms, first token unknown" \
        'lat("pi-b").cells.slice(3).join(" ") === "3 0 1234.0 1234.0 1234.0 - -"'
    looks hot $size "latency: pi-b's model llama3.2:1b the same" \
        'lat("pi-b/llama3.2:1b").cells.slice(1, 8).join(" ") === "llama3.2:1b 0 3 0 1234.0 1234.0 1234.0"'
    looks hot $size "latency: pi-c 1 error, no latency" \
        'lat("pi-c").cells.slice(3, 6).join(" ") === "0 1 -"'
    looks hot $size "latency: pi-a (nothing answered) has its row" 'lat("pi-a").cells[3] === "0"'
done
looks hot 390x844 "latency rows fit a phone's screen" 'f.latency.every((n) => n.fits)'
looks hot 1280x800 "the node table is a table that fits (no labels needed)" \
    'f.scrollWidth <= f.width && f.nodes.every((n) => n.fits && n.labels[2] === "none")'
phone hot

# pi-c stops reporting: stale after 3 s
kill "$BEAT"
beat 1 pi-a pi-b &
BEAT=$!
T_PIDS="$T_PIDS $BEAT"
wait_for 10 sh -c "curl -s $URL/backends | grep -q '\"node\":\"pi-c\",\"eligible\":false,\"reason\":\"stale'"
ok $? "pi-c goes stale"
shot stale
for size in 1280x800 390x844; do
    looks stale $size "pi-c stale, with how long ago" '/^stale: last seen \d+ s ago$/.test(row("pi-c").cells[1]) && row("pi-c").stateClass === "dead"'
    looks stale $size "pi-b still draining, pi-a still running and queued" 'row("pi-b").cells[1] === "draining" && row("pi-a").cells[6] === "1"'
done
phone stale
check "four screenshots in build/ui" test "$(ls "$OUT"/*.png 2>/dev/null | wc -l)" -eq 4
done_testing
