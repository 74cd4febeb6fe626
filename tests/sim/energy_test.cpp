// Energy = events x energy per event, checked by hand on the compute-bound GEMM of
// accelerator_test.cpp (8 x 8 x 256, mxfp4, 4 x 4 array: 512 block operations).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "expect_error.h"
#include "nibble/models/registry.h"
#include "nibble/sim/energy.h"

namespace nibble {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("nibble_energy_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

const char* kTable =
    "source: test\nint8_mac_pj: 0.25\nfp32_add_pj: 1\n"
    "sram_read_pj_per_byte:\n  - {kib: 8, pj: 1}\n  - {kib: 1024, pj: 8}\ndram_pj_per_byte: 100\n"
    "vector_pj_per_element: 2\nnand2_um2: 0.5\nsram_um2_per_bit: 0.25\n";

TEST(Energy, SramEnergyIsLogLinearInSizeAndClamped) {
  const EnergyTable t = load_energy(write("t.yaml", kTable));
  EXPECT_DOUBLE_EQ(t.sram_pj_per_byte(4 * 1024), 1);
  EXPECT_DOUBLE_EQ(t.sram_pj_per_byte(8 * 1024), 1);
  EXPECT_NEAR(t.sram_pj_per_byte(90 * 1024 + 512), 1 + 7 * std::log(90.5 / 8) / std::log(128.0), 1e-12);
  EXPECT_DOUBLE_EQ(t.sram_pj_per_byte(4 << 20), 8);
}

TEST(Energy, EventsTimesEnergies) {
  const EnergyTable t = load_energy(write("t.yaml", kTable));
  HardwareConfig hw;
  hw.rows = hw.cols = 4;
  hw.a_buffer_bytes = hw.w_buffer_bytes = 8 * 1024;  // 1 pJ per byte
  hw.dram_bytes_per_cycle = 1e12;
  hw.dram_latency = 0;
  const auto f = make_format("mxfp4");
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  // Without area data: a lane costs 0.25 * (4 x 4) / 64 = 0.0625 pJ; 512 ops x 32 lanes.
  const EnergyBreakdown e = gemm_energy(t, load_area(""), {}, hw, s, *f, *f);
  EXPECT_EQ(e.dpu_basis, "element-bit estimate");
  EXPECT_DOUBLE_EQ(e.dpu_pj, 512 * 32 * 0.0625);
  EXPECT_DOUBLE_EQ(e.accumulate_pj, 512 * 1.0);
  // DRAM: A 8 rows x 136 B, W 8 x 136 B, out 256 B, at 100 pJ/B.
  EXPECT_DOUBLE_EQ(e.dram_pj, (1088 + 1088 + 256) * 100.0);
  // SRAM: operands written once (2176 B) and read once per tile: 4 tiles x (4 A rows + 4 W
  // rows) x 136 B, at 1 pJ; results (256 B) written and read once in the 64 KiB output buffer,
  // at 1 + 7 log(64 / 8) / log(1024 / 8) = 4 pJ.
  EXPECT_DOUBLE_EQ(e.sram_pj, 2176 + 4 * 8 * 136.0 + 2 * 256 * 4.0);
  // With area data: the lane scales the 8-bit MAC by NAND2 per lane relative to mxint8's.
  const std::string area = write("area.json",
      R"({"units": {"dpu_mx:a=mxfp4:b=mxfp4": {"lanes": 32, "nand2_eq_per_lane": 600},
                    "dpu_mx:a=mxint8:b=mxint8": {"lanes": 32, "nand2_eq_per_lane": 1200}}})");
  const EnergyBreakdown scaled = gemm_energy(t, load_area(area), {}, hw, s, *f, *f);
  EXPECT_EQ(scaled.dpu_basis, "area.json: dpu_mx:a=mxfp4:b=mxfp4");
  EXPECT_DOUBLE_EQ(scaled.dpu_pj, 512 * 32 * 0.25 * 0.5);
}

