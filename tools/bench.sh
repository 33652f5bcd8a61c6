#!/usr/bin/env bash
# `make bench`: build ZooBench in release, make sure the peers' venv is in place,
# then run every benchmark beside its peers (tools/bench_peers.py run).
#
#   bash tools/bench.sh [bench_peers.py run options: --rounds N --threads N
#                        --only overhead,gemm,elementwise --peers mlx,numpy,torch
#                        --quick --out DIR]
#
# Environment: BENCH_SCRATCH  build folder (default: SwiftPM's .build)
#              BENCH_VENV     venv folder (default: .venv-bench)
#              BENCH_PYTHON   interpreter that creates the venv (default: python3.11, else python3)
#              BENCH_THREADS  threads for OpenBLAS/OpenMP/torch (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build_args=(-c release --product ZooBench)
if [[ -n "${BENCH_SCRATCH:-}" ]]; then build_args+=(--scratch-path "$BENCH_SCRATCH"); fi
echo "== swift build ${build_args[*]}"
swift build "${build_args[@]}"
bin_dir=$(swift build "${build_args[@]}" --show-bin-path)
zoo="$bin_dir/ZooBench"

venv=${BENCH_VENV:-$root/.venv-bench}
req=$root/tools/requirements-bench.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    py=${BENCH_PYTHON:-$(command -v python3.11 || command -v python3)}
    echo "== creating $venv with $py and installing $(basename "$req")"
    [[ -x "$venv/bin/python" ]] || "$py" -m venv "$venv"
    echo '*' > "$venv/.gitignore"   # keep the venv out of git wherever it lives
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
    echo "$want" > "$stamp"
fi

echo "== running benchmarks"
"$venv/bin/python" "$root/tools/bench_peers.py" run --zoo "$zoo" "$@"

echo "== formats benchmarks (bench/results/formats.md)"
"$venv/bin/python" "$root/tools/bench_formats.py" --zoo "$zoo" \
    --model "$root/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"

echo "== generation benchmarks (bench/results/generate.md)"
models_venv=$root/.venv-models
if [[ ! -x "$models_venv/bin/python" ]]; then python3 -m venv "$models_venv"; fi
"$models_venv/bin/pip" install --disable-pip-version-check -q -r "$root/tools/requirements-models.txt" -r "$root/tools/requirements-llamacpp.txt"
swift build -c release --product zoo
"$models_venv/bin/python" "$root/tools/bench_generate.py" --zoo "$(swift build -c release --product zoo --show-bin-path)/zoo" \
    --model "$root/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"

echo "== tokenizer benchmarks (bench/results/tokenizers.json)"
tok_venv=$root/.venv-tok
if [[ ! -x "$tok_venv/bin/python" ]]; then python3 -m venv "$tok_venv"; echo '*' > "$tok_venv/.gitignore"; fi
"$tok_venv/bin/pip" install --disable-pip-version-check -q -r "$root/tools/requirements-tokenizers.txt"
"$tok_venv/bin/python" "$root/tools/bench_tokenizers.py"
