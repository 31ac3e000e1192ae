#!/bin/sh
# make deb: Debian packages built with dpkg-deb from the static binaries, no debhelper.
# For each of amd64 (bin/), arm64 (bin/aarch64/) and armhf (bin/armv7/):
#   orion-inference-worker, orion-inference-router: /usr/sbin/NAME, the systemd unit in
#     /lib/systemd/system (contrib/systemd's, run as the system user _orion), the conffile
#     /etc/default/NAME (contrib/env's), maintainer scripts from contrib/deb/daemon.*;
#   orionctl: /usr/bin/orionctl;
# each with its copyright, changelog, manual page (made from --help) and lintian overrides.
# No Depends on libraries (the binaries are static): the daemons depend on adduser only,
# which their postinst calls; the router recommends redis-server.
# The version comes from `git describe --tags` (vX.Y.Z-N-gHASH -> X.Y.Z+gitN.gHASH-1; with
# no tag, 0.0.0+gitN.gHASH-1, N counting every commit), or --version. A tree with changes not
# committed is refused, since its version would not say what is in it. Output is reproducible:
# dates come from SOURCE_DATE_EPOCH (default: the last commit's date).
# Usage: tools/deb.sh [--version V] [--arch "amd64 arm64 armhf"] [--out DIR]
# Env: DEB_MAINTAINER ("Name <mail>").
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=
arches="amd64 arm64 armhf"
out=dist
while [ $# -gt 0 ]; do
    case $1 in
    --version) version=$2; shift 2 ;;
    --arch) arches=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "deb: unknown argument $1" >&2; exit 2 ;;
    esac
done
maint=${DEB_MAINTAINER:-ORION inference maintainers <orion-inference@example.org>}

if [ -z "$version" ]; then
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        echo "deb: the tree has changes not committed: commit them, or give --version" >&2
        exit 1
    fi
    if d=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
        # v1.2.3-0-gabc -> 1.2.3; v1.2.3-5-gabc -> 1.2.3+git5.gabc; -rc1 -> ~rc1
        version=$(echo "$d" | sed -E 's/^v//; s/-0-g[0-9a-f]+$//; s/-(rc|alpha|beta)([0-9]*)/~\1\2/; s/-([0-9]+)-g([0-9a-f]+)$/+git\1.g\2/')-1
    else
        version=0.0.0+git$(git rev-list --count HEAD).g$(git rev-parse --short=7 HEAD)-1
    fi
fi
dpkg --validate-version "$version" || { echo "deb: bad version $version" >&2; exit 1; }
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH
date_r=$(date -R -u -d "@$SOURCE_DATE_EPOCH")
date_d=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022

elf_machine() { od -An -tu2 -j18 -N2 "$1" | tr -d ' '; } # 62 x86-64, 183 aarch64, 40 arm

# gate: the right machine, and static (no program interpreter, no NEEDED library)
check_binary() { # check_binary <file> <e_machine>
    [ -f "$1" ] || { echo "deb: $1 is missing (make all cross)" >&2; exit 1; }
    [ "$(elf_machine "$1")" = "$2" ] || { echo "deb: $1 is not for this architecture" >&2; exit 1; }
    if readelf -lW "$1" | grep -q 'INTERP' || readelf -dW "$1" | grep -q 'NEEDED'; then
        echo "deb: $1 is not static" >&2
        exit 1
    fi
}

