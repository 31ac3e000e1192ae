#!/bin/sh
# Command lines of the daemons: --version, --help, --check-config, precedence of flags over
# ORION_* variables over defaults, and exit 100 with a message naming the flag on bad input.
. "$(dirname "$0")/lib.sh"
for p in orion-inference-worker orion-inference-router; do
    b=$ORION_BIN/$p
    out=$($ORION_WRAP "$b" --version)
    case "$out" in "$p "*"(commit "*", "*")") ok 0 "$p --version: $out" ;; *) ok 1 "$p --version: $out" ;; esac
    help=$($ORION_WRAP "$b" --help)
    for flag in redis-addr redis-user redis-password redis-db prefix log-level log-format; do
        echo "$help" | grep -q -- "--$flag" && echo "$help" | grep -q "ORION_$(echo $flag | tr a-z- A-Z_)"
        ok $? "$p --help shows --$flag with its variable"
    done
    is "$(ORION_PREFIX=envp $ORION_WRAP "$b" --check-config | grep '^prefix=')" "prefix=envp" "$p: environment over default"
    is "$(ORION_PREFIX=envp $ORION_WRAP "$b" --prefix flagp --check-config | grep '^prefix=')" "prefix=flagp" "$p: flag over environment"
    is "$(ORION_REDIS_PASSWORD=s3cret $ORION_WRAP "$b" --check-config | grep '^redis-password=')" "redis-password=(set)" "$p: --check-config hides the password"
    err=$($ORION_WRAP "$b" --no-such-flag 2>&1)
    is "$?" 100 "$p: unknown flag exits 100"
    case "$err" in *"unknown option '--no-such-flag'"*) ok 0 "$p: says which flag" ;; *) ok 1 "$p: says which flag: $err" ;; esac
    err=$($ORION_WRAP "$b" --redis-db abc 2>&1)
    is "$?" 100 "$p: a number that is not one exits 100"
    case "$err" in *"redis-db"*"abc"*) ok 0 "$p: names the flag and value" ;; *) ok 1 "$p: names the flag and value: $err" ;; esac
    $ORION_WRAP "$b" --redis-db 99 >/dev/null 2>&1
    is "$?" 100 "$p: out of range exits 100"
    err=$($ORION_WRAP "$b" --log-format xml 2>&1)
    is "$?" 100 "$p: --log-format xml exits 100"
done
b=$ORION_BIN/orion-inference-router
for flag in service-ms cold-load-ms load-factor; do
    "$b" --help | grep -q -- "--$flag" && "$b" --help | grep -q "ORION_$(echo $flag | tr a-z- A-Z_)"
    ok $? "router --help shows --$flag with its variable"
done
is "$("$b" --check-config | grep -E '^(service-ms|cold-load-ms|load-factor)=' | tr '\n' ' ')" \
    "service-ms=15000 cold-load-ms=5000 load-factor=125 " "router: spill rule defaults"
is "$(ORION_LOAD_FACTOR=150 "$b" --cold-load-ms 8000 --check-config | grep -E '^(cold-load-ms|load-factor)=' | tr '\n' ' ')" \
    "cold-load-ms=8000 load-factor=150 " "router: spill rule from flag and environment"
"$b" --load-factor 99 >/dev/null 2>&1
is "$?" 100 "router --load-factor 99 (below 100) exits 100"
"$b" --service-ms 0 >/dev/null 2>&1
is "$?" 100 "router --service-ms 0 exits 100"
b=$ORION_BIN/orion-inference-worker
is "$(OLLAMA_HOST=10.1.2.3:11434 $ORION_WRAP "$b" --check-config | grep '^ollama-url=')" "ollama-url=10.1.2.3:11434" "worker honours OLLAMA_HOST"
is "$(OLLAMA_HOST=10.1.2.3:11434 ORION_OLLAMA_URL=http://x:1 $ORION_WRAP "$b" --check-config | grep '^ollama-url=')" "ollama-url=http://x:1" "ORION_OLLAMA_URL wins over OLLAMA_HOST"
$ORION_WRAP "$b" --parallel 0 >/dev/null 2>&1
is "$?" 100 "worker --parallel 0 exits 100"
# Redis unreachable at start: a temporary failure (111, restarted by the service manager),
# with a message that names the address
DEADPORT=$(free_port)
for p in "orion-inference-worker --node-id x" "orion-inference-router --http-listen off"; do
    # shellcheck disable=SC2086 # $p is the program and its flag
    err=$($ORION_WRAP $ORION_BIN/$p --redis-addr 127.0.0.1:$DEADPORT 2>&1)
    is "$?" 111 "$p started with Redis down exits 111"
    case "$err" in *"127.0.0.1:$DEADPORT"*) ok 0 "... naming the address" ;; *) ok 1 "... naming the address: $err" ;; esac
done
done_testing
