// RTL in the loop: an array of Verilated mxfp4 units must compute the golden GEMM bit for bit
// and take the cycles the model's DPU (latency 2, one clear cycle) predicts.
#include <gtest/gtest.h>

#include <bit>
#include <random>

#include "expect_error.h"
#include "test_seed.h"
#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/sim/rtl_array_sc.h"

namespace nibble {
namespace {

Matrix random_matrix(std::int64_t rows, std::int64_t cols, std::mt19937_64& rng) {
  Matrix m(rows, cols);
  std::student_t_distribution<float> heavy(3.0f);  // outliers spread the block scales
  for (float& v : m.data) v = heavy(rng);
  return m;
}

TEST(RtlInTheLoop, ResultsAndCyclesAgreeWithTheModel) {
  const std::uint64_t seed = test_seed(20261201);
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  HardwareConfig hw;
  hw.rows = 3;
  hw.cols = 4;
  hw.dpu_latency = RtlDpuArray::kLatency;
  hw.dpu_clear_cycles = RtlDpuArray::kClearCycles;
  hw.dram_bytes_per_cycle = 1e12;  // compute only: the RTL replaces the DPUs, not the memory
  const auto f = make_format("mxfp4");
  // Ragged tiles, a partial K-block, a single-block K and a single tile.
  const Gemm shapes[] = {{"ragged", 7, 10, 200}, {"one_block", 5, 3, 32}, {"one_tile", 3, 4, 96}};
  std::vector<std::pair<QuantizedTensor, QuantizedTensor>> gemms;
  for (const Gemm& g : shapes) {
    gemms.emplace_back(f->quantize(random_matrix(g.m, g.k, rng)), f->quantize(random_matrix(g.n, g.k, rng)));
  }
  RtlDpuArray array("array", hw, gemms);
  sc_core::sc_start();
  ASSERT_EQ(array.runs.size(), gemms.size());
  for (size_t i = 0; i < gemms.size(); ++i) {
    const Matrix golden = golden_gemm(gemms[i].first, gemms[i].second);
    const Matrix& rtl = array.runs[i].c;
    for (size_t j = 0; j < golden.data.size(); ++j) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(rtl.data[j]), std::bit_cast<std::uint32_t>(golden.data[j]))
          << shapes[i].name << " element " << j;
    }
    const GemmStats model = simulate_gemm(hw, shapes[i], *f, *f);
    EXPECT_EQ(array.runs[i].compute_cycles, model.compute_cycles) << shapes[i].name;
  }
}

TEST(RtlInTheLoop, OnlyMxfp4Operands) {
  const auto nv = make_format("nvfp4"), mx = make_format("mxfp4");
  std::mt19937_64 rng(1);
  const Matrix x = random_matrix(2, 64, rng);
  expect_error([&] { RtlDpuArray::check({{nv->quantize(x), mx->quantize(x)}}); }, {"nvfp4", "mxfp4"});
  expect_error([&] { RtlDpuArray::check({{mx->quantize(x), mx->quantize(random_matrix(2, 96, rng))}}); },
               {"different K"});
}

}  // namespace
}  // namespace nibble

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
