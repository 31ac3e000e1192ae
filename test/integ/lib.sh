# Shared helpers for the integration scripts (POSIX sh). Source it; it prints TAP.
# ORION_BIN (daemons), ORION_TOP (repo) come from test/run.sh.
: "${ORION_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${ORION_BIN:=$ORION_TOP/bin}"
: "${ORION_BUILD:=$ORION_TOP/build/x86_64-linux-musl}"
# ORION_WRAP: a command every daemon, ollama-sim and orionctl is started under, unquoted
# ("$ORION_WRAP" "$ORION_BIN/..." would pass an empty word): make valgrind sets it to valgrind
# memcheck. ORION_SLOW: how many times longer wait_for waits then (a whole number, default 1).
ORION_WRAP=${ORION_WRAP:-}
ORION_SLOW=${ORION_SLOW:-1}
T_N=0
T_FAILED=0
T_TMP=$(mktemp -d /tmp/orion-integ-XXXXXX)
T_PIDS=""

ok() { # ok <0|1 (shell status)> <description>
    T_N=$((T_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $T_N - $2"
    else
        echo "not ok $T_N - $2"
        T_FAILED=$((T_FAILED + 1))
    fi
}
check() { # check <description> <command...>: ok when the command succeeds
    d=$1
    shift
    if "$@" >/dev/null 2>&1; then ok 0 "$d"; else ok 1 "$d"; fi
}
is() { # is <got> <want> <description>
    if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got '$1', want '$2'"; fi
}
skip() { T_N=$((T_N + 1)); echo "ok $T_N # skip $1"; }
done_testing() { echo "1..$T_N"; [ "$T_FAILED" -eq 0 ]; }

free_port() { "$ORION_BUILD/test/tools/freeport"; }

gone() { # gone <pid>: the process has ended (a zombie not yet waited for counts as ended)
    [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}
cleanup() {
    for p in $T_PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.2
    if [ -n "$ORION_WRAP" ]; then
        # Under valgrind a daemon ends on SIGTERM only after its leak check: give it the time,
        # and count one that does not end as a failure, since its leak check is lost.
        c_end=$(($(date +%s) + 10 * ORION_SLOW))
        for p in $T_PIDS; do
            while ! gone "$p" && [ "$(date +%s)" -le "$c_end" ]; do sleep 0.1; done
            if ! gone "$p"; then
                echo "not ok - pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)) did not end on SIGTERM"
            fi
        done
    fi
    for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$T_TMP" # KEEP=1 keeps the logs for a look
}
trap cleanup EXIT
# stopped by a signal: clean up, then stop (and do not clean up a second time on EXIT)
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM

bg() { # bg <logname> <command...>: start in the background, remember the pid in BG_PID
    n=$1
    shift
    "$@" >"$T_TMP/$n.log" 2>&1 &
    BG_PID=$!
    T_PIDS="$T_PIDS $BG_PID"
}

start_redis() { # sets REDIS_PORT, REDIS_ADDR, REDIS_SOCK
    REDIS_PORT=$(free_port)
    REDIS_ADDR=127.0.0.1:$REDIS_PORT
    REDIS_SOCK=$T_TMP/redis.sock
    bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --unixsocket "$REDIS_SOCK" \
        --save '' --appendonly no --dir "$T_TMP" "$@"
    REDIS_PID=$BG_PID
    i=0
    while [ $i -lt 100 ]; do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

wait_for() { # wait_for <seconds> <command...>: poll until the command succeeds (ORION_SLOW x)
    w_end=$(($(date +%s) + $1 * ORION_SLOW))
    shift
    while [ "$(date +%s)" -le "$w_end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# --- a cluster on loopback: ollama-sims, workers, router ---------------------------------
# start_sim <name> [ollama-sim flags...]: sets SIM_URL_<name>, SIM_ROOT_<name> (a sysfs root)
start_sim() {
    s_name=$1
    shift
    s_port=$(free_port)
    s_root=$T_TMP/root-$s_name
    mkdir -p "$s_root"
    bg "sim-$s_name" $ORION_WRAP "$ORION_BIN/ollama-sim" --listen "127.0.0.1:$s_port" --sysfs-root "$s_root" "$@"
    s_var=$(echo "$s_name" | tr -c "A-Za-z0-9_\n" _)
    eval "SIM_PID_$s_var=$BG_PID SIM_URL_$s_var=http://127.0.0.1:$s_port SIM_ROOT_$s_var=$s_root"
    wait_for 5 curl -sf "http://127.0.0.1:$s_port/api/version"
}
# start_worker <node> <ollama-url> <sysfs-root> [worker flags...]: sets WORKER_PID_<node>
start_worker() {
    w_node=$1 w_url=$2 w_root=$3
    shift 3
    bg "worker-$w_node" $ORION_WRAP "$ORION_BIN/orion-inference-worker" --node-id "$w_node" \
        --redis-addr "$REDIS_ADDR" --ollama-url "$w_url" --sysfs-root "$w_root" \
        --health-interval 1 --log-level debug "$@"
    eval "WORKER_PID_$(echo "$w_node" | tr -c "A-Za-z0-9_\n" _)=$BG_PID"
}
# start_router [router flags...]: sets ROUTER_PID
start_router() {
    bg "router-$T_N" $ORION_WRAP "$ORION_BIN/orion-inference-router" --redis-addr "$REDIS_ADDR" \
        --http-listen off --log-level debug "$@"
    ROUTER_PID=$BG_PID
}
# health_field <node> <jq-less field>: crude JSON field read from the health hash
health_json() { rcli HGET orion:inference:health "$1"; }
# submit <model> <prompt> <callback> [more fields...]: prints the entry id
submit() {
    s_model=$1 s_prompt=$2 s_cb=$3
    shift 3
    rcli XADD orion:inference:requests '*' model "$s_model" prompt "$s_prompt" callback "$s_cb" "$@"
}
# answer_field <callback> <field>: the field of the first done/error entry on the callback
answer_field() {
    rcli --raw XRANGE "$1" - + | awk -v f="$2" 'prev == f { print; exit } { prev = $0 }'
}
# answers <callback>: number of done/error entries on the callback
answers() {
    rcli --raw XRANGE "$1" - + | awk 'prev == "type" && ($0 == "done" || $0 == "error") { n++ } { prev = $0 } END { print n + 0 }'
}
