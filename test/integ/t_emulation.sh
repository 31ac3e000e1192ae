#!/bin/sh
# The cross-built daemons do real work: an aarch64 worker and an armv7 router (and the other
# way round) run under qemu-user against a native redis-server and ollama-sim, and a request
# is answered through them. A cross build that only links is not proven.
. "$(dirname "$0")/lib.sh"
if [ -n "$ORION_WRAP" ]; then
    skip "under valgrind: the cross daemons are static musl run by qemu-user, which memcheck cannot instrument; make check runs this"
    done_testing
    exit 0
fi
if [ -n "${ORION_SANITIZE:-}" ]; then # the cross binaries are the same in both runs
    skip "cross builds are checked by make check, not again by make sanitize"
    done_testing
    exit 0
fi
if ! command -v qemu-aarch64-static >/dev/null 2>&1 || ! command -v qemu-arm-static >/dev/null 2>&1; then
    skip "qemu-user-static not installed"
    done_testing
    exit 0
fi
start_redis || { ok 1 "redis-server starts"; done_testing; exit 1; }
start_sim e --models gemma3:1b --load-ms 200 --tokens-per-s 100 || ok 1 "ollama-sim starts"
run_pair() { # run_pair <worker arch> <worker qemu> <router arch> <router qemu> <tag>
    bg "worker-$5" "$2" "$ORION_TOP/bin/$1/orion-inference-worker" --node-id "emu-$5" \
        --redis-addr "$REDIS_ADDR" --ollama-url "$SIM_URL_e" --sysfs-root "$SIM_ROOT_e" --health-interval 1
    W=$BG_PID
    bg "router-$5" "$4" "$ORION_TOP/bin/$3/orion-inference-router" --redis-addr "$REDIS_ADDR" \
        --http-listen off --stale-after 5
    R=$BG_PID
    submit gemma3:1b "Hello from $5" "cb-$5" >/dev/null
    answered() { [ "$(answers "cb-$5")" -ge 1 ]; }
    wait_for 60 answered
    is "$(answer_field "cb-$5" status)" ok "$1 worker + $3 router under qemu: answered"
    is "$(answer_field "cb-$5" node_id)" "emu-$5" "... by the emulated worker"
    kill -TERM "$W" "$R"
    wait "$W"
    is "$?" 0 "$1 worker exits 0 on SIGTERM under qemu"
    wait "$R" 2>/dev/null
}
run_pair aarch64 qemu-aarch64-static armv7 qemu-arm-static a
rcli DEL orion:inference:health >/dev/null
run_pair armv7 qemu-arm-static aarch64 qemu-aarch64-static b
done_testing
