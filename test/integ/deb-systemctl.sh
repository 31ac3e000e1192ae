#!/bin/sh
# A stand-in for systemctl inside the tests' Debian roots, where no systemd runs (t_deb.sh,
# t_deploy.sh install it as /usr/local/sbin/systemctl). It does what the packages' maintainer
# scripts and deb-systemd-invoke ask of systemd: is-enabled (the multi-user.target.wants link
# that deb-systemd-helper made), is-active, start, stop, restart, daemon-reload, --version.
# A unit starts from its own file: EnvironmentFile=, User=, Group=, ExecStart= (no arguments),
# under start-stop-daemon; stop sends SIGTERM and waits TimeoutStopSec= for the exit, as
# systemd does. Every call is logged to /run/orion-test/systemctl.log; each daemon's output
# goes to /run/orion-test/UNIT.log.
set -u
state=/run/orion-test
mkdir -p "$state"
echo "systemctl $*" >>"$state/systemctl.log"
while [ $# -gt 0 ]; do
    case $1 in
    --version) echo "systemd 252 (252.0-test)"; exit 0 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
    esac
done
cmd=${1:-}
[ $# -gt 0 ] && shift
[ "${1:-}" = -- ] && shift

prop() { # prop <unit> <key>: the last value of Key= in the unit's file
    sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -1
}
start_unit() {
    u=$1
    [ -f "/lib/systemd/system/$u" ] || { echo "Unit $u not found." >&2; return 5; }
    [ "$(readlink "/etc/systemd/system/$u")" = /dev/null ] && {
        echo "Unit $u is masked." >&2
        return 1
    }
    exec_start=$(prop "$u" ExecStart)
    user=$(prop "$u" User)
    group=$(prop "$u" Group)
    envf=$(prop "$u" EnvironmentFile)
    (
        set -a
        # "-" before the path: a missing file is no error
        [ -r "${envf#-}" ] && . "${envf#-}"
        set +a
        exec start-stop-daemon --start --oknodo --background --make-pidfile \
            --pidfile "$state/$u.pid" --output "$state/$u.log" \
            ${user:+--chuid "$user${group:+:$group}"} --exec "$exec_start"
    )
}
stop_unit() {
    u=$1
    t=$(prop "$u" TimeoutStopSec)
    start-stop-daemon --stop --oknodo --pidfile "$state/$u.pid" --remove-pidfile \
        --retry "TERM/${t:-90}/KILL/5" >/dev/null
}
case $cmd in
daemon-reload) ;;
is-enabled)
    if [ -e "/etc/systemd/system/multi-user.target.wants/$1" ]; then
        echo enabled
    else
        echo disabled
        exit 1
    fi
    ;;
is-active)
    start-stop-daemon --status --pidfile "$state/$1.pid" || exit 3
    ;;
start) for u in "$@"; do start_unit "$u"; done ;;
stop) for u in "$@"; do stop_unit "$u"; done ;;
restart) for u in "$@"; do stop_unit "$u"; start_unit "$u"; done ;;
*) echo "systemctl (test stand-in): $cmd is not imitated" >&2 ;;
esac
