#!/bin/sh
# tools/deploy.sh: from a laptop to the Pis in one command, over ssh. For each host, one at a
# time (the router's host first): asks its architecture (dpkg --print-architecture), copies
# that architecture's packages from make deb (dist/) with scp, installs them with dpkg, sets
# the Redis address (and the node id = the host's name as given here) in /etc/default, and
# restarts what changed. A worker that already runs is drained first (orionctl drain on the
# router's host), so the router sends it nothing new; the install's restart lets its running
# requests finish (SIGTERM), anything left stays pending in its stream for the new worker; it
# is undrained once it reports health again. The router's own restart leaves the requests that
# wait in it pending in Redis, and the new router takes them back. No request is lost.
#
# Usage: tools/deploy.sh --router HOST --workers HOST[,HOST...] [options]
#   --ssh-user USER     log in as USER (default: ssh's own choice); not root: sudo -n is used
#   --redis-addr ADDR   the Redis every daemon uses (default: 127.0.0.1:6379 on the router's
#                       host, ROUTER-HOST:6379 on the others: Debian maps a host's own name to
#                       127.0.1.1, where a Redis bound to 127.0.0.1 and the LAN is not)
#   --debs DIR          where the .deb files are (default: dist/); the highest version of
#                       each package for the host's architecture is taken
#   --ssh-config FILE   ssh -F FILE (host names, keys, ports)
#   --router-set K=V    another setting for the router (repeatable), e.g. ORION_HTTP_LISTEN=0.0.0.0:8088
#   --worker-set K=V    another setting for every worker (repeatable), e.g. ORION_PARALLEL=2
#   --wait S            how long to wait for a drained worker to finish, or to report (120)
# Needs on each host: dpkg, sudo (unless root), and systemd (or anything answering systemctl).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
router=
workers=
user=
redis=
debs=$top/dist
sshcfg=
rset=
wset=
wait_s=120
nl='
'
die() { echo "deploy: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case $1 in
    --router) router=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --ssh-user) user=$2; shift 2 ;;
    --redis-addr) redis=$2; shift 2 ;;
    --debs) debs=$2; shift 2 ;;
    --ssh-config) sshcfg=$2; shift 2 ;;
    --router-set) rset="$rset$2$nl"; shift 2 ;;
    --worker-set) wset="$wset$2$nl"; shift 2 ;;
    --wait) wait_s=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (--help)" ;;
    esac
done
[ -n "$router" ] || die "--router HOST is required"
[ -n "$workers" ] || die "--workers HOST[,HOST...] is required"
redis_here=${redis:-127.0.0.1:6379} # for the daemons and orionctl on the router's host
[ -n "$redis" ] || redis=$router:6379
for kv in $(printf '%s' "$rset$wset"); do
    case $kv in ORION_[A-Z_]*=*) ;; *) die "a setting is ORION_NAME=value, not '$kv'" ;; esac
    case ${kv#*=} in *[\'\"\\\$\`\ ]*) die "'$kv': quotes, spaces, \$ and \\ are not taken here" ;; esac
done

ssh_opts="-o BatchMode=yes -o ConnectTimeout=10${sshcfg:+ -F $sshcfg}"
login() { echo "${user:+$user@}$1"; }
# on <host> <shell script> [args...]: run the script on the host, as root
on() {
    h=$1
    shift
    # shellcheck disable=SC2086 # ssh_opts is a word list
    ssh $ssh_opts "$(login "$h")" \
        "if [ \"\$(id -u)\" = 0 ]; then sh -s -- $*; else sudo -n sh -s -- $*; fi"
}

# the highest version of a package for an architecture in $debs
pick() { # pick <package> <arch>
    best=
    for f in "$debs/$1"_*_"$2".deb; do
        [ -f "$f" ] || continue
        v=$(dpkg-deb -f "$f" Version)
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$(dpkg-deb -f "$best" Version)"; then
            best=$f
        fi
    done
    [ -n "$best" ] || die "no $1 package for $2 in $debs (make deb)"
    echo "$best"
}

# What runs on a host, as root. Commands: arch | status NODE ADDR | drain|undrain NODE ADDR |
# install DIR UNITS... | set FILE K=V... (prints "changed" when the file changed) | restart UNIT
remote='set -eu
cmd=$1; shift
case $cmd in
arch) dpkg --print-architecture ;;
tmpdir) # for scp, which logs in as the ssh user
    d=$(mktemp -d /tmp/orion-deploy.XXXXXX)
    chown "${SUDO_USER:-root}" "$d"
    echo "$d" ;;
