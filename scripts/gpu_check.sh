#!/usr/bin/env bash
# The CUDA kernels on a GPU machine in one call (README, "CUDA kernels"): configures the
# CUDA-only build (NIBBLE_CUDA_ONLY: models/ and models/cuda; GoogleTest from the sources
# scripts/vendor_gtest.sh copies, Highway's baseline target from the headers
# scripts/vendor_hwy.sh copies) with ninja for sm_90a on every core, runs the CUDA tests
# with NIBBLE_REQUIRE_GPU=1 (a skip is a failure), runs bench/gemm_cuda, tries ncu on one
# decode and one prefill kernel, then prints the device, the test results and the table last.
# Timestamped progress lines show how far a run cut by a timeout got. Logs go to $OUT (the
# device tool's output folder; default $BUILD_DIR/logs).
#
#   scripts/gpu_check.sh                 on the GPU machine (needs nvcc and a device)
#   scripts/gpu_check.sh --cpu [TARGET]  anywhere: the same configuration with CUDA off, builds
#                                        TARGETs (default: the CPU test suites) and runs the
#                                        *_tests among them; CI runs it (tests/cuda)
#
# Environment: BUILD_DIR (default build-gpu), OUT, NIBBLE_GTEST_SOURCE_DIR (default
# third_party/googletest), NIBBLE_HWY_INCLUDE_DIR (default third_party/hwy), NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=gpu
targets=(cuda_layout_tests cuda_gemm_tests gemm_cuda)
case "${1:-}" in
  "") ;;
  --cpu)
    mode=cpu
    shift
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=(cuda_layout_tests models_tests)
    ;;
  *)
    echo "gpu_check: error: unknown argument '$1' (usage: scripts/gpu_check.sh [--cpu [TARGET...]])" >&2
    exit 2
    ;;
esac
build=${BUILD_DIR:-build-gpu}
out=${OUT:-$build/logs}
gtest=${NIBBLE_GTEST_SOURCE_DIR:-third_party/googletest}
hwy=${NIBBLE_HWY_INCLUDE_DIR:-third_party/hwy}
mkdir -p "$out"

progress() { echo "[gpu_check $(date -u +%H:%M:%S)] $*"; }
fail() {
  echo "gpu_check: FAILED: $*" >&2
  exit 1
}
# step <name> <command...>: runs the command with its output in $out/<name>.log; on failure
# prints the first test failures or compiler errors, then the log's tail, and stops.
step() {
  local name=$1
  shift
  progress "$name"
  if ! "$@" >"$out/$name.log" 2>&1; then
    grep -m 8 -A 4 -E ': Failure$|error' "$out/$name.log" || true
    echo "..."
    tail -20 "$out/$name.log"
    fail "$name (see $out/$name.log)"
  fi
}

progress "mode $mode, $(uname -m), $(nproc) cores, build in $build, logs in $out"
command -v cmake >/dev/null || fail "cmake not found"
command -v ninja >/dev/null || fail "ninja not found"

# The packages the CUDA-only build must not need are hidden from CMake, GoogleTest included, so
# this configuration is the GPU machine's wherever it runs: a find_package of any of them fails.
configure=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNIBBLE_CUDA_ONLY=ON
  "-DNIBBLE_GTEST_SOURCE_DIR=$(realpath -m "$gtest")"
  -DNIBBLE_HWY_STATIC=ON "-DNIBBLE_HWY_INCLUDE_DIR=$(realpath -m "$hwy")")
for package in GTest Boost yaml-cpp verilator PkgConfig nlohmann_json benchmark; do
  configure+=("-DCMAKE_DISABLE_FIND_PACKAGE_$package=ON")
done

