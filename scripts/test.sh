#!/usr/bin/env bash
# Builds everything (Release, assertions on) and runs every test; prints the output of failures.
#   scripts/test.sh              the normal build in build/
#   scripts/test.sh --sanitize   clang with ASan + UBSan (-fno-sanitize-recover=all, and
#                                float-cast-overflow) in build-sanitize/, -O1, CUDA off; runs the
#                                whole suite the same way
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
build=build
configure=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  build=build-sanitize
  configure+=(-DNIBBLE_SANITIZE=ON -DNIBBLE_ENABLE_CUDA=OFF
              -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang)
  # Every report stops the test that caused it; leak checks included.
  export ASAN_OPTIONS=abort_on_error=0:halt_on_error=1:detect_leaks=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
elif [ -n "${1:-}" ]; then
  echo "usage: scripts/test.sh [--sanitize]" >&2
  exit 2
fi
cmake -S . -B "$build" "${configure[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
