#!/usr/bin/env bash
# On a GPU machine: configures and builds the CUDA kernels, runs the GPU correctness test and
# the GEMM benchmark. Logs go to $OUT (default build-gpu/logs). Fails loudly without a GPU:
# a skipped GPU test is a failure here.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-gpu}
out=${OUT:-$build/logs}
mkdir -p "$out"
jobs=$(nproc)

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >"$out/nvidia-smi.log" 2>&1; then
  echo "gpu_check: FAILED: no GPU (nvidia-smi -L failed; see $out/nvidia-smi.log)" >&2
  exit 1
fi
cat "$out/nvidia-smi.log"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >"$out/configure.log" 2>&1
grep -q "nibble CUDA kernels: ON" "$out/configure.log" || {
  echo "gpu_check: FAILED: CMake did not enable CUDA (see $out/configure.log)" >&2
  exit 1
}
cmake --build "$build" -j"$jobs" --target cuda_layout_tests cuda_gemm_tests gemm_cuda \
  >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; echo "gpu_check: FAILED: build" >&2; exit 1; }

# run <name> <command...>: logs to $out/<name>.log, prints its tail, stops on failure.
run() {
  local name=$1; shift
  if ! "$@" >"$out/$name.log" 2>&1; then
    tail -40 "$out/$name.log"
    echo "gpu_check: FAILED: $name (see $out/$name.log)" >&2
    exit 1
  fi
}
run cuda_layout_tests "$build/bin/cuda_layout_tests"
run cuda_gemm_tests "$build/bin/cuda_gemm_tests"
tail -3 "$out/cuda_gemm_tests.log"
if grep -q "SKIPPED" "$out/cuda_gemm_tests.log"; then
  echo "gpu_check: FAILED: GPU tests were skipped (no usable device)" >&2
  exit 1
fi
run gemm_cuda "$build/bin/gemm_cuda"
cat "$out/gemm_cuda.log"
echo "gpu_check: passed; logs in $out"
