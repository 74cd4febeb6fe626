// The tile-level timing model against cycle counts worked by hand from the formulas of
// nibble/sim/accelerator.h. Operands: mxfp4 rows of K = 256 hold 128 element bytes and 8
// scale bytes (136 bytes); a 4 x 4 array, DPU latency 3.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "expect_error.h"
#include "nibble/models/error.h"
#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/sim/accelerator.h"

namespace nibble {
namespace {

HardwareConfig small_array() {
  HardwareConfig hw;
  hw.rows = hw.cols = 4;
  hw.dpu_latency = 3;
  hw.a_buffer_bytes = hw.w_buffer_bytes = 1 << 20;
  return hw;
}

TEST(Accelerator, RowBytesSplitElementsScalesAndSideData) {
  const OperandBytes mx = row_bytes(*make_format("mxfp4"), 256);
  EXPECT_EQ(mx.elements, 128);
  EXPECT_EQ(mx.scales, 8);
  EXPECT_EQ(mx.side, 0);
  const OperandBytes bcq = row_bytes(*make_format("bcq"), 256);  // 4 arrays of 8 selectors x 4 bits
  EXPECT_EQ(bcq.elements, 128);
  EXPECT_EQ(bcq.scales, 4);
  EXPECT_EQ(bcq.side, 16);
  const OperandBytes asym = row_bytes(*make_format("int4_g128_asym"), 256);  // 4-bit zero points
  EXPECT_EQ(asym.scales, 4);
  EXPECT_EQ(asym.side, 1);
}

TEST(Accelerator, ComputeBound) {
  // DRAM: zero latency, near-infinite bandwidth: every transfer takes one cycle.
  HardwareConfig hw = small_array();
  hw.dram_bytes_per_cycle = 1e12;
  hw.dram_latency = 0;
  const auto f = make_format("mxfp4");
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  // 4 tiles of kb = 8 cycles; loads: tile 0 (A panel + all of W) 1, tile 2 (A panel) 1; stores 1.
  // cycles = 1 + max(8, 0) + max(8, 1 + 1) + max(8, 0 + 1) + max(8, 0 + 1) + 3 + 1 = 37
  EXPECT_EQ(s.tiles, 4);
  EXPECT_EQ(s.cycles, 37);
  EXPECT_EQ(s.compute_cycles, 35);
  EXPECT_EQ(s.stall_cycles, 2);
  EXPECT_EQ(s.dpu_block_ops, 8 * 8 * 8);
  EXPECT_DOUBLE_EQ(s.utilization, 512.0 / (16 * 37));
  EXPECT_EQ(s.dram_a.elements, 8 * 128);  // each A panel once (reused across N-tiles)
  EXPECT_EQ(s.dram_w.elements, 8 * 128);  // W resident: loaded once
  EXPECT_EQ(s.dram_w.scales, 8 * 8);
  EXPECT_EQ(s.dram_out_bytes, 8 * 8 * 4);
}

TEST(Accelerator, MemoryBoundWithoutReuse) {
  // 1 KiB buffers: half (512 B) holds neither an A panel (544 B) nor W (1088 B), so every tile
  // loads A and W panels: 1088 B = 10 + 1088 / 8 = 146 cycles; a store: 10 + 64 / 8 = 18.
  HardwareConfig hw = small_array();
  hw.a_buffer_bytes = hw.w_buffer_bytes = 1024;
  hw.dram_bytes_per_cycle = 8;
  hw.dram_latency = 10;
  const auto f = make_format("mxfp4");
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  // 146 + max(8, 146) + max(8, 146 + 18) + max(8, 146 + 18) + max(8, 18) + 3 + 18 = 659
  EXPECT_EQ(s.cycles, 659);
  EXPECT_EQ(s.stall_cycles, 659 - 35);
  // By cause: the first load; loads exposed in tiles 0-2 (138 + 146 + 146); stores exposed
  // in tiles 1-3 (10 each) and the last one (18).
  EXPECT_EQ(s.stall_first_load, 146);
  EXPECT_EQ(s.stall_operand_load, 430);
  EXPECT_EQ(s.stall_result_store, 48);
  EXPECT_EQ(s.dram_a.total(), 4 * 544);
  EXPECT_EQ(s.dram_w.total(), 4 * 544);
}

TEST(Accelerator, AccumulatorClearAndNarrowSramPortsStretchCompute) {
  HardwareConfig hw = small_array();
  hw.dram_bytes_per_cycle = 1e12;
  hw.dram_latency = 0;
  const auto f = make_format("mxfp4");
  // As ComputeBound, but tiles 1-3 first spend a cycle clearing the accumulators.
  hw.dpu_clear_cycles = 1;
  const GemmStats cleared = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  EXPECT_EQ(cleared.cycles, 37 + 3);
  EXPECT_EQ(cleared.compute_cycles, 4 * 8 + 3 + 3);
  // A block step reads 4 rows x 17 B of A; two 16 B banks deliver 32 B a cycle: 3 cycles.
  hw.dpu_clear_cycles = 0;
  hw.a_banks = 2;
  hw.a_bank_bytes = 16;
  const GemmStats narrow = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  EXPECT_EQ(narrow.cycles_per_block_step, 3);
  EXPECT_EQ(narrow.cycles, 1 + 4 * 24 + 3 + 1);
  EXPECT_EQ(narrow.compute_cycles, 4 * 24 + 3);
  EXPECT_EQ(narrow.stall_sram_ports, 4 * 16);
}

TEST(Accelerator, LanesAndInitiationIntervalSetTheBlockStep) {
  HardwareConfig hw = small_array();
  hw.dram_bytes_per_cycle = 1e12;
  hw.dram_latency = 0;
  const auto f = make_format("mxfp4");
  hw.dpu_lanes = 8;  // a 32-element block takes 4 issues
  hw.dpu_initiation_interval = 2;
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f);
  EXPECT_EQ(s.cycles_per_block_step, 8);
  EXPECT_EQ(s.compute_cycles, 4 * 8 * 8 + 3);
  EXPECT_EQ(s.stall_sram_ports, 0);
}

TEST(Accelerator, BcqCodebooksLoadOnceWithTheFirstTile) {
  HardwareConfig hw = small_array();
  hw.dram_bytes_per_cycle = 1;
  hw.dram_latency = 0;
  const auto bcq = make_format("bcq");
  const Gemm g{"g", 8, 8, 256};
  const GemmStats s = simulate_gemm(hw, g, *bcq, *bcq, array_tile_mapping(hw, g), /*with_schedule=*/true);
  // 16 codebooks x 16 entries x 6 bits = 192 bytes per operand.
  EXPECT_EQ(s.dram_a.codebooks, 192);
  EXPECT_EQ(s.dram_w.codebooks, 192);
  // First load: an A panel and all of W (4 + 8 rows of 148 B) and both codebooks.
  EXPECT_EQ(s.schedule.front().a_load, 4 * 148 + 192);
  EXPECT_EQ(s.schedule.front().w_load, 8 * 148 + 192);
  EXPECT_EQ(s.stall_first_load, 12 * 148 + 2 * 192);
  EXPECT_EQ(codebook_bytes(*make_format("mxfp4")), 0);
}

TEST(Accelerator, TileResultsMustFitHalfTheOutputBuffer) {
  HardwareConfig hw = small_array();
  hw.o_buffer_bytes = 100;  // a 4 x 4 tile holds 64 result bytes
  const auto f = make_format("mxfp4");
  expect_error([&] { simulate_gemm(hw, {"g", 8, 8, 256}, *f, *f); }, {"64 result bytes", "output buffer"});
}

TEST(Accelerator, DoubleBufferingHidesLoadsBehindCompute) {
  // K = 4096 (kb = 128): an A panel is 4 x 2176 B = 78 cycles at 128 B/cycle (10 + 68), less
  // than a tile's 128 compute cycles, so only the first load and the last store are exposed.
  HardwareConfig hw = small_array();
  hw.dram_bytes_per_cycle = 128;
  hw.dram_latency = 10;
  const auto f = make_format("mxfp4");
  const GemmStats s = simulate_gemm(hw, {"g", 8, 8, 4096}, *f, *f);
  // first load: A panel 8704 B + W 17408 B = 10 + 204 = 214; stores 10 + 1 = 11
  // 214 + 4 x 128 + 3 + 11 = 740 (serial: 214 + 78 + 4 x 11 + 512 + 3 = 851)
  EXPECT_EQ(s.cycles, 740);
  EXPECT_EQ(s.stall_cycles, 214 + 11);
}

TEST(Accelerator, FunctionalModeEqualsTheGoldenGemm) {
  // Ragged tiles: 37 x 29 outputs on a 16 x 16 array, K = 300 (a partial block).
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  Matrix x(37, 300), y(29, 300);
  for (float& v : x.data) v = normal(rng);
  for (float& v : y.data) v = normal(rng) * 0.02f;
  HardwareConfig hw;
  for (const char* format : {"mxfp4", "nvfp4", "bcq:la=32"}) {
    const auto f = make_format(format);
    const QuantizedTensor a = f->quantize(x), w = f->quantize(y);
    EXPECT_EQ(functional_gemm(hw, a, w, 3).data, golden_gemm(a, w).data) << format;
  }
}

TEST(Accelerator, FormatsMustShareABlockSize) {
  const HardwareConfig hw = small_array();
  EXPECT_THROW(simulate_gemm(hw, {"g", 8, 8, 256}, *make_format("mxfp4"), *make_format("nvfp4")), Error);
  EXPECT_NO_THROW(simulate_gemm(hw, {"g", 8, 8, 256}, *make_format("mxfp8_e4m3"), *make_format("mxfp4")));
}

std::string write(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("nibble_sim_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(Accelerator, HardwareYamlAndErrorsWithLines) {
  const HardwareConfig hw = load_hardware(write("ok.yaml",
      "clock_ghz: 1.5\narray: {rows: 8, cols: 4}\ndpu: {format: nvfp4, latency: 5}\nbuffers: {a_kib: 64, w_kib: 32}\n"
      "dram: {bytes_per_cycle: 32, latency: 50}\n"));
  EXPECT_EQ(hw.rows, 8);
  EXPECT_EQ(hw.cols, 4);
  EXPECT_EQ(hw.dpu_latency, 5);
  EXPECT_EQ(hw.dpu_format, "nvfp4");
  EXPECT_EQ(hw.a_buffer_bytes, 64 * 1024);
  EXPECT_EQ(hw.w_buffer_bytes, 32 * 1024);
  EXPECT_EQ(hw.dram_latency, 50);
  const std::pair<std::string, std::string> bad[] = {
      {write("key.yaml", "clock_ghz: 1\narray: {rows: 8, colz: 4}\n"), ":2: unknown hardware key 'array.colz'"},
      {write("num.yaml", "dpu:\n  latency: fast\n"), ":2: 'dpu.latency' is not a number: 'fast'"},
      {write("neg.yaml", "array: {rows: 0}\n"), ":1: hardware key 'array.rows': 0 is outside [1, 65536]"},
      {write("frac.yaml", "array: {rows: 2.5}\n"), ":1: hardware key 'array.rows': 2.5 is not an integer"},
      {write("inf.yaml", "buffers: {w_kib: .inf}\n"), ":1: 'buffers.w_kib' is not a number: '.inf'"},
      {write("huge.yaml", "buffers: {w_kib: 1e300}\n"), ":1: hardware key 'buffers.w_kib': 1.0000000000000001e+300 is outside"},
      {write("dup.yaml", "clock_ghz: 1\nclock_ghz: 2\n"), ":2: duplicate key 'clock_ghz'"},
      {write("fmt.yaml", "clock_ghz: 1\ndpu: {format: mxfp5}\n"), ":2: hardware key 'dpu.format': unknown format 'mxfp5'"},
      {write("syntax.yaml", "array: {rows: 8\n"), "malformed YAML"},
      {"/nonexistent/hw.yaml", "cannot open"}};
  for (const auto& [path, expected] : bad) {
    expect_error([&, path = path] { load_hardware(path); }, {expected, path});
  }
}

TEST(Accelerator, GemmListsInBothFormats) {
  const auto ours = load_gemms(write("g.csv", "name,M,N,K\nqkv,2048,4096,4096\n\nffn,16,11008,4096\n"));
  ASSERT_EQ(ours.size(), 2u);
  EXPECT_EQ(ours[1].name, "ffn");
  EXPECT_EQ(ours[1].n, 11008);
  const auto scalesim = load_gemms(write("s.csv", "Layer, M, N, K,\nGEMM_1, 64, 128, 256,\n"));
  ASSERT_EQ(scalesim.size(), 1u);
  EXPECT_EQ(scalesim[0].k, 256);
  for (const auto& [text, expected] : {std::pair{"name,M,N,K\ng,1,2\n", ":2: expected 4 fields"},
                                       std::pair{"name,M,N,K\ng,1,x,3\n", ":2: 'x' is not"},
                                       std::pair{"name,M,N,K\ng,1,-2,3\n", ":2: '-2' is not"},
                                       std::pair{"name,M,N,K\n", "no GEMMs"}}) {
    const std::string path = write("bad.csv", text);
    expect_error([&] { load_gemms(path); }, {expected, path});
  }
}

}  // namespace
}  // namespace nibble
