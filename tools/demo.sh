#!/bin/sh
# make demo: a local cluster on loopback. Filled in once the worker and router run.
echo "make demo: not yet: the worker and router loops are still being built (see README.md)"
