#!/bin/sh
# The short soak of tools/soak.sh: 300 requests through three nodes with a random fault every
# 3 s; 0 lost, 0 answered twice, RSS and fds flat. LONG=1 runs the 10 000-request version.
if [ -n "${ORION_WRAP:-}" ]; then
    # Its fault schedule and RSS/fd bounds are timed for real speed: 10-50x slower daemons
    # would turn every fault into a timeout. make check and make sanitize run it.
    echo "ok 1 # skip under valgrind: the soak's 3 s fault schedule and RSS bounds need real speed"
    echo "1..1"
    exit 0
fi
# The router's memory has high-water marks (reply blocks, buffers, requests held at once) that
# a warm-up of 60 requests does not always reach: the short run allows 64 KiB, which still
# catches a leak of some 200 bytes a request; LONG=1 (a warm-up of 2 000) keeps the strict
# 8 KiB bound. See docs/RELIABILITY.md ("The router's RSS in the long soak").
[ -n "${LONG:-}" ] || SOAK_RSS_SLACK_KIB=${SOAK_RSS_SLACK_KIB:-64}
export SOAK_RSS_SLACK_KIB
exec sh "$(dirname "$0")/../../tools/soak.sh"
