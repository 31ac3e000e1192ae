#!/bin/sh
# Least-privilege Redis ACLs (docs/DEPLOY.md step 3): redis-server started with the users
# written below, each worker with its own user, the router with
# its own, a caller with its own; requests answered (with and without a callback, streamed,
# canceled, through the HTTP front), no NOPERM in any daemon's log, and a worker's user denied on
# another node's stream, the router's keys, other callbacks and admin commands.
. "$(dirname "$0")/lib.sh"
P=orion:inference
# The rules, as in docs/DEPLOY.md (keep the two in step). The default user stays open here only
# for this script's own checks (rcli); in production it is switched off.
worker_user() { # worker_user <node> <password>
    echo "user orion-worker-$1 on >$2 resetkeys ~$P:requests:$1 ~$P:health ~$P:events ~$P:done:* ~$P:cancel:* ~$P:cb:* resetchannels -@all +select +ping +xgroup|create +xreadgroup +xack +xadd +hset +hdel +exists +mget +eval +xdel +set +expire"
}
{
    echo "user default on nopass ~* &* +@all"
    echo "user orion-router on >router-secret resetkeys ~$P:* resetchannels -@all +select +ping +time +scan +hgetall +xlen +xgroup|create +xreadgroup +xautoclaim +xclaim +xack +xdel +xadd +multi +exec +eval +exists +set +expire +xread +xrange +xrevrange +del +hset +hdel +mget"
    worker_user pi-a worker-a-secret
    worker_user pi-b worker-b-secret
    echo "user orion-caller on >caller-secret resetkeys ~$P:requests ~$P:cb:app:* %W~$P:cancel:* resetchannels -@all +xadd +xread +xrange +del +set"
} >"$T_TMP/users.acl"
start_redis --aclfile "$T_TMP/users.acl" || { ok 1 "redis-server starts with the ACL file"; done_testing; exit 1; }
is "$(rcli ACL LIST | grep -c '^user orion-')" 4 "four ACL users loaded"
as() { # as <user> <password> <command...>: redis-cli as that user (prints the reply)
    a_u=$1 a_p=$2
    shift 2
    redis-cli -p "$REDIS_PORT" --user "$a_u" --pass "$a_p" --no-auth-warning "$@"
}
for n in a b; do
    start_sim "$n" --models gemma3:1b,qwen2.5:0.5b --load-ms 100 --tokens-per-s 100 || ok 1 "ollama-sim $n starts"
done
ORION_REDIS_PASSWORD=worker-a-secret start_worker pi-a "$SIM_URL_a" "$SIM_ROOT_a" --redis-user orion-worker-pi-a
WA=$BG_PID
ORION_REDIS_PASSWORD=worker-b-secret start_worker pi-b "$SIM_URL_b" "$SIM_ROOT_b" --redis-user orion-worker-pi-b
HTTP_PORT=$(free_port)
ORION_REDIS_PASSWORD=router-secret start_router --redis-user orion-router --stale-after 3 \
    --http-listen "127.0.0.1:$HTTP_PORT"
two_up() { [ "$(rcli HLEN $P:health)" = 2 ]; }
wait_for 10 two_up
ok $? "both workers, each with its own ACL user, publish health"
answered() { [ "$(answers "$1")" -ge 1 ]; }
csub() { as orion-caller caller-secret XADD $P:requests '*' "$@"; }