# build_one <package> <arch> <bindir> <e_machine> (and $strip, for that architecture)
build_one() {
    pkg=$1 arch=$2 bindir=$3 mach=$4
    t=$work/$pkg-$arch
    rm -rf "$t"
    case $pkg in
    orionctl) dir=usr/bin sec=1 section=utils ;;
    *) dir=usr/sbin sec=8 section=net ;;
    esac
    check_binary "$bindir/$pkg" "$mach"
    mkdir -p "$t/DEBIAN" "$t/$dir" "$t/usr/share/doc/$pkg" "$t/usr/share/man/man$sec" \
        "$t/usr/share/lintian/overrides"
    # what dh_strip also drops: the compiler's .comment and the .note sections
    $strip --remove-section=.comment --remove-section=.note -o "$t/$dir/$pkg" "$bindir/$pkg"
    chmod 755 "$t/$dir/$pkg"

    # documentation: copyright, changelog (a revision: non-native, changelog.Debian.gz), man page
    install -m 644 contrib/deb/copyright "$t/usr/share/doc/$pkg/copyright"
    {
        echo "$pkg ($version) stable; urgency=medium"
        echo
        echo "  * Built from the ORION inference source tree by tools/deb.sh (make deb)."
        echo
        echo " -- $maint  $date_r"
    } | gzip -9n >"$t/usr/share/doc/$pkg/changelog.Debian.gz"
    "$top/bin/$pkg" --help >"$work/help" # the native build's text: the same on every target
    tools/manpage.sh "$pkg" "$sec" "${version%-*}" "$date_d" "$work/help" "contrib/deb/$pkg.desc" |
        gzip -9n >"$t/usr/share/man/man$sec/$pkg.$sec.gz"

    # lintian overrides, each with its reason (shown by lintian --show-overrides)
    {
        echo "# One static binary for Debian 12 and Raspberry Pi OS alike, with no library to match."
        echo "$pkg: statically-linked-binary [$dir/$pkg]"
        echo "# Built by the project for its users, not uploaded to Debian: there is no bug to close."
        echo "$pkg: initial-upload-closes-no-bugs"
    } >"$t/usr/share/lintian/overrides/$pkg"
    if [ "$pkg" != orionctl ]; then
        echo "# systemd and runit (contrib/runit) are the supported service managers; no init.d script." \
            >>"$t/usr/share/lintian/overrides/$pkg"
        echo "$pkg: package-supports-alternative-init-but-no-init.d-script [lib/systemd/system/$pkg.service*]" \
            >>"$t/usr/share/lintian/overrides/$pkg"
    fi
    chmod 644 "$t/usr/share/lintian/overrides/$pkg"

    if [ "$pkg" != orionctl ]; then
        # the unit: contrib/systemd's, with the package's paths and the system user
        mkdir -p "$t/lib/systemd/system" "$t/etc/default"
        sed -e "s|/usr/local/bin/$pkg|/usr/sbin/$pkg|" \
            -e "s|^Documentation=.*|Documentation=man:$pkg(8) file:///usr/share/doc/$pkg/|" \
            -e 's|^DynamicUser=yes|User=_orion\nGroup=_orion|' \
            -e '/^# Install:/d; /^#  *cp /d' \
            "contrib/systemd/$pkg.service" >"$t/lib/systemd/system/$pkg.service"
        chmod 644 "$t/lib/systemd/system/$pkg.service"
        if [ -d "contrib/systemd/$pkg.service.d" ]; then
            mkdir -p "$t/lib/systemd/system/$pkg.service.d"
            install -m 644 "contrib/systemd/$pkg.service.d/"*.conf "$t/lib/systemd/system/$pkg.service.d/"
        fi
        # the settings: every line shows the default; 0600, as it may hold the Redis password
        install -m 600 "contrib/env/${pkg#orion-inference-}.env" "$t/etc/default/$pkg"
        echo "/etc/default/$pkg" >"$t/DEBIAN/conffiles"
        echo "# The settings may hold the Redis password: root reads them (systemd), nobody else." \
            >>"$t/usr/share/lintian/overrides/$pkg"
        echo "$pkg: non-standard-file-perm 0600 != 0644 [etc/default/$pkg]" \
            >>"$t/usr/share/lintian/overrides/$pkg"
        for s in postinst prerm postrm; do
            sed -e "s/@PACKAGE@/$pkg/g" -e "s/@UNIT@/$pkg.service/g" "contrib/deb/daemon.$s" \
                >"$t/DEBIAN/$s"
            chmod 755 "$t/DEBIAN/$s"
        done
    fi

    # md5sums of every file but the conffiles, sorted; Installed-Size as dpkg-gencontrol counts
    (cd "$t" && find . -path ./DEBIAN -prune -o -type f ! -path ./etc/default/\* -print |
        sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) >"$t/DEBIAN/md5sums"
    size=$(find "$t" -path "$t/DEBIAN" -prune -o -printf '%y %s\n' |
        awk '{ s += ($1 == "f" || $1 == "l") ? int(($2 + 1023) / 1024) : 1 } END { print s }')
    {
        echo "Package: $pkg"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maint"
        echo "Installed-Size: $size"
        [ "$pkg" = orionctl ] || echo "Depends: adduser"
        [ "$pkg" != orion-inference-router ] || echo "Recommends: redis-server"
        [ "$pkg" != orion-inference-worker ] || echo "Suggests: redis-tools"
        echo "Section: $section"
        echo "Priority: optional"
        echo "Description: $(head -1 "contrib/deb/$pkg.desc")"
        tail -n +2 "contrib/deb/$pkg.desc"
    } >"$t/DEBIAN/control"
    chmod 644 "$t/DEBIAN/control" "$t/DEBIAN/md5sums"
    [ ! -f "$t/DEBIAN/conffiles" ] || chmod 644 "$t/DEBIAN/conffiles"
    find "$t" -type d -exec chmod 755 {} +
    dpkg-deb --root-owner-group -Zxz --build "$t" "$out/" >/dev/null
    echo "deb: $out/${pkg}_${version#*:}_$arch.deb"
}

for a in $arches; do
    case $a in
    amd64) b=bin m=62 strip=strip ;;
    arm64) b=bin/aarch64 m=183 strip=aarch64-linux-gnu-strip ;;
    armhf) b=bin/armv7 m=40 strip=arm-linux-gnueabihf-strip ;;
    *) echo "deb: unknown architecture $a (amd64, arm64, armhf)" >&2; exit 2 ;;
    esac
    for p in orion-inference-worker orion-inference-router orionctl; do
        build_one "$p" "$a" "$b" "$m"
    done
done
