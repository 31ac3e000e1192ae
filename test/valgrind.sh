#!/bin/sh
# make valgrind: test/run.sh over the VALGRIND=1 build (gcc, glibc, dynamic, -O1 -g) with every
# unit test, replay, worker, router, ollama-sim and orionctl started under valgrind memcheck.
# Each process writes its own log into $BUILD/valgrind/; test/valgrind-summary.sh then counts
# their errors and leaks as TAP tests, so "0 errors, 0 leaks" is a result, not an assumption.
# Env: BUILD, BINDIR (from make), ONLY (as in test/run.sh), ORION_SLOW (how many times longer
# the integration scripts' wait_for waits; default 5).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build/x86_64-linux-gnu-vg}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "not ok - valgrind not installed (tools/install-deps.sh valgrind installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
logs=$top/$BUILD/valgrind
rm -rf "$logs"
mkdir -p "$logs"
# Leaks of every kind but "still reachable" (memory a program still points at when it exits
# is not lost) are errors, and any error makes the program exit 99. test/valgrind.supp holds
# the few suppressions for glibc and valgrind noise, each explained; none is for our code.
ORION_WRAP="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --num-callers=30 \
--suppressions=$top/test/valgrind.supp --log-file=$logs/%p.log"
ORION_SLOW=${ORION_SLOW:-5}
ORION_VALGRIND_LOGS=$logs
export ORION_WRAP ORION_SLOW ORION_VALGRIND_LOGS BUILD
exec test/run.sh
