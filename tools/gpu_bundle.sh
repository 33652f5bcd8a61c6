#!/usr/bin/env bash
# Packs the static ZooBench (stripped) with the shared libraries a bare Ubuntu/Debian machine
# lacks into DEST/zoo-gpu.tar.xz, for tools/gpu_check.sh on a GPU machine without Swift.
#
#   swift build -c release --static-swift-stdlib --product ZooBench
#   tools/gpu_bundle.sh [BINARY] [DEST]      (defaults: .build/release/ZooBench, .gpu)
#
# Left out, as every such machine has them: the C and C++ runtimes (libc, libm, libstdc++,
# libgcc_s, the dynamic loader) and libvulkan (the loader comes from .gl/*.deb or the system).
# The binary needs glibc 2.35 and libstdc++ from GCC 12 (GLIBCXX_3.4.30): Ubuntu 22.04 or later.
# Compressed because the Foundation data in the binary and OpenBLAS's per-CPU kernels come to
# about 125 MB, while the bundle has to travel with the working tree (64 MiB in all).

set -euo pipefail
bin=${1:-.build/release/ZooBench}
dest=${2:-.gpu}
skip='^(linux-vdso|libc\.so|libm\.so|libstdc\+\+|libgcc_s|ld-linux|libvulkan|libpthread|libdl\.so|librt\.so)'

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin" "$stage/ZooBench"
strip "$stage/ZooBench"
ldd "$bin" | awk '$2 == "=>" && $3 != "not" { print $1, $3 }' | while read -r name path; do
    if [[ $name =~ $skip ]]; then continue; fi
    cp -L "$path" "$stage/$name"
    strip --strip-unneeded "$stage/$name"
done
if ldd "$bin" | grep -q 'not found'; then
    echo "gpu_bundle: libraries not found here:" >&2
    ldd "$bin" | grep 'not found' >&2
    exit 1
fi
mkdir -p "$dest"
rm -f "$dest/ZooBench" "$dest"/*.so* "$dest/zoo-gpu.tar.xz"
tar -C "$stage" -cf - . | xz -9 -T1 > "$dest/zoo-gpu.tar.xz"
echo "gpu_bundle: $(ls "$stage" | wc -l) files, $(du -sh "$stage" | cut -f1) unpacked:"
ls -l "$stage" | awk 'NR > 1 { printf "  %-22s %10d\n", $9, $5 }'
echo "gpu_bundle: $dest/zoo-gpu.tar.xz $(stat -c %s "$dest/zoo-gpu.tar.xz") bytes"
