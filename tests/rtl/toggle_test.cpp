// Toggle counting of the gate-level flow on a netlist whose activity is worked by hand: a 4-bit
// counter (q <= q + 1, sync reset) built from Yosys cells, q0' = NOT q0, c2 = q0 AND q1,
// c3 = c2 AND q2, qi' = qi XOR ci (c1 = q0). Over one period of 16 cycles the flip-flops
// toggle 16 + 8 + 4 + 2 = 30 times, NOT (q0' = bit 0 of q + 1) 16, the XORs (bits 1..3 of
// q + 1) 8 + 4 + 2 = 14, the ANDs 8 + 4 = 12 (c2 is high at q = 3, 7, 11, 15: on and off
// each time; c3 at q = 7, 15). Also the gate-level DPU against the golden model.
#include <gtest/gtest.h>

#include <map>

#include "Vgate_counter4.h"
#include "nibble/rtl/activity.h"
#include "toggle_counter.h"

namespace nibble {
namespace {

const std::vector<rtl::CellRange> kCounterCells = {
#include "gate_counter4_cells.inc"
};

TEST(ToggleCounter, CountsAHandWorkedCounterExactly) {
  VerilatedContext context;
  Vgate_counter4 counter(&context);
  const auto edge = [&] {
    counter.clk_i = 0;
    counter.eval();
    counter.clk_i = 1;
    counter.eval();
  };
  counter.rst_i = 1;
  edge();
  edge();
  ASSERT_EQ(counter.q_o, 0);
  counter.rst_i = 0;
  rtl::ToggleCounter toggles(kCounterCells);
  Vgate_counter4& model = counter;
  const std::vector<const std::uint32_t*> ports = {
#include "gate_counter4_words.inc"
  };
  ASSERT_EQ(ports.size(), 4u);  // one word per cell type
  std::uint32_t words[4];
  const auto sample = [&] {
    for (int w = 0; w < 4; ++w) words[w] = *ports[static_cast<size_t>(w)];
    toggles.sample(words);
  };
  sample();
  for (int cycle = 1; cycle <= 16; ++cycle) {
    edge();
    ASSERT_EQ(counter.q_o, cycle % 16);
    sample();
  }
  std::map<std::string, std::int64_t> by_type;
  for (size_t t = 0; t < kCounterCells.size(); ++t) by_type[kCounterCells[t].type] = toggles.toggles(t);
  const std::map<std::string, std::int64_t> expected = {
      {"$_SDFF_PP0_", 30}, {"$_NOT_", 16}, {"$_XOR_", 14}, {"$_AND_", 12}};
  EXPECT_EQ(by_type, expected);
  EXPECT_EQ(toggles.intervals(), 16);
}

// The CI configuration of the gate-level flow (rtl/gate/gate.cmake), as synthesized by Yosys,
// equals the golden model on the co-simulation's random and directed vectors.
TEST(GateLevel, NetlistsEqualTheGoldenModel) {
  ASSERT_FALSE(gate_units().empty());
  for (const std::string& unit : gate_units()) {
    const CosimReport r = run_gate_cosim(unit, 20000, 1);
    EXPECT_EQ(r.vectors, 20000) << unit;
    EXPECT_EQ(r.mismatches, 0) << unit << ": " << r.first_mismatch;
  }
}

// Activity on random codes is checked against golden on the way; random codes flip about half
// of the element inputs every block, so the XOR trees switch.
TEST(GateLevel, ActivityRunsBitExactAndCountsEveryCycle) {
  const std::string unit = gate_units().front();
  const ActivityReport r = run_activity(unit, nullptr, nullptr, 64, 3);
  EXPECT_EQ(r.block_ops, 64);
  EXPECT_EQ(r.mismatches, 0) << r.first_mismatch;
  EXPECT_EQ(r.cycles, 8 * 11 - 1);  // 8 sequences of clear + 8 blocks + 2 drain, less the first
  std::int64_t xor_toggles = 0;
  for (const CellToggles& c : r.cells) xor_toggles += c.type == "$_XOR_" ? c.toggles : 0;
  EXPECT_GT(xor_toggles, r.block_ops);
}

}  // namespace
}  // namespace nibble
