#!/bin/sh
# make demo's script (tools/demo.sh): it comes up, and a SIGTERM sent to the script alone (as
# `kill PID` or a supervisor sends it, not Ctrl-C's whole process group) stops it and every
# process it started within seconds.
. "$(dirname "$0")/lib.sh"
if [ -n "$ORION_WRAP" ]; then # the demo runs bin/ as built by make, not the wrapped build
    skip "the demo runs the plain binaries of bin/"
    done_testing
    exit 0
fi
HP=$(free_port)
ORION_HTTP_LISTEN=127.0.0.1:$HP "$ORION_TOP/tools/demo.sh" >"$T_TMP/demo.out" 2>&1 &
D=$!
T_PIDS="$T_PIDS $D"
running() { grep -q '^demo: running' "$T_TMP/demo.out"; }
wait_for 120 running
ok $? "the demo comes up and says it is running"
grep -q 'sticky, no cold load' "$T_TMP/demo.out"
ok $? "... after showing sticky placement"
kids=$(ps -o pid= --ppid "$D" | tr '\n' ' ')
check "... with its cluster running under it" test -n "$kids"
kill -TERM "$D"
demo_gone() { gone "$D"; }
wait_for 10 demo_gone
ok $? "SIGTERM to the script alone stops it within 10 s"
all_gone() { for k in $kids; do gone "$k" || return 1; done; }
wait_for 5 all_gone
ok $? "... and every process it started ($kids) is gone"

# DEMO_HA=1: the 3-Pi Redis layout (master, replica, three sentinels); the master is killed -9
# near the end and the demo goes on
if command -v redis-sentinel >/dev/null 2>&1; then
    HP=$(free_port)
    DEMO_HA=1 ORION_HTTP_LISTEN=127.0.0.1:$HP "$ORION_TOP/tools/demo.sh" >"$T_TMP/demo-ha.out" 2>&1 &
    D=$!
    T_PIDS="$T_PIDS $D"
    running_ha() { grep -q '^demo: running' "$T_TMP/demo-ha.out"; }
    wait_for 120 running_ha
    ok $? "DEMO_HA=1: the demo comes up on a master, a replica and three sentinels"
    grep -q 'answered [0-9]* s after the master died' "$T_TMP/demo-ha.out"
    ok $? "... and answers after its Redis master is killed -9"
    kids=$(ps -o pid= --ppid "$D" | tr '\n' ' ')
    kill -TERM "$D"
    wait_for 10 demo_gone
    wait_for 5 all_gone
    ok $? "... and SIGTERM stops it and all it started"
else
    skip "DEMO_HA=1: redis-sentinel is not installed"
fi
done_testing
