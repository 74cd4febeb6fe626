// Quantize + pack and dequantize throughput in bytes of float32 per second, one thread, next
// to a memcpy of the same buffer in the same run. The buffer (64 MiB) is far beyond the
// caches, so all of them stream from DRAM. Targets (bench/RESULTS.md): quantize + pack at
// >= 50% of memcpy, dequantize at >= 70%. The context line simd_target names the Highway
// target the kernels dispatched to.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "nibble/models/registry.h"
#include "nibble/models/simd.h"

namespace {

constexpr std::int64_t kRows = 4096, kCols = 4096;  // 16 M floats = 64 MiB
constexpr std::int64_t kBytes = kRows * kCols * 4;

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

const bool kContext = [] {
  benchmark::AddCustomContext("simd_target", nibble::simd_target());
  return true;
}();

void BM_Memcpy(benchmark::State& state) {
  const auto& x = input();
  std::vector<float> dst(x.data.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), x.data.data(), x.data.size() * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Quantize(benchmark::State& state, const char* format) {
  const auto& x = input();
  const auto f = nibble::make_format(format);
  for (auto _ : state) {
    auto q = f->quantize(x);
    benchmark::DoNotOptimize(q.elements.data());
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}

// The output matrix is allocated once, as memcpy's destination is.
void BM_Dequantize(benchmark::State& state, const char* format) {
  const auto f = nibble::make_format(format);
  const auto q = f->quantize(input());
  nibble::Matrix out(kRows, kCols);
  for (auto _ : state) {
    f->dequantize(q, out.data.data());
    benchmark::DoNotOptimize(out.data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kBytes);
}

#define NIBBLE_FORMAT_BENCH(name)                                                              \
  BENCHMARK_CAPTURE(BM_Quantize, name, #name)->Unit(benchmark::kMillisecond)->UseRealTime();   \
  BENCHMARK_CAPTURE(BM_Dequantize, name, #name)->Unit(benchmark::kMillisecond)->UseRealTime()

NIBBLE_FORMAT_BENCH(mxfp4);
NIBBLE_FORMAT_BENCH(nvfp4);
NIBBLE_FORMAT_BENCH(nvint4);
NIBBLE_FORMAT_BENCH(int4_g32);
NIBBLE_FORMAT_BENCH(int4_g128);
NIBBLE_FORMAT_BENCH(int4_g32_asym);
NIBBLE_FORMAT_BENCH(int4_g128_asym);
NIBBLE_FORMAT_BENCH(mxfp6_e2m3);
NIBBLE_FORMAT_BENCH(mxfp8_e4m3);
NIBBLE_FORMAT_BENCH(mxint8);
NIBBLE_FORMAT_BENCH(afpq4_g128);

}  // namespace
