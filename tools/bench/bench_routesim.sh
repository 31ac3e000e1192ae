#!/bin/sh
# routesim: the router's own route core (liborion.a) against first-fit, least-conn,
# round-robin, random, nginx least_conn and a clairvoyant, in a simulated Pi cluster: every
# scenario on 3, 10 and 100 nodes, 20 seeds x 2000 measured requests each, the seeds in one
# process per core (--jobs; the figures are the same as with one), about 140 s of CPU
# (ROUTESIM_ARGS="--seeds 10" for a quicker look; the ablations ours-early and
# least-conn-late, not peers, only when --peers names them). Prints the BENCH lines; the full
# table is build/routesim/results.md. See tools/routesim/sim.h and docs/BENCHMARKS.md
# ("routesim").
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sim=$top/build/x86_64-linux-musl/tools/routesim/routesim
[ -x "$sim" ] || { echo "# routesim: $sim missing (make routesim)" >&2; exit 1; }
mkdir -p "$top/build/routesim"
start=$(date +%s)
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
[ "$jobs" -le 16 ] || jobs=16
# shellcheck disable=SC2086 # ROUTESIM_ARGS is a list of arguments
"$sim" --bench --quiet --out "$top/build/routesim/results.md" --seeds 20 \
    --jobs "$jobs" \
    --peers first-fit,least-conn,round-robin,random,nginx,clairvoyant ${ROUTESIM_ARGS:-} || exit 1
echo "# routesim: $(($(date +%s) - start)) s; table in build/routesim/results.md"
