// Quantize + pack throughput in bytes of float32 input per second, one thread, next to a
// memcpy of the same buffer. The buffer (64 MiB) is far beyond the caches, so both stream
// from DRAM; target: mxfp4 and nvfp4 at >= 25% of memcpy.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "nibble/models/registry.h"

namespace {

constexpr std::int64_t kRows = 4096, kCols = 4096;  // 16 M floats = 64 MiB

const nibble::Matrix& input() {
  static const nibble::Matrix m = [] {
    nibble::Matrix x(kRows, kCols);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    for (float& v : x.data) v = normal(rng);
    return x;
  }();
  return m;
}

void BM_Memcpy(benchmark::State& state) {
  const auto& x = input();
  std::vector<float> dst(x.data.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), x.data.data(), x.data.size() * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(x.data.size() * 4));
}
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Quantize(benchmark::State& state, const char* format) {
  const auto& x = input();
  const auto f = nibble::make_format(format);
  for (auto _ : state) {
    auto q = f->quantize(x);
    benchmark::DoNotOptimize(q.elements.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(x.data.size() * 4));
}
BENCHMARK_CAPTURE(BM_Quantize, mxfp4, "mxfp4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Quantize, nvfp4, "nvfp4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Quantize, int4_g128, "int4_g128")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Quantize, mxfp8_e4m3, "mxfp8_e4m3")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