// Measured gate-level activity replaces the area-scaled estimate: per block op, toggles x fJ
// per toggle of the cell's gate plus flip-flops x clock fJ x cycles, worked by hand.
TEST(Energy, MeasuredActivityPricesTogglesPerCellType) {
  const EnergyTable t = load_energy(write("gates.yaml", std::string(kTable) +
      "gate_toggle_fj: {XOR: 2, DFF: 10, AND: 3}\nflip_flop_clock_fj: 1\n"));
  EXPECT_DOUBLE_EQ(t.toggle_fj("$_XOR_"), 2);
  EXPECT_DOUBLE_EQ(t.toggle_fj("$_SDFFE_PP0P_"), 10);  // every flip-flop is a DFF
  EXPECT_DOUBLE_EQ(t.toggle_fj("$_DFF_P_"), 10);
  expect_error([&] { t.toggle_fj("$_MUX_"); }, {"no gate_toggle_fj entry for cell $_MUX_"});
  const std::string activity = write("activity.json", R"({"units": {"dpu_mx:a=mxfp4:b=mxfp4": {
      "random": {"cycles_per_op": 1.5, "cells": {"$_XOR_": {"count": 7, "toggles_per_op": 3},
                                                   "$_SDFFE_PP0P_": {"count": 4, "toggles_per_op": 0.5}}},
      "lm:tiny": {"cycles_per_op": 1.5, "cells": {"$_XOR_": {"count": 7, "toggles_per_op": 1},
                                                    "$_SDFFE_PP0P_": {"count": 4, "toggles_per_op": 0.5}}}}}})");
  const ActivityTable table = load_activity(activity);
  ASSERT_EQ(table.entries.size(), 2u);
  // random: 3 x 2 + 0.5 x 10 + 4 x 1 x 1.5 = 17 fJ; lm: 1 x 2 + 5 + 6 = 13 fJ.
  const auto f = make_format("mxfp4");
  const Activity* chosen = find_activity(table, "mxfp4", "mxfp4");
  ASSERT_NE(chosen, nullptr);
  EXPECT_EQ(chosen->operands, "lm:tiny");  // real operands first
  EXPECT_DOUBLE_EQ(block_op_pj(t, *chosen), 0.013);
  EXPECT_EQ(find_activity(table, "mxfp4", "nvfp4"), nullptr);
  HardwareConfig hw;
  hw.rows = hw.cols = 4;
  hw.dram_bytes_per_cycle = 1e12;
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  const EnergyBreakdown e = gemm_energy(t, load_area(""), table, hw, s, *f, *f);
  EXPECT_EQ(e.dpu_basis, "gate-level activity: dpu_mx:a=mxfp4:b=mxfp4, lm:tiny");
  EXPECT_DOUBLE_EQ(e.dpu_pj, 512 * 0.013);
  EXPECT_DOUBLE_EQ(e.accumulate_pj, 0);  // the unit's accumulator is in its netlist
  // Without gate energies in the table, the same activity is not used: the estimate stays.
  const EnergyBreakdown fallback = gemm_energy(load_energy(write("t.yaml", kTable)), load_area(""), table, hw, s, *f, *f);
  EXPECT_EQ(fallback.dpu_basis, "element-bit estimate");
  const std::string bad = write("bad_gate.yaml", std::string(kTable) + "gate_toggle_fj: {FOO: 1}\nflip_flop_clock_fj: 1\n");
  expect_error([&] { load_energy(bad); }, {"unknown gate 'FOO' in gate_toggle_fj"});
}

TEST(Energy, MemoryBoundGemmWithBuffersOfDifferentSizes) {
  const EnergyTable t = load_energy(write("t.yaml", kTable));
  HardwareConfig hw;
  hw.rows = hw.cols = 4;
  hw.a_buffer_bytes = 8 * 1024;     // 1 pJ per byte
  hw.w_buffer_bytes = 1024 * 1024;  // 8 pJ per byte
  hw.dram_bytes_per_cycle = 1;      // memory-bound: 1088 bytes of W take 1088 cycles
  hw.dram_latency = 10;
  const auto f = make_format("mxfp4");
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  EXPECT_GT(s.stall_cycles, s.compute_cycles);
  const EnergyBreakdown e = gemm_energy(t, load_area(""), {}, hw, s, *f, *f);
  // A: 8 rows of 136 B loaded once (a 4-row panel fits half of 8 KiB), read by 4 tiles x 4
  // rows; W: all 8 rows resident (they fit half of 1 MiB), read likewise; 256 B of results
  // written and read in the 64 KiB output buffer at 4 pJ.
  EXPECT_DOUBLE_EQ(e.sram_pj, (1088 + 4 * 4 * 136) * 1.0 + (1088 + 4 * 4 * 136) * 8.0 + 2 * 256 * 4.0);
  EXPECT_DOUBLE_EQ(e.dram_pj, (1088 + 1088 + 256) * 100.0);
  EXPECT_DOUBLE_EQ(e.dpu_pj, 512 * 32 * 0.0625);  // the events do not depend on the stalls
}

