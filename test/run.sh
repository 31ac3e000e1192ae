#!/bin/sh
# Run every test program and script, add up their TAP results, and end with the one line CI
# reads: "N passed, N failed". A program that dies without reporting counts as one failure.
# Env: BUILD (object dir with test/), BINDIR (daemons), ONLY (a pattern to select tests),
# ORION_WRAP (a command every test program and daemon runs under: test/valgrind.sh sets it,
# with ORION_VALGRIND_LOGS, the directory of its logs, counted last as tests of their own).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build/x86_64-linux-musl}
BINDIR=${BINDIR:-bin}
export ORION_BIN="$top/$BINDIR" ORION_TOP="$top" ORION_BUILD="$top/$BUILD"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

run_one() { # run_one <name> <command...>
    name=$1
    shift
    case "$name" in *${ONLY:-}*) ;; *) return ;; esac
    out="$log/$(echo "$name" | tr '/' '_').tap"
    "$@" >"$out" 2>"$out.err"
    rc=$?
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^not ok ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name exited with status $rc" >>"$out"
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name ran no test" >>"$out"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        echo "FAIL $name: $p passed, $f failed"
        grep -A3 '^not ok' "$out" | head -40
        tail -20 "$out.err"
    else
        sk=$(grep -c '^ok [0-9]* *# *skip' "$out")
        if [ "$sk" -gt 0 ]; then
            echo "ok   $name: $p passed, $sk of them skipped: $(grep -m1 '# *skip' "$out" | sed 's/.*# *skip *//')"
        else
            echo "ok   $name: $p passed"
        fi
    fi
}

for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    # shellcheck disable=SC2086 # ORION_WRAP is a command line
    run_one "unit/$(basename "$t")" ${ORION_WRAP:-} "$t"
done
for t in "$BUILD"/test/replay_*; do
    [ -x "$t" ] || continue
    tgt=${t##*/replay_}
    # shellcheck disable=SC2086
    run_one "replay/$tgt" ${ORION_WRAP:-} "$t" "test/fuzz/corpus/$tgt"
done
for t in test/integ/t_*.sh; do
    [ -f "$t" ] || continue
    run_one "integ/$(basename "$t" .sh)" sh "$t"
done

if [ -n "${ORION_VALGRIND_LOGS:-}" ]; then # whatever ONLY selected: the logs of what ran
    ONLY=
    run_one "valgrind/logs" sh test/valgrind-summary.sh "$ORION_VALGRIND_LOGS"
    grep '^# valgrind totals' "$log/valgrind_logs.tap"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
