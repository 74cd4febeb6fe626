#!/usr/bin/env bash
# nibble's main job from a fresh machine: install, build, then the accuracy of every format
# on the built-in LLM-like tensors, printed and written to out/eval.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target nibble
mkdir -p out
build/bin/nibble eval --csv out/eval.csv
echo "wrote out/eval.csv"
