#!/usr/bin/env bash
# Fuzzes every reader with libFuzzer (clang, ASan + UBSan) for SECONDS each (default 20), or for
# N executions each with --runs N (the record in bench/RESULTS.md: --runs 10000000).
#   scripts/fuzz.sh [SECONDS | --runs N] [--jobs J] [TARGET...]
# --jobs J fuzzes J targets at a time (default 1; each target is one process on one core).
# Targets are tests/fuzz/fuzz_*.cpp; seeds come from tests/fuzz/corpus/<target>/ and the
# corpus grows in build-fuzz/corpus/<target>/ (kept between runs). A crash is saved to
# build-fuzz/crashes/<target>/; copy it to tests/fuzz/regressions/<target>/ so that ctest
# replays it from then on. Prints executions per target; exits 1 if any target crashed or was
# interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: scripts/fuzz.sh [SECONDS | --runs N] [--jobs J] [TARGET...]" >&2; exit 2; }
seconds=20 runs=0 jobs=1
if [ "${1:-}" = --runs ]; then
  [[ "${2:-}" =~ ^[1-9][0-9]{0,11}$ ]] || usage
  runs=$2
  shift 2
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
if [ "${1:-}" = --jobs ]; then
  [[ "${2:-}" =~ ^[1-9][0-9]?$ ]] || usage
  jobs=$2
  shift 2
fi
build="build-fuzz"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DNIBBLE_FUZZ=ON -DNIBBLE_SANITIZE=ON \
  -DNIBBLE_ENABLE_CUDA=OFF -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
# Allocation stacks in a report are two frames deep: recording 30 (the default) on every malloc
# costs YAML-heavy readers 15% of their speed. Rerun the saved crash input for a full report.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:malloc_context_size=2
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
limit=(-max_total_time="$seconds")
[ "$runs" -gt 0 ] && limit=(-runs="$runs")

fuzz_target() {
  local target=$1 corpus="$build/corpus/$1" crashes="$build/crashes/$1" log="$build/$1.log"
  mkdir -p "$corpus" "$crashes"
  # Edge values for every target; YAML tokens for the YAML readers (libFuzzer takes one -dict).
  local dict="$build/$target.dict"
  cat tests/fuzz/numbers.dict > "$dict"
  case "$target" in fuzz_hardware_yaml|fuzz_energy_table|fuzz_model_config|fuzz_sweep_spec) cat tests/fuzz/yaml.dict >> "$dict" ;; esac
  # -rss_limit_mb: an input that makes a reader allocate more than this is a finding too.
  # CI explores the same inputs on every run (-seed=1), so that its verdict does not depend on
  # luck; by hand each run explores new ones (NIBBLE_FUZZ_SEED overrides, 0 = random).
  local seed=${NIBBLE_FUZZ_SEED:-$([ -n "${CI:-}" ] && echo 1 || echo 0)}
  local status=0 start=$SECONDS verdict=ok
  "$build/bin/$target" "$corpus" "tests/fuzz/corpus/$target" "${limit[@]}" -dict="$dict" -seed="$seed" \
    -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || status=$?
  # 72 is libFuzzer's status for a run stopped by a signal (SIGINT, SIGTERM): no finding.
  case $status in
    0) ;;
    72) verdict="interrupted" ;;
    *) verdict="CRASH (see $log and $crashes/)" ;;
  esac
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  printf '%-24s %12s executions in %ss  %s\n' "$target" "$execs" "$((SECONDS - start))" "$verdict"
  [ $status -eq 0 ]
}

failed=0
running=0
for target in "${targets[@]}"; do
  if [ $running -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_target "$target" &
  running=$((running + 1))
done
while [ $running -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