if [ "$mode" = gpu ]; then
  nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  [ -x "$nvcc" ] || fail "nvcc not found (NVCC, PATH, /usr/local/cuda/bin/nvcc): the CUDA kernels cannot be built"
  nvcc_version=$("$nvcc" --version | grep -o 'release [0-9.]*, V[0-9.]*')
  progress "nvcc: $nvcc_version"
  command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: no GPU driver on this machine"
  nvidia-smi >"$out/nvidia-smi.log" 2>&1 || fail "nvidia-smi failed: no usable GPU (see $out/nvidia-smi.log)"
  device=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1) ||
    fail "nvidia-smi --query-gpu failed"
  cuda=$(grep -o 'CUDA Version: [0-9.]*' "$out/nvidia-smi.log" || echo "CUDA Version: unknown")
  progress "device: $device; $cuda"
  configure+=("-DCMAKE_CUDA_COMPILER=$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90a-real)
else
  configure+=(-DNIBBLE_ENABLE_CUDA=OFF)
fi

# GoogleTest travels as sources and Highway as headers (the device tool's carry); copy them
# here where Debian has them.
if [ ! -f "$gtest/CMakeLists.txt" ]; then
  [ -f /usr/src/googletest/CMakeLists.txt ] ||
    fail "no GoogleTest sources in $gtest: run scripts/vendor_gtest.sh and carry third_party/googletest"
  step vendor_gtest scripts/vendor_gtest.sh "$gtest"
fi
if [ ! -f "$hwy/hwy/highway.h" ]; then
  [ -f /usr/include/hwy/highway.h ] ||
    fail "no Highway headers in $hwy: run scripts/vendor_hwy.sh and carry third_party/hwy"
  step vendor_hwy scripts/vendor_hwy.sh "$hwy"
fi

step configure cmake "${configure[@]}"
expected="nibble CUDA kernels: $([ "$mode" = gpu ] && echo ON || echo OFF)"
grep -q "$expected" "$out/configure.log" || fail "CMake did not report '$expected' (see $out/configure.log)"
step build cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

summary=()
for target in "${targets[@]}"; do
  case "$target" in
    cuda_gemm_tests) ;;  # below, with NIBBLE_REQUIRE_GPU=1
    *_tests)
      step "$target" "$build/bin/$target"
      summary+=("$target: $(grep -E '^\[  PASSED  \]' "$out/$target.log" || true)")
      ;;
  esac
done
if [ "$mode" = cpu ]; then
  progress "passed: configured and built ${targets[*]}"
  printf '%s\n' "${summary[@]}"
  exit 0
fi

step cuda_gemm_tests env NIBBLE_REQUIRE_GPU=1 "$build/bin/cuda_gemm_tests"
! grep -q '^\[  SKIPPED \]' "$out/cuda_gemm_tests.log" || fail "GPU tests were skipped (see $out/cuda_gemm_tests.log)"
summary+=("cuda_gemm_tests (NIBBLE_REQUIRE_GPU=1): $(grep -E '^\[  PASSED  \]' "$out/cuda_gemm_tests.log" || true)")

step gemm_cuda "$build/bin/gemm_cuda"

# Hardware counters for one decode and one prefill launch of the W4A4 kernels, if the machine
# allows them (ncu needs counter access); a failure here is reported, not fatal.
ncu=$(command -v ncu || echo "$(dirname "$nvcc")/ncu")
if [ -x "$ncu" ]; then
  for config in "mxfp4 1 4096 4096" "mxfp4 2048 4096 4096"; do
    name="ncu_${config// /_}"
    progress "$name"
    # shellcheck disable=SC2086  # $config is FORMAT M N K, split on purpose
    if timeout 120 "$ncu" --kernel-name regex:'gemm_(decode|prefill)' --launch-count 1 \
      "$build/bin/gemm_cuda" $config >"$out/$name.log" 2>&1; then
      summary+=("$name: $(grep -E '^ +(Duration|DRAM Throughput|Compute \(SM\) Throughput|Achieved Occupancy) ' \
        "$out/$name.log" | tr -s ' ' | paste -sd ';' || true) ($out/$name.log)")
    else
      status=$?
      summary+=("$name: failed, status $status: $(grep -m1 -E 'ERR|rror' "$out/$name.log" || tail -1 "$out/$name.log")")
    fi
  done
else
  summary+=("ncu: not found")
fi

progress "passed"
echo "device: $device; $cuda; nvcc $nvcc_version; built for sm_90a"
printf '%s\n' "${summary[@]}"
cat "$out/gemm_cuda.log"
