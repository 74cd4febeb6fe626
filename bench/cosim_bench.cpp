// Co-simulation throughput of the Verilated 4-bit dpu_mx against the golden model (one
// thread, tracing off): vector generation, RTL evaluation and golden accumulator traces.
// Target: >= 1 M block-dot vectors per second.
#include <benchmark/benchmark.h>

#include "nibble/rtl/cosim.h"

namespace {

void BM_CosimDpuMx(benchmark::State& state, const char* unit) {
  std::int64_t vectors = 0;
  for (auto _ : state) {
    const nibble::CosimReport r = nibble::run_cosim(unit, 200000, 1);
    vectors += r.vectors;
    if (r.mismatches) state.SkipWithError("mismatch");
  }
  state.counters["vectors/s"] = benchmark::Counter(static_cast<double>(vectors), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_CosimDpuMx, mxfp4, "dpu_mx:a=mxfp4:b=mxfp4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CosimDpuMx, mxfp8_e4m3_x_mxfp4, "dpu_mx:a=mxfp8_e4m3:b=mxfp4")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
