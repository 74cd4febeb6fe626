#!/usr/bin/env bash
# nibble's main job from a fresh machine: install, build, then the accuracy of every format
# on the built-in LLM-like tensors (out/eval.csv), a real small model's perplexity under W4A4
# (out/lm.csv, when ../shared/lm is there), the time, energy and area of one Llama-2-7B
# prefill layer on the example accelerator for a few formats (out/sim_<format>.json), then the
# default design-space sweep (workloads/sweeps/demo.yaml), its Pareto table and its HTML report
# (out/sweep/report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target nibble
mkdir -p out
build/bin/nibble eval --csv out/eval.csv
echo "wrote out/eval.csv"
lm=../shared/lm
if [ -d "$lm" ]; then
  echo
  echo "== perplexity of babyllama-361 ($lm), 4,000 tokens, W4A4 with and without hadamard"
  build/bin/nibble lm --checkpoint "$lm/babyllama-361.bin" --tokenizer "$lm/tokenizer-361.bin" \
    --text "$lm/tinystories-eval.txt" --calib-text "$lm/tinystories-calib.txt" --max-tokens 4000 \
    --format mxfp4,nvfp4,nvint4,bcq,mxfp4,nvfp4,nvint4,bcq \
    --transform none,none,none,none,hadamard,hadamard,hadamard,hadamard --csv out/lm.csv
  echo "wrote out/lm.csv"
fi
for format in mxfp4 nvfp4 mxint8; do
  echo
  echo "== ${format} x ${format}: one Llama-2-7B prefill layer (2048 tokens) on sim/configs/example_hw.yaml"
  build/bin/nibble sim --hw sim/configs/example_hw.yaml --gemms sim/configs/llama2_7b_prefill_layer.csv \
    --a-format "$format" --w-format "$format" --json "out/sim_${format}.json" | tail -4
done
echo "wrote out/sim_*.json"

echo
echo "== design-space sweep: workloads/sweeps/demo.yaml (6 formats x 3 arrays x 2 models x prefill/decode)"
rm -rf out/sweep
build/bin/nibble sweep workloads/sweeps/demo.yaml --out out/sweep
echo
build/bin/nibble pareto out/sweep
build/bin/nibble export out/sweep --csv out/sweep/points.csv
build/bin/nibble report out/sweep --out out/sweep/report.html
echo "open $(pwd)/out/sweep/report.html"
