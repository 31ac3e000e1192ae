#!/bin/sh
# test/integ/lib.sh itself: a script that sources it and is stopped with SIGTERM cleans up
# (its background processes killed, its temporary directory removed) and then stops, with
# status 143, instead of running on.
. "$(dirname "$0")/lib.sh"
OUT=$T_TMP/out
mkdir -p "$OUT"
cat >"$T_TMP/victim.sh" <<'VICTIM'
. "$ORION_TOP/test/integ/lib.sh"
bg sleeper sleep 60
echo "$BG_PID" >"$OUT/sleeper.pid"
echo "$T_TMP" >"$OUT/tmp"
echo started >"$OUT/state"
i=0
while [ $i -lt 50 ]; do # 5 s in short sleeps, so the trap runs soon after the signal
    sleep 0.1
    i=$((i + 1))
done
echo ran-on >>"$OUT/state"
VICTIM
OUT=$OUT ORION_TOP=$ORION_TOP ORION_BUILD=$ORION_BUILD sh "$T_TMP/victim.sh" &
V=$!
started() { grep -qx started "$OUT/state"; }
wait_for 5 started
ok $? "the script that sources lib.sh runs"
kill -TERM "$V"
wait "$V"
is "$?" 143 "SIGTERM: it exits with 143"
sleep 0.5
check "it did not run on after the signal" sh -c "! grep -q ran-on '$OUT/state'"
SP=$(cat "$OUT/sleeper.pid")
check "its background process was killed" sh -c "! kill -0 $SP"
check "its temporary directory was removed" sh -c "! test -d '$(cat "$OUT/tmp")'"
done_testing
