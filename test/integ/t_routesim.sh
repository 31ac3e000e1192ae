#!/bin/sh
# routesim --jobs: the seeds run in several processes give the same table and BENCH lines,
# byte for byte, as one process; --dump with more than one job and a job count out of range
# are usage errors (exit 100).
. "$(dirname "$0")/lib.sh"
cd "$ORION_TOP" || exit 1
R=$ORION_BUILD/tools/routesim/routesim
[ -x "$R" ] || { ok 1 "routesim is built ($R)"; done_testing; exit; }
set -- --seeds 3 --requests 60 --sizes 3,10 --scenarios steady,chat,death --quiet --bench \
    --peers first-fit,least-conn,nginx,clairvoyant

# shellcheck disable=SC2086 # ORION_WRAP is a command line
$ORION_WRAP "$R" "$@" --out "$T_TMP/one.md" >"$T_TMP/one.bench" 2>"$T_TMP/one.err"
ok $? "routesim runs in one process"
# shellcheck disable=SC2086
$ORION_WRAP "$R" "$@" --jobs 2 --out "$T_TMP/two.md" >"$T_TMP/two.bench" 2>"$T_TMP/two.err"
ok $? "routesim --jobs 2 runs"
# shellcheck disable=SC2086
$ORION_WRAP "$R" "$@" --jobs 3 --out "$T_TMP/three.md" >"$T_TMP/three.bench" 2>"$T_TMP/three.err"
ok $? "routesim --jobs 3 (one seed a process) runs"
n=$(grep -c '^BENCH routesim_' "$T_TMP/one.bench")
check "one process prints BENCH lines for the goals ($n)" test "$n" -ge 10
check "each of the 6 tables (3 scenarios x 2 sizes) has its nginx row" test "$(grep -c '^| nginx |' "$T_TMP/one.md")" = 6
check "--jobs 2 gives the same table, byte for byte" cmp "$T_TMP/one.md" "$T_TMP/two.md"
check "--jobs 2 gives the same BENCH lines" cmp "$T_TMP/one.bench" "$T_TMP/two.bench"
check "--jobs 3 gives the same table" cmp "$T_TMP/one.md" "$T_TMP/three.md"
check "--jobs 3 gives the same BENCH lines" cmp "$T_TMP/one.bench" "$T_TMP/three.bench"
# a different seed range changes the figures (the comparison above can tell runs apart)
"$R" "$@" --seed0 7 --out "$T_TMP/other.md" >/dev/null 2>&1
check "other seeds give another table" sh -c "! cmp -s '$T_TMP/one.md' '$T_TMP/other.md'"

"$R" --jobs 2 --dump "$T_TMP/d" --seeds 1 >/dev/null 2>&1
is "$?" 100 "--dump with --jobs 2 is a usage error"
"$R" --jobs 0 --seeds 1 >/dev/null 2>&1
is "$?" 100 "--jobs 0 is a usage error"
"$R" --jobs 65 --seeds 1 >/dev/null 2>&1
is "$?" 100 "--jobs 65 is a usage error"
done_testing
