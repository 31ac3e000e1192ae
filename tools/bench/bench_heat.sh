#!/bin/sh
# Cluster simulation, scenario "heat": sticky (ours) against the other policies on the same
# arrival trace, about 150 requests a run (REQUESTS=N to change); see tools/cluster-sim/run.sh
# and docs/BENCHMARKS.md.
REQUESTS=${REQUESTS:-150} exec sh "$(dirname "$0")/../cluster-sim/run.sh" heat
