#!/bin/sh
# make release: dist/orion-inference-<version>-<target>.tar.gz for x86_64, aarch64 and armv7,
# each with bin/ (stripped static binaries), contrib/, README.md and docs/, plus SHA256SUMS.
set -eu
version=${1:-0.0.0}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p dist
rm -f dist/SHA256SUMS
for t in x86_64:bin aarch64:bin/aarch64 armv7:bin/armv7; do
    name=${t%%:*}
    dir=${t#*:}
    stage=$(mktemp -d)
    pkg=orion-inference-$version-$name
    mkdir -p "$stage/$pkg/bin"
    for b in orion-inference-worker orion-inference-router orionctl ollama-sim; do
        [ -f "$dir/$b" ] && cp "$dir/$b" "$stage/$pkg/bin/"
    done
    cp -R contrib docs README.md "$stage/$pkg/"
    tar -C "$stage" -czf "dist/$pkg.tar.gz" "$pkg"
    rm -rf "$stage"
    echo "release: dist/$pkg.tar.gz"
done
(cd dist && sha256sum orion-inference-"$version"-*.tar.gz >SHA256SUMS)
cat dist/SHA256SUMS
