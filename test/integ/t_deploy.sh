#!/bin/sh
# tools/deploy.sh against two test hosts made here: pi-master and pi-worker, each a network
# namespace (ip netns, a veth to a bridge in a third namespace, the "laptop", where deploy.sh
# runs) with its own Debian 12 root (test/integ/debroot.sh) running Debian's sshd, a user pi
# with sudo, Redis (pi-master) and ollama-sim (both) as the Pis would have them. First a
# fresh install of make deb's packages (version 1); a request is answered by both workers.
# Then a rolling upgrade to version 2 while requests keep coming: every request is answered
# exactly once, the workers are drained and undrained one at a time, and both hosts end on
# version 2 with new processes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/debroot.sh"
if [ -n "$ORION_WRAP" ] || [ -n "${ORION_SANITIZE:-}" ]; then
    skip "deploying is checked by make check, not again by make sanitize or valgrind"
    done_testing
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! ip netns add "orion-probe-$$" 2>/dev/null; then
    skip "network namespaces need root (ip netns add)"
    done_testing
    exit 0
fi
ip netns del "orion-probe-$$"
t0=$(date +%s)
cd "$ORION_TOP" || exit 1
NS=orion-$$
LAN=$NS-lan
M=$NS-m
W=$NS-w
RM=$T_TMP/pi-master
RW=$T_TMP/pi-worker
SUB=10.231.7
deploy_cleanup() {
    for n in $M $W $LAN; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done
    done
    sleep 0.3
    for n in $M $W $LAN; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    debroot_kill "$RM"
    debroot_kill "$RW"
}
trap 'deploy_cleanup; cleanup' EXIT

# --- the packages: version 1 and 2 ----------------------------------------------------------
tools/deb.sh --version 0.0.0+deploy1-1 --arch amd64 --out "$T_TMP/v1" >"$T_TMP/deb.log" 2>&1 &&
    tools/deb.sh --version 0.0.0+deploy2-1 --arch amd64 --out "$T_TMP/v2" >>"$T_TMP/deb.log" 2>&1
ok $? "packages of version 1 and 2 (tools/deb.sh)"

# --- the network: a bridge in the laptop's namespace, a veth to each host -------------------
{
    ip netns add "$LAN" && ip netns add "$M" && ip netns add "$W" &&
        ip -n "$LAN" link add br0 type bridge && ip -n "$LAN" addr add $SUB.1/24 dev br0 &&
        ip -n "$LAN" link set br0 up && ip -n "$LAN" link set lo up &&
        for h in m:2 w:3; do
            n=$NS-${h%%:*}
            ip -n "$LAN" link add "v${h%%:*}" type veth peer name eth0 netns "$n" &&
                ip -n "$LAN" link set "v${h%%:*}" master br0 up &&
                ip -n "$n" addr add "$SUB.${h#*:}/24" dev eth0 && ip -n "$n" link set eth0 up &&
                ip -n "$n" link set lo up || exit 1
        done
} >"$T_TMP/net.log" 2>&1
ok $? "three network namespaces: the laptop ($SUB.1), pi-master ($SUB.2), pi-worker ($SUB.3)"

# --- the hosts: a Debian root each, sshd, the user pi ---------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/id" >/dev/null
host() { # host <root> <name> <address>
    r=$1
    debroot "$r" || return 1
    # as Debian writes it: the host's own name on 127.0.1.1
    printf '127.0.0.1 localhost\n127.0.1.1 %s\n%s.2 pi-master\n%s.3 pi-worker\n' "$2" $SUB $SUB >"$r/etc/hosts"
    echo "$2" >"$r/etc/hostname"
    in_root "$r" useradd -m -s /bin/sh pi && in_root "$r" usermod -p '*' pi || return 1
    echo 'pi ALL=(ALL) NOPASSWD: ALL' >"$r/etc/sudoers.d/pi"
    chmod 440 "$r/etc/sudoers.d/pi"
    mkdir -p "$r/home/pi/.ssh" "$r/run/sshd"
    cp "$T_TMP/id.pub" "$r/home/pi/.ssh/authorized_keys"
    in_root "$r" chown -R pi:pi /home/pi/.ssh
    chmod 700 "$r/home/pi/.ssh"
    in_root "$r" ssh-keygen -q -A
    printf 'ListenAddress %s\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPidFile /run/sshd.pid\n' \
        "$3" >"$r/etc/ssh/sshd_config.d/test.conf"
}
host "$RM" pi-master $SUB.2 >"$T_TMP/host-m.log" 2>&1 && host "$RW" pi-worker $SUB.3 >"$T_TMP/host-w.log" 2>&1
ok $? "two Debian 12 roots with sshd, sudo and the user pi"
t_roots=$(($(date +%s) - t0))
# each host its own name too (a UTS namespace): the router's id defaults to it
bg sshd-m ip netns exec "$M" unshare --uts sh -c "hostname pi-master && exec chroot $RM /usr/sbin/sshd -D -e"
bg sshd-w ip netns exec "$W" unshare --uts sh -c "hostname pi-worker && exec chroot $RW /usr/sbin/sshd -D -e"
# what the Pis already run: Redis on pi-master, Ollama (ollama-sim) on both
bg redis-m ip netns exec "$M" redis-server --bind "$SUB.2 127.0.0.1" --port 6379 --save '' \
    --appendonly no --dir "$T_TMP" --protected-mode no
