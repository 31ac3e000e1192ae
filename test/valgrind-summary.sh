#!/bin/sh
# The valgrind logs of a make valgrind run as TAP: one "not ok" for every process whose log
# shows an error or a definite, indirect or possible leak (the log follows on stderr), one "ok"
# per program whose every log is clean, and the totals. A log with no ERROR SUMMARY is of a
# process that never exited: a forked child that exec'd another program (test/testsrv.h
# starting redis-server) or one the test killed with SIGKILL; its errors up to then count,
# it has no leak check. SIGTERM ends every daemon normally, so its leak check is there.
# Usage: test/valgrind-summary.sh <log dir>
set -u
dir=${1:?usage: valgrind-summary.sh <log dir>}
top=$(cd "$(dirname "$0")/.." && pwd)
n=0
bad=0
set -- "$dir"/*.log
if [ ! -e "$1" ]; then
    echo "not ok 1 - no valgrind log in $dir: nothing ran under valgrind"
    echo "1..1"
    exit 1
fi
# One line per log: program, complete (1/0), errors, definite, indirect, possible (bytes).
for f in "$@"; do
    awk -v f="$f" -v top="$top/" '
        /== Command: / { sub(/.*== Command: /, ""); cmd = $1; sub(/.*\//, "", cmd) }
        /== ERROR SUMMARY: / { done = 1; s = $0; sub(/.*ERROR SUMMARY: /, "", s); split(s, a, " "); err = a[1] }
        /== *(at|by) 0x/ { frames++ }
        /definitely lost: / { s = $0; sub(/.*lost: /, "", s); gsub(/,/, "", s); split(s, a, " "); def = a[1] }
        /indirectly lost: / { s = $0; sub(/.*lost: /, "", s); gsub(/,/, "", s); split(s, a, " "); ind = a[1] }
        /possibly lost: / { s = $0; sub(/.*lost: /, "", s); gsub(/,/, "", s); split(s, a, " "); pos = a[1] }
        END {
            if (cmd == "") cmd = "?"
            if (!done) err = frames > 0 ? 1 : 0
            printf "%s %d %d %d %d %d %s\n", cmd, done, err + 0, def + 0, ind + 0, pos + 0, f
        }' "$f"
done >"$dir/summary.txt"
sort -k1,1 "$dir/summary.txt" | awk '
    { prog[$1]++; if ($2 == 0) partial[$1]++
      if ($3 + $4 + $5 + $6 > 0) { bad[$1]++; print "B " $0 } }
    END { for (p in prog) print "P " p " " prog[p] " " partial[p] + 0 " " bad[p] + 0 }' |
    sort >"$dir/summary.tap.in"
while read -r kind a b c d e f g; do
    n=$((n + 1))
    if [ "$kind" = B ]; then # a bad log: prog complete err def ind pos file
        echo "not ok $n - valgrind: $a (${g##*/}): $c errors, lost $d definitely, $e indirectly, $f possibly (bytes)"
        echo "# --- $g" >&2
        sed -n '/== Command:/,$p' "$g" | head -80 >&2
        bad=$((bad + 1))
    else # P prog logs partial bad
        if [ "$d" -eq 0 ]; then
            x=""
            [ "$c" -eq 0 ] || x=" ($c of them never exited: no leak check for those)"
            echo "ok $n - valgrind: $a: $b processes, 0 errors, 0 leaks$x"
        else
            n=$((n - 1)) # its bad logs have their own not ok
        fi
    fi
done <"$dir/summary.tap.in"
awk '{ l++; e += $3; d += $4; i += $5; p += $6; if (!$2) x++ }
     END { printf "# valgrind totals: %d logs (%d without exit), %d errors, lost %d B definitely, %d B indirectly, %d B possibly\n", l, x, e, d, i, p }' "$dir/summary.txt"
echo "1..$n"
[ "$bad" -eq 0 ]
