// Co-simulation throughput of the Verilated 4-bit units against the golden model (one
// thread, tracing off): stimulus generation, RTL evaluation and golden accumulator traces.
// Target: >= 1 M block-dot vectors per second.
#include <benchmark/benchmark.h>

#include "nibble/rtl/cosim.h"

namespace {

void BM_Cosim(benchmark::State& state, const char* unit) {
  std::int64_t vectors = 0;
  for (auto _ : state) {
    const nibble::CosimReport r = nibble::run_cosim(unit, 1000000, 1);
    vectors += r.vectors;
    if (r.mismatches) state.SkipWithError("mismatch");
  }
  state.counters["vectors/s"] = benchmark::Counter(static_cast<double>(vectors), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_Cosim, mxfp4, "dpu_mx:a=mxfp4:b=mxfp4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Cosim, mxfp8_e4m3_x_mxfp4, "dpu_mx:a=mxfp8_e4m3:b=mxfp4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Cosim, nvfp4, "dpu_nv:a=nvfp4:b=nvfp4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Cosim, nvint4, "dpu_nv:a=nvint4:b=nvint4")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Cosim, int4_g32, "dpu_int:a=int4_g32:b=int4_g32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Cosim, bcq, "dpu_bcq:a=bcq:b=bcq")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