mkdir -p "$RM/srv/pi" "$RW/srv/pi"
bg sim-m ip netns exec "$M" "$ORION_BIN/ollama-sim" --listen 127.0.0.1:11434 --sysfs-root "$RM/srv/pi" \
    --models gemma3:1b --load-ms 200 --tokens-per-s 100
bg sim-w ip netns exec "$W" "$ORION_BIN/ollama-sim" --listen 127.0.0.1:11434 --sysfs-root "$RW/srv/pi" \
    --models gemma3:1b --load-ms 200 --tokens-per-s 100
cat >"$T_TMP/ssh_config" <<EOF
Host pi-master
    HostName $SUB.2
Host pi-worker
    HostName $SUB.3
Host *
    IdentityFile $T_TMP/id
    UserKnownHostsFile $T_TMP/known_hosts
    StrictHostKeyChecking accept-new
    LogLevel ERROR
EOF
mr() { ip netns exec "$M" redis-cli -p 6379 "$@"; }
wait_for 10 sh -c "ip netns exec $LAN ssh -F $T_TMP/ssh_config -o BatchMode=yes pi@pi-worker true"
ok $? "ssh pi@pi-worker from the laptop (real sshd in pi-worker's namespace)"
wait_for 5 sh -c "ip netns exec $M redis-cli -p 6379 ping | grep -q PONG"
ok $? "Redis runs on pi-master"

deploy() { # deploy <debs dir> <log>
    ip netns exec "$LAN" tools/deploy.sh --router pi-master --workers pi-master,pi-worker --ssh-user pi \
        --ssh-config "$T_TMP/ssh_config" --debs "$1" --worker-set ORION_SYSFS_ROOT=/srv/pi \
        --worker-set ORION_HEALTH_INTERVAL=1 --wait 60 >"$2" 2>&1
}

