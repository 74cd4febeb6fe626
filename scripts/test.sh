#!/usr/bin/env bash
# Builds everything (Release, assertions on) and runs every test; prints the output of failures.
#   scripts/test.sh              the normal build in build/
#   scripts/test.sh --sanitize   clang with ASan + UBSan (-fno-sanitize-recover=all, and
#                                float-cast-overflow) in build-sanitize/, -O1, CUDA off; runs the
#                                whole suite the same way
#   scripts/test.sh --sanitize-core   the same sanitizers on models/, workloads/ and sim/'s core:
#                                their suites and the fuzz targets' replays, in build-fuzz/
#                                (shared with scripts/fuzz.sh); what CI runs (bench/RESULTS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
build=build
configure=(-DCMAKE_BUILD_TYPE=Release)
targets=()
labels=()
sanitized=(-DNIBBLE_SANITIZE=ON -DNIBBLE_ENABLE_CUDA=OFF -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang)
case "${1:-}" in
  "") ;;
  --sanitize) build=build-sanitize; configure+=("${sanitized[@]}") ;;
  --sanitize-core)
    build=build-fuzz
    configure+=("${sanitized[@]}" -DNIBBLE_FUZZ=ON)
    targets=(--target models_tests workloads_tests sim_tests fuzz_targets)
    labels=(-L '^(models_tests|workloads_tests|sim_tests|fuzz)$') ;;
  *) echo "usage: scripts/test.sh [--sanitize | --sanitize-core]" >&2; exit 2 ;;
esac
# Every sanitizer report stops the test that caused it; leak checks included.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cmake -S . -B "$build" "${configure[@]}" >/dev/null
cmake --build "$build" -j"$jobs" "${targets[@]}"
ctest --test-dir "$build" --output-on-failure -j"$jobs" "${labels[@]}"
