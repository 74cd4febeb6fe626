// The SystemC shell replays the core's tile schedules; its simulated time must equal the
// core's cycle count for every GEMM, and its targets must see every byte and block step.
#include <gtest/gtest.h>

#include "nibble/models/registry.h"
#include "nibble/sim/accelerator_sc.h"

namespace nibble {
namespace {

TEST(SystemCShell, SimulatedTimeEqualsTheCoreCycles) {
  HardwareConfig hw;
  hw.rows = hw.cols = 8;
  hw.clock_ghz = 1.25;
  hw.a_buffer_bytes = hw.w_buffer_bytes = 16 * 1024;
  hw.dram_bytes_per_cycle = 16;
  hw.dram_latency = 40;
  hw.dpu_clear_cycles = 2;  // and W ports narrower than a block step needs
  hw.w_banks = 1;
  hw.w_bank_bytes = 64;
  const auto f = make_format("mxfp4");
  const Gemm gemms[] = {{"compute", 16, 16, 8192}, {"memory", 40, 70, 256}, {"ragged", 13, 29, 300}};
  std::vector<GemmStats> core;
  for (const Gemm& g : gemms) core.push_back(simulate_gemm(hw, g, *f, *f));
  AcceleratorTop top("top", hw, core);
  sc_core::sc_start();
  ASSERT_EQ(top.gemm_cycles.size(), core.size());
  std::int64_t bytes = 0, steps = 0;
  for (size_t i = 0; i < core.size(); ++i) {
    EXPECT_EQ(top.gemm_cycles[i], core[i].cycles) << core[i].gemm.name;
    bytes += core[i].dram_a.total() + core[i].dram_w.total() + core[i].dram_out_bytes;
    steps += core[i].tiles * core[i].blocks_per_tile;
  }
  EXPECT_EQ(top.dram.bytes_moved, bytes);
  EXPECT_EQ(top.array.block_steps, steps);
}

}  // namespace
}  // namespace nibble

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
