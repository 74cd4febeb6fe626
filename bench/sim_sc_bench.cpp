// The Llama-2-7B prefill timing target through the SystemC shell: every linear-layer GEMM at
// 2048 tokens (32 layers x 7 GEMMs) timed by the core and replayed by the shell, as
// `nibble sim --systemc` does. A dedicated program: SystemC owns main(). Target: < 2 s.
#include <chrono>
#include <cstdio>

#include "nibble/models/registry.h"
#include "nibble/sim/accelerator_sc.h"

#include "llama2_7b.h"

int sc_main(int, char*[]) {
  using clock = std::chrono::steady_clock;
  nibble::HardwareConfig hw;
  hw.rows = hw.cols = 32;
  const auto f = nibble::make_format("mxfp4");
  const auto start = clock::now();
  std::vector<nibble::GemmStats> stats;
  for (int l = 0; l < nibble::bench::kLlama2_7BLayers; ++l) {
    for (const auto& g : nibble::bench::kLlama2_7BPrefillLayer) {
      stats.push_back(nibble::simulate_gemm(hw, g, *f, *f, nibble::array_tile_mapping(hw, g), /*with_schedule=*/true));
    }
  }
  const auto timed = clock::now();
  nibble::AcceleratorTop top("accelerator", hw, stats);
  sc_core::sc_start();
  const auto replayed = clock::now();
  std::int64_t cycles = 0, tiles = 0;
  for (const auto& s : stats) {
    cycles += s.cycles;
    tiles += s.tiles;
  }
  std::int64_t shell_cycles = 0;
  for (std::int64_t c : top.gemm_cycles) shell_cycles += c;
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("224 GEMMs, %lld tiles, %lld cycles (shell: %lld)\n", static_cast<long long>(tiles),
              static_cast<long long>(cycles), static_cast<long long>(shell_cycles));
  std::printf("core %.1f ms + SystemC shell %.1f ms = %.1f ms (target < 2000 ms)\n", ms(timed - start),
              ms(replayed - timed), ms(replayed - start));
  return shell_cycles == cycles ? 0 : 1;
}
