// Timing-only simulation of every linear-layer GEMM of a Llama-2-7B prefill at 2048 tokens
// (32 layers x 7 GEMMs) with the tile-level model. Target: < 2 s of host time.
#include <benchmark/benchmark.h>

#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/sim/accelerator.h"

#include "llama2_7b.h"

namespace {

void BM_Llama2_7B_Prefill2048(benchmark::State& state) {
  nibble::HardwareConfig hw;
  hw.rows = hw.cols = 32;
  const auto f = nibble::make_format("mxfp4");
  for (auto _ : state) {
    std::int64_t cycles = 0;
    for (int l = 0; l < nibble::bench::kLlama2_7BLayers; ++l) {
      for (const auto& g : nibble::bench::kLlama2_7BPrefillLayer) cycles += nibble::simulate_gemm(hw, g, *f, *f).cycles;
    }
    benchmark::DoNotOptimize(cycles);
  }
}
BENCHMARK(BM_Llama2_7B_Prefill2048)->Unit(benchmark::kMillisecond);

// Functional mode against the golden GEMM it must match, same operands, all cores.
// Target: functional within 2x of the golden GEMM's throughput.
struct Operands {
  nibble::QuantizedTensor a, w;
};
const Operands& operands() {
  static const Operands ops = [] {
    const auto f = nibble::make_format("mxfp4");
    nibble::Matrix x(128, 4096), y(512, 4096);
    for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = static_cast<float>((i * 2654435761u) % 1000) / 500 - 1;
    for (size_t i = 0; i < y.data.size(); ++i) y.data[i] = static_cast<float>((i * 40503u) % 1000) / 500 - 1;
    return Operands{f->quantize(x), f->quantize(y)};
  }();
  return ops;
}

void BM_FunctionalGemm(benchmark::State& state) {
  nibble::HardwareConfig hw;
  hw.rows = hw.cols = 32;
  for (auto _ : state) benchmark::DoNotOptimize(nibble::functional_gemm(hw, operands().a, operands().w).data.data());
  state.counters["MAC/s"] = benchmark::Counter(128.0 * 512 * 4096, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FunctionalGemm)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GoldenGemm(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(nibble::golden_gemm(operands().a, operands().w).data.data());
  state.counters["MAC/s"] = benchmark::Counter(128.0 * 512 * 4096, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GoldenGemm)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
