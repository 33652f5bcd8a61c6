#!/usr/bin/env bash
# Checks the Vulkan backend on a machine with a real GPU and no Swift: runs the static
# `ZooBench vulkan_check` carried in .gpu/ (with the shared libraries it needs, packed by
# tools/gpu_bundle.sh), after unpacking the Vulkan loader carried as .deb files in .gl/.
# Run from the repository root:
#
#   OUT=/some/dir tools/gpu_check.sh        (the device tool sets OUT; default /tmp/gpu_check)
#
# Writes the check's output to $OUT/vulkan_check.txt as well as stdout, and a second, short
# run on the other memory path (on a discrete GPU: host-visible "mapped" buffers instead of
# device-local ones with staging copies) to $OUT/vulkan_check_other_path.txt. Exit status: that of the main check
# (0 passed, 1 a case failed, 2 no Vulkan device, 124 timed out), 3 when .gpu/ is missing.
# Arguments are passed on to vulkan_check (size=small|full, perf=0, repeat=N).
# .gl/: apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 for
# amd64 (the device tool's README gives the command).

set -u
cd "$(dirname "$0")/.." || exit 3
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
main_log=$OUT/vulkan_check.txt
other_log=$OUT/vulkan_check_other_path.txt
LIMIT=${GPU_CHECK_TIMEOUT:-300}

# The program and its libraries: .gpu/ itself, or unpacked from .gpu/zoo-gpu.tar.xz
# (tools/gpu_bundle.sh) with tar, or with Python where there is no xz.
if [ -x .gpu/ZooBench ]; then
    dir=$PWD/.gpu
elif [ -e .gpu/zoo-gpu.tar.xz ]; then
    dir=${TMPDIR:-/tmp}/zoo-gpu
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xJf .gpu/zoo-gpu.tar.xz -C "$dir" 2>/dev/null \
        || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .gpu/zoo-gpu.tar.xz "$dir" \
        || { echo "gpu_check: could not unpack .gpu/zoo-gpu.tar.xz" | tee "$main_log"; exit 3; }
else
    echo "gpu_check: neither .gpu/ZooBench nor .gpu/zoo-gpu.tar.xz (tools/gpu_bundle.sh makes it)" | tee "$main_log"
    exit 3
fi
zoo=$dir/ZooBench

# The Vulkan loader: unpacked into / only as root and only where it is carried.
debs=(.gl/*.deb)
if [ "$(id -u)" != 0 ]; then
    echo "gpu_check: not root: the Vulkan loader is not unpacked (using the system's)"
elif [ ! -e "${debs[0]}" ]; then
    echo "gpu_check: no .gl/*.deb: the Vulkan loader is not unpacked (using the system's)"
else
    # Unpacked even where a loader is installed: NVIDIA's ICD (libGLX_nvidia) fails to create
    # an instance without the glvnd libraries (libglvnd0, libglx0, ...) beside it. Measured on
    # the H100 machine: with libvulkan alone, vk_icdGetInstanceProcAddr gave no vkCreateInstance.
    for f in "${debs[@]}"; do dpkg -x "$f" / && echo "gpu_check: unpacked $f"; done
    ldconfig
fi

export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

{
    echo "== machine"
    uname -srm
    ldd --version 2>/dev/null | head -1
    command -v nvidia-smi >/dev/null && timeout 20 nvidia-smi -L
    if command -v vulkaninfo >/dev/null; then
        timeout 20 vulkaninfo --summary 2>/dev/null | sed -n '/^Devices:/,$p' | head -30
    fi
    ldconfig -p | grep 'libvulkan\.so' || echo "no libvulkan in the linker cache"
    missing=$(ldd "$zoo" | grep 'not found')
    [ -n "$missing" ] && echo "missing libraries: $missing"
} 2>&1 | tee "$main_log"

# Find a device: first as the machine is set up, then with NVIDIA's ICD file named.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
echo "== device" | tee -a "$main_log"
timeout 30 "$zoo" vulkan_info 2>&1 | tee -a "$main_log"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then
    for icd in "$nvidia_icd" /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
        [ -e "$icd" ] || continue
        echo "gpu_check: no device found (status $rc); trying VK_DRIVER_FILES=$icd" | tee -a "$main_log"
        export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
        timeout 30 "$zoo" vulkan_info 2>&1 | tee -a "$main_log"
        rc=${PIPESTATUS[0]}
        [ "$rc" = 0 ] && break
        unset VK_DRIVER_FILES VK_ICD_FILENAMES
    done
fi
if [ "$rc" != 0 ]; then
    echo "gpu_check: no Vulkan device (status $rc)" | tee -a "$main_log"
    exit 2
fi

echo "== vulkan_check (limit ${LIMIT} s)" | tee -a "$main_log"
start=$(date +%s)
timeout "$LIMIT" "$zoo" vulkan_check "$@" 2>&1 | tee -a "$main_log"
status=${PIPESTATUS[0]}
used=$(( $(date +%s) - start ))
echo "gpu_check: vulkan_check exit status $status after ${used} s" | tee -a "$main_log"

# The other memory path, small sizes, when time is left (on lavapipe it is the staging one).
left=$(( LIMIT - used ))
if [ "$status" != 124 ] && [ "$left" -gt 30 ]; then
    other=mapped
    grep -q 'memory path: mapped' "$main_log" && other=staging
    echo "== vulkan_check, ZOO_VULKAN_MEMORY=$other size=small perf=0 (limit $(( left < 120 ? left : 120 )) s)" | tee "$other_log"
    ZOO_VULKAN_MEMORY=$other timeout $(( left < 120 ? left : 120 )) "$zoo" vulkan_check size=small perf=0 repeat=10 2>&1 \
        | tee -a "$other_log" | grep -v 'PASS$'
    echo "gpu_check: $other-path check exit status ${PIPESTATUS[0]}" | tee -a "$other_log"
fi
exit "$status"
