#!/bin/sh
# Cluster simulation, scenario "steady": sticky (ours) against the other policies on the same
# arrival trace; see tools/cluster-sim/run.sh and docs/BENCHMARKS.md.
exec sh "$(dirname "$0")/../cluster-sim/run.sh" steady
