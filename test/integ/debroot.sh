# A Debian 12 root for the tests that install our packages (t_deb.sh, t_deploy.sh); source it.
# debroot <dir>: a fresh copy of a minbase bookworm root (with openssh-server and sudo, for the
# test hosts of t_deploy.sh), made once by debootstrap from Debian's mirror and kept under
# build/debroot/ (about 90 s to make, 1 s to copy), with /usr/local/sbin/systemctl the tests'
# stand-in (deb-systemctl.sh) and /run/systemd/system present, so the maintainer scripts take
# the path they take under systemd. Returns non-zero, with the reason on stderr, when it cannot.
# Env: ORION_DEBIAN_MIRROR (default http://deb.debian.org/debian).
DEBROOT_CACHE=$ORION_TOP/build/debroot/bookworm-amd64
debroot() {
    if [ ! -f "$DEBROOT_CACHE/.complete" ]; then
        command -v debootstrap >/dev/null || { echo "debroot: debootstrap is not installed" >&2; return 1; }
        rm -rf "$DEBROOT_CACHE.new"
        mkdir -p "$(dirname "$DEBROOT_CACHE")"
        if ! timeout 900 debootstrap --variant=minbase --include=openssh-server,sudo bookworm \
            "$DEBROOT_CACHE.new" "${ORION_DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
            >"$DEBROOT_CACHE.log" 2>&1; then
            echo "debroot: debootstrap failed (see $DEBROOT_CACHE.log):" >&2
            tail -5 "$DEBROOT_CACHE.log" >&2
            return 1
        fi
        rm -rf "$DEBROOT_CACHE.new/var/cache/apt/archives/"*.deb "$DEBROOT_CACHE.new/var/lib/apt/lists/"*
        # sshd's host keys are made per test host, not shared through the cache
        rm -f "$DEBROOT_CACHE.new/etc/ssh/ssh_host_"*
        rm -rf "$DEBROOT_CACHE"
        mv "$DEBROOT_CACHE.new" "$DEBROOT_CACHE"
        touch "$DEBROOT_CACHE/.complete"
    fi
    rm -rf "$1"
    cp -a "$DEBROOT_CACHE" "$1" || return 1
    install -m 755 "$ORION_TOP/test/integ/deb-systemctl.sh" "$1/usr/local/sbin/systemctl"
    mkdir -p "$1/run/systemd/system" "$1/run/orion-test"
    # nothing the packages' maintainer scripts start may be refused
    rm -f "$1/usr/sbin/policy-rc.d"
}
# debroot_kill <dir>: stop every daemon the stand-in systemctl started in that root
debroot_kill() {
    for f in "$1"/run/orion-test/*.pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    return 0
}
# in_root <dir> <command...>: run a command in the root as its maintainer scripts would run
in_root() {
    r_dir=$1
    shift
    chroot "$r_dir" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 "$@"
}