# --- a fresh install ------------------------------------------------------------------------
td=$(date +%s)
deploy "$T_TMP/v1" "$T_TMP/deploy1.log"
ok $? "tools/deploy.sh --router pi-master --workers pi-master,pi-worker --ssh-user pi: a fresh install"
t_d1=$(($(date +%s) - td))
sed 's/^/#   /' "$T_TMP/deploy1.log" | grep -v '^#   NODE' | head -20
for h in pi-master:"$RM":127.0.0.1 pi-worker:"$RW":pi-master; do
    n=${h%%:*} r=${h#*:} a=${h##*:}
    r=${r%:*}
    is "$(in_root "$r" dpkg-query -W -f='${Version}' orion-inference-worker)" 0.0.0+deploy1-1 \
        "$n: orion-inference-worker 1 installed"
    check "$n: the worker's settings name the Redis ($a:6379) and the node" sh -c \
        "grep -q '^ORION_REDIS_ADDR=$a:6379' $r/etc/default/orion-inference-worker &&
         grep -q '^ORION_NODE_ID=$n' $r/etc/default/orion-inference-worker"
done
check "pi-master: the router installed, pi-worker: none" sh -c \
    "test -x $RM/usr/sbin/orion-inference-router && ! test -e $RW/usr/sbin/orion-inference-router"
wait_for 15 sh -c "ip netns exec $M redis-cli -p 6379 HKEYS orion:inference:health | sort | tr '\n' ' ' | grep -q 'pi-master pi-worker'"
ok $? "both workers report health to pi-master's Redis (pi-worker over the network)"
wait_for 10 sh -c "ip netns exec $M curl -s 127.0.0.1:8088/backends | grep -q '\"node\":\"pi-worker\",\"eligible\":true'"
ok $? "the router on pi-master sees pi-worker eligible"
a=$(ip netns exec "$M" curl -s -m 30 127.0.0.1:8088/api/generate -d '{"model":"gemma3:1b","prompt":"deployed","stream":false}')
echo "$a" | grep -q '"done":true'
ok $? "a request through the deployed router is answered"

# --- a rolling upgrade under load -----------------------------------------------------------
wm=$(cat "$RM/run/orion-test/orion-inference-worker.service.pid")
ww=$(cat "$RW/run/orion-test/orion-inference-worker.service.pid")
load() { # a request every 0.2 s until $T_TMP/stop exists; their count in $T_TMP/sent
    i=0
    while [ ! -e "$T_TMP/stop" ]; do
        i=$((i + 1))
        mr XADD orion:inference:requests '*' model gemma3:1b prompt "load $i" \
            callback "orion:inference:cb:deploy:$i" timeout_ms 600000 >/dev/null
        echo $i >"$T_TMP/sent"
        sleep 0.2
    done
}
load &
T_PIDS="$T_PIDS $!"
sleep 1
td=$(date +%s)
deploy "$T_TMP/v2" "$T_TMP/deploy2.log"
ok $? "tools/deploy.sh again with version 2: a rolling upgrade while requests come in"
t_d2=$(($(date +%s) - td))
sleep 1
touch "$T_TMP/stop"
sleep 0.3
sent=$(cat "$T_TMP/sent" 2>/dev/null)
check "requests were sent during the upgrade (${sent:-none})" test "${sent:-0}" -ge 10
sed 's/^/#   /' "$T_TMP/deploy2.log" | grep -v '^#   NODE' | head -20
is "$(grep -c 'drained\|undrained' "$T_TMP/deploy2.log")" 4 "... each worker drained and undrained"
is "$(grep -o '^deploy: pi-[a-z]*: \(drained\|undrained\)' "$T_TMP/deploy2.log" | tr '\n' ' ')" \
    "deploy: pi-master: drained deploy: pi-master: undrained deploy: pi-worker: drained deploy: pi-worker: undrained " \
    "... one at a time: pi-master back in rotation before pi-worker leaves it"
answered() { # requests 1..sent with exactly one final answer each, in $T_TMP/answered
    n=0
    for i in $(seq 1 "$sent"); do
        c=$(mr --raw XRANGE "orion:inference:cb:deploy:$i" - + | grep -c '^done$')
        [ "$c" = 1 ] && n=$((n + 1))
    done
    echo $n >"$T_TMP/answered"
    [ "$n" = "$sent" ]
}
[ "${sent:-0}" -gt 0 ] || sent=1 # (nothing sent: the checks below fail rather than pass empty)
wait_for 60 answered
is "$(cat "$T_TMP/answered")" "$sent" "all $sent requests sent during the upgrade answered, each exactly once"
errors=0
for i in $(seq 1 "$sent"); do
    errors=$((errors + $(mr --raw XRANGE "orion:inference:cb:deploy:$i" - + | grep -c '^error$')))
done
is "$errors" 0 "... none with an error"
for h in pi-master:"$RM":"$wm" pi-worker:"$RW":"$ww"; do
    n=${h%%:*}
    r=${h#*:}
    old=${r#*:}
    r=${r%%:*}
    is "$(in_root "$r" dpkg-query -W -f='${Version}' orion-inference-worker)" 0.0.0+deploy2-1 "$n: worker 2 installed"
    check "$n: a new worker process (was $old)" test "$(cat "$r/run/orion-test/orion-inference-worker.service.pid")" != "$old"
done
is "$(in_root "$RM" dpkg-query -W -f='${Version}' orion-inference-router)" 0.0.0+deploy2-1 "pi-master: router 2 installed"
is "$(mr HLEN orion:inference:drain)" 0 "no node left drained"
echo "# times: roots ${t_roots}s, fresh install ${t_d1}s, rolling upgrade ${t_d2}s ($sent requests), all $(($(date +%s) - t0))s"
done_testing
