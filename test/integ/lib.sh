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

# --- Redis with Sentinel on loopback: a master, its replica, three sentinels ----------------
# Short timings, near those redis-sentinel.md §5 measured with (down-after 1000 ms,
# failover-timeout 3000 ms): down-after HA_DOWN_AFTER, 2000 ms by default, since on a loaded
# 2-core machine a sentinel can miss a second of PINGs and start a failover nobody asked for. Every process goes through bg (cleanup stops it). HA_SENTINEL_EXTRA: more
# sentinel.conf lines; HA_REDIS_EXTRA: more redis.conf lines (both data nodes).
ha_sentinel_bin() { command -v redis-sentinel || echo "redis-server"; }
# ha_data <name> <port> [master port]: write the data node's config and start it (sets
# HA_PID_<name>); its dir keeps the config, which Sentinel rewrites on a failover.
ha_data() {
    h_d=$T_TMP/ha-$1
    mkdir -p "$h_d"
    if [ ! -f "$h_d/redis.conf" ]; then
        printf 'port %s\nbind 127.0.0.1\ndir %s\nsave ""\nappendonly no\n%s\n' "$2" "$h_d" \
            "${HA_REDIS_EXTRA:-}" >"$h_d/redis.conf"
        [ -z "${3:-}" ] || echo "replicaof 127.0.0.1 $3" >>"$h_d/redis.conf"
    fi
    bg "ha-$1" redis-server "$h_d/redis.conf"
    eval "HA_PID_$1=$BG_PID"
    wait_for 5 redis-cli -p "$2" ping
}
# ha_sentinel <name> <port> <master port> [quorum]: a sentinel monitoring mymaster
ha_sentinel() {
    h_d=$T_TMP/ha-$1
    mkdir -p "$h_d"
    printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %s %s\n%s\n%s\n%s\n' \
        "$2" "$h_d" "$3" "${4:-2}" "sentinel down-after-milliseconds mymaster ${HA_DOWN_AFTER:-2000}" \
        "sentinel failover-timeout mymaster 3000" "${HA_SENTINEL_EXTRA:-}" >"$h_d/sentinel.conf"
    if [ "$(ha_sentinel_bin)" = redis-server ]; then
        bg "ha-$1" redis-server "$h_d/sentinel.conf" --sentinel
    else
        bg "ha-$1" redis-sentinel "$h_d/sentinel.conf"
    fi
    eval "HA_PID_$1=$BG_PID"
    wait_for 5 redis-cli -p "$2" ping
}
# the master's port as sentinel $1 (a port) names it
ha_named() { redis-cli -p "$1" SENTINEL get-master-addr-by-name mymaster 2>/dev/null | tail -1; }
ha_role() { redis-cli -p "$1" ROLE 2>/dev/null | head -1; }
# every sentinel of the rig that is up knows the other two and the HA_NREP replicas
ha_discovered() {
    for h_p in $HA_S1 $HA_S2 $HA_S3; do
        redis-cli -p "$h_p" ping >/dev/null 2>&1 || continue
        h_m=$(redis-cli -p "$h_p" SENTINEL master mymaster 2>/dev/null)
        echo "$h_m" | grep -A1 -x num-other-sentinels | tail -1 | grep -qx 2 || return 1
        echo "$h_m" | grep -A1 -x num-slaves | tail -1 | grep -qx "$HA_NREP" || return 1
    done
}
ha_linked() { redis-cli -p "$1" ROLE 2>/dev/null | sed -n 4p | grep -qx connected; }
# every sentinel up names port $1 as the master
ha_all_name() {
    for h_p in $HA_S1 $HA_S2 $HA_S3; do
        redis-cli -p "$h_p" ping >/dev/null 2>&1 || continue
        [ "$(ha_named "$h_p")" = "$1" ] || return 1
    done
}
# every sentinel up names the same master, and not port $1: HA_NEW is it
ha_moved_from() {
    HA_NEW=
    for h_p in $HA_S1 $HA_S2 $HA_S3; do
        redis-cli -p "$h_p" ping >/dev/null 2>&1 || continue
        h_n=$(ha_named "$h_p")
        [ -n "$h_n" ] && [ "$h_n" != "$1" ] || return 1
        [ -z "$HA_NEW" ] || [ "$HA_NEW" = "$h_n" ] || return 1
        HA_NEW=$h_n
    done
    [ -n "$HA_NEW" ]
}
# start_ha [replicas]: the master on HA_M, its replicas on HA_R (and HA_R2 when 2), sentinels
# on HA_S1..3; HA_SENTINELS is the list for --redis-sentinels. Waits until the replicas are
# linked and every sentinel knows the other two and the replicas (Redis's own suite waits on
# the same). ha_pid <port>: the pid of the data node on that port.
start_ha() {
    HA_NREP=${1:-1}
    HA_M=$(free_port) HA_R=$(free_port) HA_R2=
    HA_S1=$(free_port) HA_S2=$(free_port) HA_S3=$(free_port)
    HA_SENTINELS=127.0.0.1:$HA_S1,127.0.0.1:$HA_S2,127.0.0.1:$HA_S3
    ha_data m "$HA_M" || return 1
    ha_data r "$HA_R" "$HA_M" || return 1
    if [ "$HA_NREP" = 2 ]; then
        HA_R2=$(free_port)
        ha_data r2 "$HA_R2" "$HA_M" || return 1
    fi
    ha_sentinel s1 "$HA_S1" "$HA_M" || return 1
    ha_sentinel s2 "$HA_S2" "$HA_M" || return 1
    ha_sentinel s3 "$HA_S3" "$HA_M" || return 1
    wait_for 10 ha_linked "$HA_R" && { [ -z "$HA_R2" ] || wait_for 10 ha_linked "$HA_R2"; } &&
        wait_for 20 ha_discovered
}
ha_pid() {
    case "$1" in
    "$HA_M") echo "$HA_PID_m" ;;
    "$HA_R") echo "$HA_PID_r" ;;
    "$HA_R2") echo "$HA_PID_r2" ;;
    esac
}