TEST(Energy, DesignAreaIsDpusPlusSramBits) {
  const EnergyTable t = load_energy(write("t.yaml", kTable));
  HardwareConfig hw;
  hw.rows = 2;
  hw.cols = 3;
  hw.a_buffer_bytes = 1024;
  hw.w_buffer_bytes = 3072;
  hw.o_buffer_bytes = 1024;
  const auto f = make_format("mxfp4");
  const std::string area = write("area2.json",
      R"({"units": {"dpu_mx:a=mxfp4:b=mxfp4": {"lanes": 32, "nand2_eq_per_lane": 600},
                    "dpu_mx:a=mxint8:b=mxint8": {"lanes": 32, "nand2_eq_per_lane": 1200}}})");
  // 6 DPUs x 32 lanes x 600 NAND2 x 0.5 um2; 5 KiB x 8 bits x 0.25 um2.
  const DesignArea d = design_area(t, load_area(area), hw, *f, *f);
  EXPECT_DOUBLE_EQ(d.dpu_um2, 6 * 32 * 600 * 0.5);
  EXPECT_DOUBLE_EQ(d.sram_um2, 5120 * 8 * 0.25);
  EXPECT_EQ(d.dpu_basis, "area.json: dpu_mx:a=mxfp4:b=mxfp4");
  // A pair without an entry: mxint8's lane scaled by element bits (4 x 8 / 64).
  const auto e4m3 = make_format("mxfp8_e4m3");
  EXPECT_DOUBLE_EQ(design_area(t, load_area(area), hw, *f, *e4m3).dpu_um2, 6 * 32 * 1200 * 0.5 * 0.5);
  // BCQ's unit takes a 64-scalar block array a cycle; no 64-lane mxint8 unit exists, so the
  // 32-lane one is the reference: 6 DPUs x 64 lanes x 3000 NAND2 x 0.5 um2.
  const std::string bcq_area = write("area3.json",
      R"({"units": {"dpu_bcq:a=bcq:b=bcq": {"lanes": 64, "nand2_eq_per_lane": 3000},
                    "dpu_mx:a=mxint8:b=mxint8": {"lanes": 32, "nand2_eq_per_lane": 1200}}})");
  const auto bcq = make_format("bcq");
  EXPECT_DOUBLE_EQ(design_area(t, load_area(bcq_area), hw, *bcq, *bcq).dpu_um2, 6 * 64 * 3000 * 0.5);
  // The area honours dpu.lanes: 8-lane DPUs are a quarter of the 32-lane ones.
  HardwareConfig narrow = hw;
  narrow.dpu_lanes = 8;
  EXPECT_DOUBLE_EQ(design_area(t, load_area(area), narrow, *f, *f).dpu_um2, 6 * 8 * 600 * 0.5);
  const DesignArea none = design_area(t, load_area(""), hw, *f, *f);
  EXPECT_EQ(none.dpu_um2, 0);
  EXPECT_NE(none.dpu_basis.find("not counted"), std::string::npos);
}

TEST(Energy, MalformedTablesAreErrors) {
  const std::string no_source = write("a.yaml", "int8_mac_pj: 1\n");
  expect_error([&] { load_energy(no_source); }, {"source"});
  const std::string negative = write("b.yaml", "source: x\nint8_mac_pj: -1\nfp32_add_pj: 1\n");
  expect_error([&] { load_energy(negative); }, {":2:", "int8_mac_pj"});
  const std::string order = write("c.yaml",
      "source: x\nint8_mac_pj: 1\nfp32_add_pj: 1\ndram_pj_per_byte: 1\nvector_pj_per_element: 1\nnand2_um2: 1\n"
      "sram_um2_per_bit: 1\n"
      "sram_read_pj_per_byte:\n  - {kib: 8, pj: 1}\n  - {kib: 4, pj: 2}\n");
  expect_error([&] { load_energy(order); }, {"must increase"});
  const std::string unknown = write("d.yaml", std::string(kTable) + "dram_pj: 3\n");
  expect_error([&] { load_energy(unknown); }, {":11:", "unknown key 'dram_pj'"});
  const std::string twice = write("e.yaml", std::string(kTable) + "fp32_add_pj: 3\n");
  expect_error([&] { load_energy(twice); }, {":11:", "duplicate key 'fp32_add_pj'"});
}

}  // namespace
}  // namespace nibble
