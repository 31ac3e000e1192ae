#!/bin/sh
# contrib/grafana/orion.json against a live router: every metric name and label in the
# dashboard's queries is one the router's /metrics really exports (test/tools/dashcheck, which
# must also catch a name that is not), the panels the dashboard promises are there; then a
# real Prometheus (Debian's), configured from contrib/prometheus/orion.yml, scrapes the router
# and runs every query of the dashboard: each one is valid PromQL and the node panels have
# data. The cluster: redis-server, ollama-sim, a worker, the router, a few requests.
. "$(dirname "$0")/lib.sh"
if [ -n "$ORION_WRAP" ] || [ -n "${ORION_SANITIZE:-}" ]; then
    skip "the dashboard is checked by make check, not again by make sanitize or valgrind"
    done_testing
    exit 0
fi
DASH=$ORION_TOP/contrib/grafana/orion.json
CHECK=$ORION_BUILD/test/tools/dashcheck
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
start_sim a --models gemma3:1b --load-ms 300 --tokens-per-s 200 || ok 1 "ollama-sim starts"
start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a"
HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
start_router --http-listen "127.0.0.1:$HTTP_PORT"
wait_for 10 sh -c "curl -s $URL/backends | grep -q '\"node\":\"pi-a\",\"eligible\":true'"
ok $? "a router and an eligible worker"
for i in 1 2 3; do
    curl -s -m 30 "$URL/api/generate" -d "{\"model\":\"gemma3:1b\",\"prompt\":\"grafana $i\",\"stream\":false}" >/dev/null
done
wait_for 5 sh -c "curl -s $URL/metrics | grep -q '^orion_requests_total{model=\"gemma3:1b\",node=\"pi-a\",outcome=\"ok\"} 3'"
ok $? "three answers counted in orion_requests_total"
curl -s "$URL/metrics" >"$T_TMP/metrics"

"$CHECK" "$DASH" "$T_TMP/metrics" >"$T_TMP/check" 2>"$T_TMP/check.err"
ok $? "dashcheck: every metric and label of the dashboard is in the router's /metrics"
grep ' missing$' "$T_TMP/check" | sort -u | sed 's/^/#   /'
cat "$T_TMP/check.err" | sed 's/^/#   /'
n_expr=$(grep -c '^expr ' "$T_TMP/check")
n_metric=$(grep '^metric ' "$T_TMP/check" | sort -u | wc -l)
check "... $n_expr queries, $n_metric distinct metric names checked" test "$n_expr" -ge 20 -a "$n_metric" -ge 15
# every panel but a row has a query
noq=$(grep '^panel ' "$T_TMP/check" | while read -r _ id type title; do
    [ "$type" = row ] && continue
    grep -q "^expr $id	" "$T_TMP/check" || echo "$id $title"
done)
is "$noq" "" "every panel (rows aside) has a query"
for want in "Temperature" "RAM used" "CPU busy" "Eligible, per node" "Answers by model, node and outcome" \
    "Queue depth (waiting in the router)" "Time to first token" "Total time" "Cold loads and spills" \
    "Failovers, timeouts, dead letters"; do
    check "panel: $want" grep -q "^panel [0-9]* [a-z-]* $want\$" "$T_TMP/check"
done
# the checker can fail: a name the router does not export, and a label it does not have
sed 's/orion_queue_depth/orion_queue_lenght/; s/sum by (kind)/sum by (knd)/' "$DASH" >"$T_TMP/bad.json"
"$CHECK" "$T_TMP/bad.json" "$T_TMP/metrics" >"$T_TMP/bad" 2>&1
is "$?" 1 "dashcheck fails on a dashboard with a wrong name"
check "... and names it: orion_queue_lenght" grep -q '^metric orion_queue_lenght missing' "$T_TMP/bad"
check "... and the wrong label: knd" grep -q '^label knd missing' "$T_TMP/bad"

# --- a real Prometheus runs every query ---------------------------------------------------
PROM=$(command -v prometheus || true)
if [ -z "$PROM" ]; then
    skip "prometheus not installed (tools/install-deps.sh installs it)"
    done_testing
    exit 0
fi
PROM_PORT=$(free_port)
PURL=http://127.0.0.1:$PROM_PORT
# the example, pointed at this router and scraping every second
sed -e "s|pi-master.local:8088|127.0.0.1:$HTTP_PORT|" -e 's|scrape_interval: 15s|scrape_interval: 1s|' \
    "$ORION_TOP/contrib/prometheus/orion.yml" >"$T_TMP/prom.yml"
bg prometheus "$PROM" --config.file="$T_TMP/prom.yml" --storage.tsdb.path="$T_TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT"
q() { # q <promql>: the API's answer
    curl -s -m 10 "$PURL/api/v1/query" --data-urlencode "query=$1"
}
wait_for 30 sh -c "curl -s -m 5 '$PURL/api/v1/query' --data-urlencode 'query=up{job=\"orion\"}' | grep -q '\"value\":\[[0-9.]*,\"1\"\]'"
ok $? "Prometheus (contrib/prometheus/orion.yml) scrapes the router: up{job=\"orion\"} 1"
# a few scrapes, with traffic in between, so that rates have two samples
for i in 4 5 6; do
    curl -s -m 30 "$URL/api/generate" -d "{\"model\":\"gemma3:1b\",\"prompt\":\"grafana $i\",\"stream\":false}" >/dev/null
    sleep 1
done
sleep 2
bad=0 empty=""
grep '^expr ' "$T_TMP/check" | cut -f2- | sort -u >"$T_TMP/exprs"
while IFS= read -r e; do
    pq=$(echo "$e" | sed -e 's/\$__rate_interval/15s/g; s/\$__range/1m/g; s/\$node/.*/g')
    case $pq in label_values*) continue ;; esac # a Grafana function, not PromQL
    a=$(q "$pq")
    if ! echo "$a" | grep -q '"status":"success"'; then
        bad=$((bad + 1))
        echo "#   $pq: $a" | cut -c1-300
    elif echo "$a" | grep -q '"result":\[\]'; then
        empty="$empty
$pq"
    fi
done <"$T_TMP/exprs"
is "$bad" 0 "Prometheus runs every query of the dashboard ($(wc -l <"$T_TMP/exprs") distinct)"
echo "$empty" | grep . | sed 's/^/# no data (yet): /'
for m in orion_node_temp_celsius orion_node_ram_percent orion_node_cpu_percent orion_node_eligible \
    orion_node_running orion_queue_depth; do
    check "... $m has data for pi-a or the cluster" sh -c "! echo '$empty' | grep -q '^$m'"
done
check "... the answers by model, node and outcome have data" sh -c "! echo '$empty' | grep -q '^sum by (model, node, outcome) (rate'"
check "... the time to first token p50 has data" sh -c "! echo '$empty' | grep -q 'histogram_quantile(0.5, sum by (le) (rate(orion_http_first_token_seconds_bucket'"
done_testing
