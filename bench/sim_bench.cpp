// Timing-only simulation of every linear-layer GEMM of a Llama-2-7B prefill at 2048 tokens
// (32 layers x 7 GEMMs) with the tile-level model. Target: < 2 s of host time.
#include <benchmark/benchmark.h>

#include "nibble/models/registry.h"
#include "nibble/sim/accelerator.h"

namespace {

void BM_Llama2_7B_Prefill2048(benchmark::State& state) {
  nibble::HardwareConfig hw;
  hw.rows = hw.cols = 32;
  const auto f = nibble::make_format("mxfp4");
  const nibble::Gemm layer[] = {{"q", 2048, 4096, 4096},     {"k", 2048, 4096, 4096},
                                {"v", 2048, 4096, 4096},     {"o", 2048, 4096, 4096},
                                {"gate", 2048, 11008, 4096}, {"up", 2048, 11008, 4096},
                                {"down", 2048, 4096, 11008}};
  for (auto _ : state) {
    std::int64_t cycles = 0;
    for (int l = 0; l < 32; ++l) {
      for (const auto& g : layer) cycles += nibble::simulate_gemm(hw, g, *f, *f).cycles;
    }
    benchmark::DoNotOptimize(cycles);
  }
}
BENCHMARK(BM_Llama2_7B_Prefill2048)->Unit(benchmark::kMillisecond);

}  // namespace
