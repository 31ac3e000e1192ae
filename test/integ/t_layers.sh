#!/bin/sh
# The source tree keeps its layers (docs/ARCHITECTURE.md): every #include points down, each
# library header belongs to one layer, the tools and tests use the library only, every
# source opens with its licence line and a statement of its purpose, and none is over 700
# lines (src, include, tools).
. "$(dirname "$0")/lib.sh"
cd "$ORION_TOP" || exit 1

# The layer of a library header include/orion/NAME.h: the folder of src/*/NAME.c, or this
# table for headers without a .c of their own.
header_layer() {
    for d in base proto route orion; do
        [ -f "src/$d/$1.c" ] && { echo "$d"; return; }
    done
    case "$1" in
    limits) echo base ;;
    *) echo unknown ;;
    esac
}

# What a folder may include, its own layer first.
allowed() {
    case "$1" in
    base) echo "base" ;;
    proto) echo "proto base" ;;
    route) echo "route base" ;;
    orion) echo "orion route proto base" ;;
    front) echo "front orion route proto base" ;;
    router) echo "router front orion route proto base" ;;
    worker) echo "worker orion route proto base" ;;
    lib) echo "orion route proto base" ;;
    esac
}

bad=""
note() { bad="$bad
#   $1"; }

check_file() { # check_file <file> <its folder's rule>
    f=$1
    may=$(allowed "$2")
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        case "$inc" in
        orion/*.h)
            h=${inc#orion/}
            l=$(header_layer "${h%.h}")
            case " $may " in *" $l "*) ;; *) note "$f includes $inc (layer $l)" ;; esac
            ;;
        cJSON.h)
            [ "$2" != route ] || note "$f includes cJSON.h (route is pure)"
            ;;
        ../*)
            d2=${inc#../} # not d: the caller's loop variable
            d2=${d2%%/*}
            case "$f" in
            src/router/*)
                # the one exception: the router runs URL backends with the worker's node
                # runner, through its public header only (ARCHITECTURE.md)
                case " $may ../worker/worker.h " in
                *" $d2 "* | *" $inc "*) ;;
                *) note "$f includes $inc" ;;
                esac
                ;;
            src/*) case " $may " in *" $d2 "*) ;; *) note "$f includes $inc" ;; esac ;;
            test/unit/test_start.c | test/unit/test_router_* | test/unit/test_worker_*)
                # unit tests of daemon code: the library and the daemons' headers
                case "$inc" in ../t.h | ../testsrv.h | ../guard.h) ;;
                ../../src/router/*.h | ../../src/front/*.h | ../../src/worker/*.h) ;;
                *) note "$f includes $inc" ;;
                esac
                ;;
            test/*) [ -f "test/$d2" ] || note "$f includes $inc" ;; # test/t.h, guard.h, testsrv.h
            *) note "$f includes $inc" ;;
            esac
            ;;
        */*) note "$f includes $inc (not a library header)" ;;
        *)
            # a header of its own folder
            [ -f "$(dirname "$f")/$inc" ] || [ "$2" = lib ] ||
                note "$f includes $inc (not beside it)"
            ;;
        esac
    done
}

nsrc=0
for d in base proto route orion front router worker; do
    for f in src/$d/*.c src/$d/*.h; do
        [ -f "$f" ] || continue
        check_file "$f" "$d"
        nsrc=$((nsrc + 1))
    done
done
for f in include/orion/*.h; do
    l=$(header_layer "$(basename "$f" .h)")
    [ "$l" != unknown ] ||
        note "$f: no layer (add src/<layer>/$(basename "$f" .h).c or a row in header_layer)"
    check_file "$f" "$l"
done
for f in tools/*/*.c tools/*/*.h test/unit/*.c test/fuzz/*.c test/tools/*.c test/*.h; do
    [ -f "$f" ] || continue
    check_file "$f" lib
done
if [ -z "$bad" ]; then ok 0 "every #include points down ($nsrc sources in 7 folders)"; else
    ok 1 "every #include points down$bad"
fi
bad=""
for f in src/*.c src/*.h; do [ -f "$f" ] && note "$f: not in a layer's folder"; done
if [ -z "$bad" ]; then ok 0 "no source sits in src/ itself"; else ok 1 "no source in src/$bad"; fi

bad=""
for f in src/*/*.c src/*/*.h include/orion/*.h; do
    case "$(sed -n 1p "$f")" in
    "/* SPDX-License-Identifier: MIT */") ;;
    *) note "$f: no licence line" ;;
    esac
    case "$(sed -n 2p "$f")/$(sed -n 3p "$f")" in
    "/* "[!\ ]*) ;;                  # /* purpose ...
    "/*/ * "[!\ ]*) ;;               # /*  then  * purpose ...
    *) note "$f: no purpose sentence at its top (line 2 or 3)" ;;
    esac
done
if [ -z "$bad" ]; then ok 0 "every source opens with its licence and purpose"; else
    ok 1 "every source opens with its licence and purpose$bad"
fi

bad=""
for f in src/*/*.c src/*/*.h include/orion/*.h tools/*/*.c tools/*/*.h; do
    [ -f "$f" ] || continue
    n=$(wc -l <"$f")
    [ "$n" -le 700 ] || note "$f: $n lines"
done
if [ -z "$bad" ]; then ok 0 "no source over 700 lines"; else ok 1 "no source over 700 lines$bad"; fi

bad=""
for a in "$ORION_BUILD/liborion.a"; do
    [ -f "$a" ] || { note "$a missing"; continue; }
    for o in $(ar t "$a"); do
        case "$o" in worker*|router*|gateway*|main_*) note "$a holds $o" ;; esac
    done
done
if [ -z "$bad" ]; then ok 0 "the library archive holds no daemon code"; else
    ok 1 "the library archive holds no daemon code$bad"
fi
done_testing
