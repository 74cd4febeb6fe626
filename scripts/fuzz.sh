#!/usr/bin/env bash
# Fuzzes every reader with libFuzzer (clang, ASan + UBSan) for SECONDS each (default 20).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets are tests/fuzz/fuzz_*.cpp; seeds come from tests/fuzz/corpus/<target>/ and the
# corpus grows in build-fuzz/corpus/<target>/ (kept between runs). A crash is saved to
# build-fuzz/crashes/<target>/; copy it to tests/fuzz/regressions/<target>/ so that ctest
# replays it from then on. Prints executions per target; exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
build=build-fuzz
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNIBBLE_FUZZ=ON -DNIBBLE_SANITIZE=ON \
  -DNIBBLE_ENABLE_CUDA=OFF -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target" crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  log="$build/$target.log"
  # Edge values for every target; YAML tokens for the YAML readers (libFuzzer takes one -dict).
  dict="$build/$target.dict"
  cat tests/fuzz/numbers.dict > "$dict"
  case "$target" in fuzz_hardware_yaml|fuzz_energy_table|fuzz_model_config|fuzz_sweep_spec) cat tests/fuzz/yaml.dict >> "$dict" ;; esac
  # -rss_limit_mb: an input that makes a reader allocate more than this is a finding too.
  # CI explores the same inputs on every run (-seed=1), so that its verdict does not depend on
  # luck; by hand each run explores new ones (NIBBLE_FUZZ_SEED overrides, 0 = random).
  seed=${NIBBLE_FUZZ_SEED:-$([ -n "${CI:-}" ] && echo 1 || echo 0)}
  if "$build/bin/$target" "$corpus" "tests/fuzz/corpus/$target" -max_total_time="$seconds" -dict="$dict" -seed="$seed" \
       -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1; then
    status=ok
  else
    status="CRASH (see $log and $crashes/)"
    failed=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  printf '%-24s %12s executions in %ss  %s\n' "$target" "$execs" "$seconds" "$status"
done
exit $failed
