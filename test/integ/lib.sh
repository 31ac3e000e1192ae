# Shared helpers for the integration scripts (POSIX sh). Source it; it prints TAP.
# ORION_BIN (daemons), ORION_TOP (repo) come from test/run.sh.
: "${ORION_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${ORION_BIN:=$ORION_TOP/bin}"
: "${ORION_BUILD:=$ORION_TOP/build/x86_64-linux-musl}"
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

cleanup() {
    for p in $T_PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T_TMP"
}
trap cleanup EXIT INT TERM

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

wait_for() { # wait_for <seconds> <command...>: poll until the command succeeds
    w_end=$(($(date +%s) + $1))
    shift
    while [ "$(date +%s)" -le "$w_end" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
