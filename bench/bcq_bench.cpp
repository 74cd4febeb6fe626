// BCQ: encoding throughput (scalars per second, one core; on the dispatched SIMD target and on
// every target the CPU runs) and universal LO-BCQ calibration over 16 M scalars (all cores).
// Targets: >= 150 M scalars/s; calibration < 30 s on 2 cores.
#include <benchmark/benchmark.h>

#include <hwy/targets.h>

#include <random>

#include "nibble/models/bcq.h"
#include "nibble/models/simd.h"

namespace {

nibble::Matrix tensor(std::int64_t rows, std::int64_t cols, unsigned seed) {
  nibble::Matrix x(rows, cols);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::exponential_distribution<float> spread(1.0f);
  for (float& v : x.data) v = normal(rng) * (0.2f + spread(rng));
  return x;
}

void encode(benchmark::State& state) {
  const nibble::Matrix x = tensor(1024, 4096, 1);
  const nibble::BcqParams params;
  const auto f = nibble::make_bcq(params, nibble::default_codebooks(params));
  for (auto _ : state) {
    auto q = f->quantize(x);
    benchmark::DoNotOptimize(q.elements.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(x.data.size()));
  state.SetLabel(nibble::simd_target());
}

// On the target the dispatch picks.
void BM_BcqEncode(benchmark::State& state) { encode(state); }
BENCHMARK(BM_BcqEncode)->Unit(benchmark::kMillisecond)->UseRealTime();

// On each target the CPU runs, switched through libhwy's test hook: the scalar fallback is the
// reference the vector targets are compared with in the same run.
void BM_BcqEncodeOnTarget(benchmark::State& state) {
  hwy::SetSupportedTargetsForTest(hwy::SupportedAndGeneratedTargets()[static_cast<size_t>(state.range(0))]);
  encode(state);
  hwy::SetSupportedTargetsForTest(0);
}
BENCHMARK(BM_BcqEncodeOnTarget)->Unit(benchmark::kMillisecond)->UseRealTime()->Apply([](benchmark::internal::Benchmark* b) {
  for (size_t i = 0; i < hwy::SupportedAndGeneratedTargets().size(); ++i) b->Arg(static_cast<std::int64_t>(i));
});

void BM_BcqUniversalCalibration16M(benchmark::State& state) {
  std::vector<nibble::Matrix> tensors;
  for (unsigned i = 0; i < 4; ++i) tensors.push_back(tensor(1024, 4096, 10 + i));  // 4 x 4 M
  std::vector<nibble::MatrixView> views(tensors.begin(), tensors.end());
  nibble::CalibrationOptions options;
  options.max_blocks = 0;  // every block of the 16 M scalars
  std::size_t iterations = 0;
  for (auto _ : state) {
    auto result = nibble::calibrate_bcq(nibble::BcqParams{}, views, options);
    iterations = result.mse.size() - 1;
    benchmark::DoNotOptimize(result.codebooks.values.data());
  }
  state.counters["lloyd_iterations"] = static_cast<double>(iterations);
}
BENCHMARK(BM_BcqUniversalCalibration16M)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