csub model gemma3:1b prompt "hello" callback $P:cb:app:1 >/dev/null
wait_for 15 answered $P:cb:app:1
is "$(answer_field $P:cb:app:1 status)" ok "a caller's request answered on its callback under P:cb:*"
is "$(as orion-caller caller-secret XRANGE $P:cb:app:1 - + | grep -cx done)" 1 "the caller reads its answer with its own user"
csub model qwen2.5:0.5b prompt "streamed" callback $P:cb:app:2 stream true >/dev/null
wait_for 15 answered $P:cb:app:2
is "$(answer_field $P:cb:app:2 status)" ok "streamed request answered (chunks written by the worker's user)"
csub model gemma3:1b prompt "no callback" request_id acl-nocb >/dev/null
done_set() { [ "$(rcli EXISTS "$P:done:$1")" = 1 ]; }
wait_for 15 done_set acl-nocb
ok $? "a request without a callback is answered too (the answer script gets no empty key: no bare ~ rule)"
csub model gemma3:1b request_id acl-bad callback $P:cb:app:3 >/dev/null
wait_for 10 answered $P:cb:app:3
is "$(answer_field $P:cb:app:3 code)" bad_request "a malformed request answered bad_request by the router's user"
csub model nope:1b prompt x timeout_ms 1500 callback $P:cb:app:4 >/dev/null
wait_for 10 answered $P:cb:app:4
is "$(answer_field $P:cb:app:4 code)" model_not_found "a request for a model no node has: model_not_found, written by the router's user"
curl -sf -X POST -d '{"mode":"hang"}' "$SIM_URL_a/sim/fail" >/dev/null
curl -sf -X POST -d '{"mode":"hang"}' "$SIM_URL_b/sim/fail" >/dev/null
csub model gemma3:1b prompt "cancel me" request_id acl-cancel callback $P:cb:app:5 >/dev/null
sleep 1.5
as orion-caller caller-secret SET $P:cancel:acl-cancel 1 EX 60 >/dev/null
wait_for 10 answered $P:cb:app:5
is "$(answer_field $P:cb:app:5 code)" canceled "the caller cancels; the worker reads P:cancel:* (MGET) and answers canceled"
curl -sf -X POST -d '{"mode":"none"}' "$SIM_URL_a/sim/fail" >/dev/null
curl -sf -X POST -d '{"mode":"none"}' "$SIM_URL_b/sim/fail" >/dev/null
out=$(curl -s --max-time 20 "http://127.0.0.1:$HTTP_PORT/api/generate" -d '{"model":"gemma3:1b","prompt":"via http","stream":false}')
case "$out" in *'"done":true'*) ok 0 "the HTTP front works with the router's user" ;; *) ok 1 "the HTTP front works with the router's user"; echo "# $out" ;; esac
kill -TERM "$WA"
wait "$WA"
is "$?" 0 "SIGTERM: worker exits 0"
is "$(rcli HEXISTS $P:health pi-a)" 0 "... its health field removed (HDEL allowed)"
nperm=$(cat "$T_TMP"/worker-*.log "$T_TMP"/router-*.log | grep -c 'NOPERM\|no permissions')
is "$nperm" 0 "no NOPERM in the daemons' logs"

# what a worker's user must not do
denied() { # denied <description> <command...> (as pi-a's worker)
    d_what=$1
    shift
    d_out=$(as orion-worker-pi-a worker-a-secret "$@" 2>&1)
    case "$d_out" in *NOPERM* | *"can't access"* | *"no permissions"*) ok 0 "worker pi-a denied: $d_what" ;;
    *) ok 1 "worker pi-a denied: $d_what"; echo "#   got: $d_out" ;;
    esac
}
denied "reading pi-b's stream" XREADGROUP GROUP inference-workers pi-a COUNT 1 STREAMS $P:requests:pi-b 0
denied "adding to pi-b's stream" XADD $P:requests:pi-b '*' model x prompt y
denied "the empty key name (no bare ~ rule needed)" EXISTS ""
denied "reading the router's stream" XREADGROUP GROUP inference-router pi-a COUNT 1 STREAMS $P:requests 0
denied "adding to the router's stream" XADD $P:requests '*' model x prompt y
denied "changing the drain hash" HSET $P:drain pi-b 1
denied "the deadletter stream" XADD $P:deadletter '*' a b
denied "a callback outside P:cb:*" XADD my:answers '*' type done
denied "keys outside the prefix through the answer script" EVAL "return redis.call('SET', KEYS[1], 1)" 1 other:key
denied "pi-b's stream from inside a script" EVAL "return redis.call('XADD', 'orion:inference:requests:pi-b', '*', 'a', 'b')" 0
denied "reading the health hash (HGETALL)" HGETALL $P:health
denied "deleting keys (DEL)" DEL $P:done:x
denied "KEYS" KEYS '*'
denied "FLUSHALL" FLUSHALL
denied "CONFIG" CONFIG GET dir
denied "ACL" ACL LIST
denied "a router's command (XAUTOCLAIM)" XAUTOCLAIM $P:requests:pi-a inference-workers x 0 0-0
rout() { as orion-router router-secret "$@" 2>&1; }
case "$(rout FLUSHALL) $(rout CONFIG GET dir) $(rout SET other:key 1)" in
*NOPERM*NOPERM*NOPERM*) ok 0 "router's user denied FLUSHALL, CONFIG and keys outside the prefix" ;;
*) ok 1 "router's user denied FLUSHALL, CONFIG and keys outside the prefix" ;;
esac
case "$(as orion-caller caller-secret XREADGROUP GROUP inference-router x STREAMS $P:requests '>' 2>&1) $(as orion-caller caller-secret XRANGE $P:cb:gw:x - + 2>&1)" in
*NOPERM*NOPERM*) ok 0 "caller's user may not read the router's group nor others' callbacks" ;;
*) ok 1 "caller's user may not read the router's group nor others' callbacks" ;;
esac
done_testing
