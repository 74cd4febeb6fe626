// Golden GEMM throughput (multiply-accumulates per second), 1 thread and every core.
#include <benchmark/benchmark.h>

#include <random>

#include "nibble/models/dot.h"
#include "nibble/models/registry.h"

namespace {

nibble::Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  nibble::Matrix x(rows, cols);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  for (float& v : x.data) v = normal(rng);
  return x;
}

// Args: M, N, K, threads (0 = every core).
void BM_GoldenGemm(benchmark::State& state, const char* format) {
  const auto m = state.range(0), n = state.range(1), k = state.range(2);
  const auto f = nibble::make_format(format);
  const auto a = f->quantize(random_matrix(m, k, 1));
  const auto b = f->quantize(random_matrix(n, k, 2));
  for (auto _ : state) {
    auto c = nibble::golden_gemm(a, b, nibble::Accumulator::kFp32, static_cast<int>(state.range(3)));
    benchmark::DoNotOptimize(c.data.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(m * n * k),
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_GoldenGemm, mxfp4, "mxfp4")
    ->Args({64, 512, 4096, 1})->Args({64, 512, 4096, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_GoldenGemm, nvfp4, "nvfp4")
    ->Args({64, 512, 4096, 1})->Args({64, 512, 4096, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_GoldenGemm, int4_g128, "int4_g128")
    ->Args({64, 512, 4096, 1})->Args({64, 512, 4096, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_GoldenGemm, mxfp8_e4m3, "mxfp8_e4m3")
    ->Args({64, 512, 4096, 1})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