install)
    dir=$1
    DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold -i "$dir"/*.deb \
        </dev/null >"$dir/dpkg.log" 2>&1 ||
        { cat "$dir/dpkg.log" >&2; exit 1; }
    rm -rf "$dir" ;;
set)
    f=$1; shift
    cp -p "$f" "$f.deploy"
    for kv in "$@"; do
        k=${kv%%=*}
        if grep -q "^$k=" "$f"; then
            sed -i "s|^$k=.*|$kv|" "$f"
        else
            echo "$kv" >>"$f"
        fi
    done
    cmp -s "$f" "$f.deploy" || echo changed
    rm -f "$f.deploy" ;;
restart) systemctl restart "$1" </dev/null ;;
installed) dpkg-query -W -f="\${Version}" "$1" 2>/dev/null || true ;;
orionctl) ORION_LOG_LEVEL=error orionctl "$@" </dev/null ;;
esac'

status_line() { # status_line <node>: its line of orionctl status on the router's host
    echo "$remote" | on "$router" orionctl --redis-addr "$redis_here" status 2>/dev/null | awk -v n="$1" '$1 == n'
}
wait_until() { # wait_until <what> <command...>: poll every second for --wait seconds
    what=$1
    shift
    end=$(($(date +%s) + wait_s))
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "deploy: still waiting for $what after ${wait_s}s; going on" >&2; return 1; }
        sleep 1
    done
}
idle() { # the node runs nothing (LOAD 0/N)
    status_line "$1" | awk '{ exit !($5 ~ /^0\//) }'
}
back() { # the node reports health and is not stale
    l=$(status_line "$1")
    [ -n "$l" ] && ! echo "$l" | grep -q 'stale\|unavailable'
}

# every host once, the router's first
hosts=$router
for h in $(echo "$workers" | tr ',' ' '); do
    case " $hosts " in *" $h "*) ;; *) hosts="$hosts $h" ;; esac
done
for h in $hosts; do
    is_router=false is_worker=false
    [ "$h" = "$router" ] && is_router=true
    case ",$workers," in *",$h,"*) is_worker=true ;; esac
    arch=$(echo "$remote" | on "$h" arch) || die "$h: cannot ask its architecture over ssh"
    pkgs="orionctl"
    $is_router && pkgs="$pkgs orion-inference-router"
    $is_worker && pkgs="$pkgs orion-inference-worker"
    files=
    for p in $pkgs; do files="$files $(pick "$p" "$arch")"; done
    echo "deploy: $h ($arch):$(for f in $files; do printf ' %s' "$(basename "$f")"; done)"

    drained=false
    if $is_worker && [ -n "$(echo "$remote" | on "$h" installed orion-inference-worker)" ] &&
        [ -n "$(status_line "$h")" ]; then
        echo "$remote" | on "$router" orionctl --redis-addr "$redis_here" drain "$h" >/dev/null
        drained=true
        echo "deploy: $h: drained; waiting for its running requests"
        wait_until "$h to finish its requests" idle "$h" || true
    fi

    dir=$(echo "$remote" | on "$h" tmpdir)
    # shellcheck disable=SC2086
    scp -q $ssh_opts $files "$(login "$h"):$dir/"
    echo "$remote" | on "$h" install "$dir"
    # settings: the Redis address, the node id; a restart only when they changed
    if $is_router; then
        c=$(echo "$remote" | on "$h" set /etc/default/orion-inference-router "ORION_REDIS_ADDR=$redis_here" $rset)
        [ -z "$c" ] || echo "$remote" | on "$h" restart orion-inference-router.service
    fi
    if $is_worker; then
        $is_router && a=$redis_here || a=$redis
        c=$(echo "$remote" | on "$h" set /etc/default/orion-inference-worker "ORION_REDIS_ADDR=$a" \
            "ORION_NODE_ID=$h" $wset)
        [ -z "$c" ] || echo "$remote" | on "$h" restart orion-inference-worker.service
        wait_until "$h to report health" back "$h" || true
    fi
    if $drained; then
        echo "$remote" | on "$router" orionctl --redis-addr "$redis_here" undrain "$h" >/dev/null
        echo "deploy: $h: undrained"
    fi
    for p in $pkgs; do
        echo "deploy: $h: $p $(echo "$remote" | on "$h" installed "$p")"
    done
done
echo "$remote" | on "$router" orionctl --redis-addr "$redis_here" status
