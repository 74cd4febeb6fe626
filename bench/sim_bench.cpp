// Timing-only simulation of every linear-layer GEMM of a Llama-2-7B prefill at 2048 tokens
// (32 layers x 7 GEMMs) with the tile-level model. Target: < 2 s of host time.
#include <benchmark/benchmark.h>

#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/sim/accelerator.h"
#include "nibble/sim/design_point.h"

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

// One design point of a Llama-2-70B request (2048-token prompt, 256 generated tokens) on the
// example accelerator, the mapper choosing every GEMM's mapping (argument 1) or the plain array
// tiles (argument 0, the reference). Target: <= 10 ms with the mapper, one core.
void BM_EvaluatePoint_Llama2_70B_Request(benchmark::State& state) {
  const nibble::HardwareConfig hw = nibble::load_hardware(NIBBLE_SOURCE_DIR "/sim/configs/example_hw.yaml");
  nibble::WorkloadSpec spec;
  spec.model = "llama-2-70b";
  spec.phase = "request";
  spec.prompt = 2048;
  spec.generated = 256;
  const nibble::Tables& tables = nibble::default_tables();
  const std::string mapping = state.range(0) ? "best" : "m-outer";
  for (auto _ : state) {
    const auto r = nibble::evaluate_point(hw, spec, {"mxfp4", "mxfp4", "mxfp8_e4m3"}, tables, mapping);
    benchmark::DoNotOptimize(r.cycles);
  }
}
BENCHMARK(BM_EvaluatePoint_Llama2_70B_Request)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

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
