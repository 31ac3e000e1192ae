#!/bin/sh
# Build every libFuzzer target with clang and run it for FUZZ_SECONDS over its corpus.
# New interesting inputs are added to test/fuzz/corpus/<target>/ (commit the useful ones).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
CC=${CC:-clang}
case "$CC" in *clang*) ;; *) CC=clang ;; esac
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out"
tools/fetch-cjson.sh
tools/embed.sh svc_presets_default_lines <contrib/presets/presets.json >"$out/presets_default.c"
libsrc="$(ls src/base/*.c src/proto/*.c src/route/*.c src/orion/*.c) $out/presets_default.c"
status=0
for f in test/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    t=${t#fuzz_}
    [ -z "${ONLY:-}" ] || [ "$t" = "$ONLY" ] || continue
    $CC -std=c99 -D_POSIX_C_SOURCE=200809L -DORION_FUZZ -DORION_VERSION='"fuzz"' \
        -DORION_COMMIT='"fuzz"' -DORION_TRIPLE='"fuzz"' -Iinclude -Ivendor/cjson -g -O1 \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -o "$out/fuzz_$t" "$f" $libsrc vendor/cjson/cJSON.c -lm
    mkdir -p "test/fuzz/corpus/$t"
    echo "fuzz: $t for ${FUZZ_SECONDS}s"
    if ! "$out/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -rss_limit_mb=1024 \
        "test/fuzz/corpus/$t" >"$out/fuzz_$t.log" 2>&1; then
        echo "fuzz: $t FAILED, see $out/fuzz_$t.log"
        tail -30 "$out/fuzz_$t.log"
        status=1
    else
        grep -E '^Done|stat::number_of_executed_units' "$out/fuzz_$t.log" | tail -1
    fi
done
exit $status
