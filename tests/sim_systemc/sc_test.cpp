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
  hw.o_buffer_bytes = 4 * 1024;
  hw.dram_bytes_per_cycle = 16;
  hw.dram_latency = 40;
  hw.dpu_clear_cycles = 2;  // and W ports narrower than a block step needs
  hw.w_banks = 1;
  hw.w_bank_bytes = 64;
  const auto f = make_format("mxfp4"), bcq = make_format("bcq");
  const Gemm gemms[] = {{"compute", 16, 16, 8192}, {"memory", 40, 70, 256}, {"ragged", 13, 29, 300}};
  // Each GEMM under the array-tile order, the mapper's choice and a K-split n-outer mapping
  // with multi-tile blocks: the shell replays the explicit step schedule, the core sums it in
  // closed form.
  std::vector<GemmStats> core;
  const auto run_all = [&](const Gemm& g, const BlockFormat& format) {
    const Mapping chosen = best_mapping(hw, g, format, format).mapping;
    for (const Mapping& m : {array_tile_mapping(hw, g), chosen, Mapping{"n-outer", 8, 8, 128}}) {
      core.push_back(simulate_gemm(hw, g, format, format, m, /*with_schedule=*/true));
    }
  };
  for (const Gemm& g : gemms) run_all(g, *f);
  run_all({"bcq", 20, 24, 640}, *bcq);  // codebooks, selectors
  AcceleratorTop top("top", hw, core);
  sc_core::sc_start();
  ASSERT_EQ(top.gemm_cycles.size(), core.size());
  std::int64_t steps = 0;
  std::int64_t a_loaded = 0, w_loaded = 0, a_read = 0, w_read = 0, out = 0;
  for (size_t i = 0; i < core.size(); ++i) {
    EXPECT_EQ(top.gemm_cycles[i], core[i].cycles) << core[i].gemm.name;
    a_loaded += core[i].dram_a.total();
    w_loaded += core[i].dram_w.total();
    a_read += core[i].sram_read_a;
    w_read += core[i].sram_read_w;
    out += core[i].dram_out_bytes;
    for (const auto& step : core[i].schedule) steps += step.blocks;
  }
  EXPECT_EQ(top.dram.bytes_moved, a_loaded + w_loaded + out);
  EXPECT_EQ(top.a_buffer.bytes_written, a_loaded);
  EXPECT_EQ(top.w_buffer.bytes_written, w_loaded);
  EXPECT_EQ(top.a_buffer.bytes_read, a_read);
  EXPECT_EQ(top.w_buffer.bytes_read, w_read);
  EXPECT_EQ(top.o_buffer.bytes_written, out);
  EXPECT_EQ(top.o_buffer.bytes_read, out);
  EXPECT_EQ(top.array.block_steps, steps);
}

}  // namespace
}  // namespace nibble

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
