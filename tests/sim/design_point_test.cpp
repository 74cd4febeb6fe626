// Mappings worked by hand, the mapper's legality, and evaluate_point against closed forms:
// footprints, roofline bounds, and the DRAM traffic of a prefill layer.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "expect_error.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/sim/design_point.h"

namespace nibble {
namespace {

HardwareConfig ideal_memory() {
  HardwareConfig hw;
  hw.rows = hw.cols = 4;
  hw.dpu_latency = 3;
  hw.a_buffer_bytes = hw.w_buffer_bytes = 1 << 20;
  hw.dram_bytes_per_cycle = 1e12;  // every transfer takes one cycle
  hw.dram_latency = 0;
  return hw;
}

TEST(Mapping, NOuterKeepsAWholeAndLoadsEachWBlockOnce) {
  const HardwareConfig hw = ideal_memory();
  const auto f = make_format("mxfp4");  // K = 256: 136 bytes a row
  const Gemm g{"g", 8, 8, 256};
  const GemmStats s = simulate_gemm(hw, g, *f, *f, {"n-outer", 4, 4, 256}, /*with_schedule=*/true);
  // Steps (nb, mb): (0,0) loads all of A and W block 0; (0,1) nothing; (1,0) W block 1; (1,1)
  // nothing. cycles = 1 + max(8, 0) + max(8, 1 + 1) + max(8, 0 + 1) + max(8, 0 + 1) + 3 + 1.
  ASSERT_EQ(s.schedule.size(), 4u);
  EXPECT_EQ(s.schedule[0].a_load, 8 * 136);
  EXPECT_EQ(s.schedule[0].w_load, 4 * 136);
  EXPECT_EQ(s.schedule[1].load(), 0);
  EXPECT_EQ(s.schedule[2].w_load, 4 * 136);
  EXPECT_EQ(s.cycles, 37);
  EXPECT_EQ(s.dram_a.elements, 8 * 128);
  EXPECT_EQ(s.dram_w.elements, 8 * 128);
}

TEST(Mapping, KSplitKeepsPartialSumsInTheOutputBuffer) {
  HardwareConfig hw = ideal_memory();
  const auto f = make_format("mxfp4");
  const Gemm g{"g", 8, 8, 256};
  // One 8 x 8 block (4 array tiles) over two K chunks of 4 blocks (68 bytes a row each):
  // step 0 loads A's first chunk (8 x 68) and all of W (it fits: kept whole), step 1 A's
  // second chunk; each step computes 4 tiles x 4 blocks; results leave after the last chunk.
  // cycles = 1 + max(16, 1) + max(16, 0) + 3 + 1 = 37.
  const GemmStats s = simulate_gemm(hw, g, *f, *f, {"m-outer", 8, 8, 128}, /*with_schedule=*/true);
  ASSERT_EQ(s.schedule.size(), 2u);
  EXPECT_EQ(s.schedule[0].a_load, 8 * 68);
  EXPECT_EQ(s.schedule[0].w_load, 8 * 136);
  EXPECT_EQ(s.schedule[1].a_load, 8 * 68);
  EXPECT_EQ(s.schedule[0].results, 0);
  EXPECT_EQ(s.schedule[1].results, 8 * 8 * 4);
  EXPECT_EQ(s.cycles, 37);
  EXPECT_EQ(s.compute_cycles, 35);
  EXPECT_EQ(s.dpu_block_ops, 8 * 8 * 8);
  hw.o_buffer_bytes = 256;  // half of it cannot hold the block's 256 bytes of partials
  expect_error([&] { simulate_gemm(hw, g, *f, *f, {"m-outer", 8, 8, 128}); }, {"partial sums", "256"});
  expect_error([&] { simulate_gemm(hw, g, *f, *f, {"m-outer", 6, 8, 256}); }, {"multiples of the 4 x 4 array"});
  expect_error([&] { simulate_gemm(hw, g, *f, *f, {"k-outer", 4, 4, 256}); }, {"unknown loop order 'k-outer'"});
}

TEST(Mapping, ClosedFormEqualsTheStepByStepSum) {
  std::mt19937_64 rng(7);
  const auto f = make_format("mxfp4"), bcq = make_format("bcq");
  for (int trial = 0; trial < 200; ++trial) {
    HardwareConfig hw;
    hw.rows = 1 + static_cast<int>(rng() % 8);
    hw.cols = 1 + static_cast<int>(rng() % 8);
    hw.dram_bytes_per_cycle = 1 + static_cast<double>(rng() % 64);
    hw.dram_latency = static_cast<int>(rng() % 50);
    hw.dpu_clear_cycles = static_cast<int>(rng() % 3);
    hw.a_buffer_bytes = hw.w_buffer_bytes = 1024 << (rng() % 6);
    const BlockFormat& format = trial % 5 ? *f : *bcq;
    const std::int64_t block = format.info().block;
    const Gemm g{"g", 1 + static_cast<std::int64_t>(rng() % 90), 1 + static_cast<std::int64_t>(rng() % 90),
                 1 + static_cast<std::int64_t>(rng() % 900)};
    const Mapping m{trial % 2 ? "m-outer" : "n-outer", hw.rows * (1 + static_cast<std::int64_t>(rng() % 9)),
                    hw.cols * (1 + static_cast<std::int64_t>(rng() % 9)),
                    block * (1 + static_cast<std::int64_t>(rng() % 12))};
    const GemmStats closed = simulate_gemm(hw, g, format, format, m);
    const GemmStats stepped = simulate_gemm(hw, g, format, format, m, /*with_schedule=*/true);
    SCOPED_TRACE(m.describe() + " on " + std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k));
    EXPECT_EQ(closed.cycles, stepped.cycles);
    EXPECT_EQ(closed.stall_operand_load, stepped.stall_operand_load);
    EXPECT_EQ(closed.stall_result_store, stepped.stall_result_store);
    EXPECT_EQ(closed.dram_a.total(), stepped.dram_a.total());
    EXPECT_EQ(closed.dram_w.total(), stepped.dram_w.total());
    EXPECT_EQ(closed.sram_read_a, stepped.sram_read_a);
    EXPECT_EQ(closed.dpu_block_ops, stepped.dpu_block_ops);
    EXPECT_EQ(closed.dpu_block_ops, g.m * g.n * ((g.k + block - 1) / block));
  }
}

TEST(Mapping, TheMapperNeverOverflowsABuffer) {
  std::mt19937_64 rng(11);
  const auto f = make_format("nvfp4");
  for (int trial = 0; trial < 100; ++trial) {
    HardwareConfig hw;
    hw.rows = hw.cols = 2 << (rng() % 4);
    hw.a_buffer_bytes = 2048 << (rng() % 8);
    hw.w_buffer_bytes = 2048 << (rng() % 8);
    hw.o_buffer_bytes = std::max<std::int64_t>(8 * hw.rows * hw.cols, 512 << (rng() % 8));
    const Gemm g{"g", 1 + static_cast<std::int64_t>(rng() % 3000), 1 + static_cast<std::int64_t>(rng() % 3000),
                 16 + static_cast<std::int64_t>(rng() % 8000)};
    const GemmStats s = best_mapping(hw, g, *f, *f);
    const Mapping& m = s.mapping;
    const bool n_outer = m.order == "n-outer";
    const std::int64_t a_half = hw.a_buffer_bytes / 2, w_half = hw.w_buffer_bytes / 2;
    const bool a_ok = std::min(m.tile_m, g.m) * row_bytes(*f, std::min(m.tile_k, g.k)).total() <= a_half ||
                      (n_outer && g.m * row_bytes(*f, g.k).total() <= a_half);
    const bool w_ok = std::min(m.tile_n, g.n) * row_bytes(*f, std::min(m.tile_k, g.k)).total() <= w_half ||
                      (!n_outer && g.n * row_bytes(*f, g.k).total() <= w_half);
    const bool partials_ok = m.tile_k >= g.k || std::min(m.tile_m, g.m) * std::min(m.tile_n, g.n) * 4 <= hw.o_buffer_bytes / 2;
    EXPECT_TRUE(a_ok && w_ok && partials_ok) << m.describe();
  }
}

// The seven linear GEMMs of a Llama-2-7B layer at 2048 tokens (sim/configs/llama2_7b_prefill_layer.csv).
const Gemm kLayer[] = {{"q", 2048, 4096, 4096},     {"k", 2048, 4096, 4096},    {"v", 2048, 4096, 4096},
                       {"o", 2048, 4096, 4096},     {"gate", 2048, 11008, 4096}, {"up", 2048, 11008, 4096},
                       {"down", 2048, 4096, 11008}};

TEST(Mapping, PrefillLayerMovesItsCompulsoryBytesWhenTheBuffersAllow) {
  HardwareConfig hw;  // the example design (sim/configs/example_hw.yaml) with 32 MiB buffers
  hw.rows = hw.cols = 32;
  hw.dpu_lanes = 32;
  hw.dram_bytes_per_cycle = 128;
  hw.dram_latency = 200;
  hw.a_buffer_bytes = hw.w_buffer_bytes = 32 << 20;
  hw.o_buffer_bytes = 256 << 10;
  const auto f = make_format("mxfp4");
  double moved = 0, compulsory = 0, plain = 0;
  for (const Gemm& g : kLayer) {
    moved += static_cast<double>(best_mapping(hw, g, *f, *f).dram_bytes());
    plain += static_cast<double>(simulate_gemm(hw, g, *f, *f).dram_bytes());
    // Weights once, activations in, FP32 results out: 4.25 bits an mxfp4 element.
    compulsory += static_cast<double>(g.n * g.k + g.m * g.k) * 4.25 / 8 + static_cast<double>(g.m * g.n) * 4;
  }
  EXPECT_LE(moved, 1.2 * compulsory);
  EXPECT_GT(plain, 10 * compulsory);  // the plain tile order streams W once per 32 tokens
}

HardwareConfig example_hw() { return load_hardware(NIBBLE_SOURCE_DIR "/sim/configs/example_hw.yaml"); }

TEST(Mapping, ThePlainTileOrderKeepsItsFormerTraffic) {
  // Measured before the mapper existed (issue 10): the layer moved 7.27 GB on the example design,
  // streaming the weights once per 32-token M-tile; the mapper must do better there.
  const HardwareConfig hw = example_hw();
  const auto f = make_format("mxfp4");
  double plain = 0, mapped = 0;
  for (const Gemm& g : kLayer) {
    plain += static_cast<double>(simulate_gemm(hw, g, *f, *f, {"m-outer", hw.rows, hw.cols, g.k}).dram_bytes());
    mapped += static_cast<double>(best_mapping(hw, g, *f, *f).dram_bytes());
  }
  EXPECT_NEAR(plain, 7.27e9, 0.005e9);
  EXPECT_LT(mapped, plain / 2);
}

TEST(DesignPoint, FootprintsEqualTheClosedForms) {
  WorkloadSpec spec;
  spec.phase = "decode";
  spec.batch = 2;
  spec.context = 1024;
  for (const std::string& name : zoo_models()) {
    spec.model = name;
    const PointResult r = evaluate_point(example_hw(), spec, {"mxfp4", "mxfp4", "mxfp8_e4m3"}, default_tables());
    const ModelConfig& m = r.model;
    // Every weight but the norms, at 4 + 8/32 bits (all zoo widths are multiples of 32).
    const std::int64_t norms = m.num_hidden_layers * 2 * m.hidden_size + m.hidden_size;
    EXPECT_EQ(r.weight_bytes * 8, (m.parameters() - norms) * 17 / 4) << name;
    // K and V: 2 x layers x KV heads x head_dim per token at 8 + 8/32 bits.
    EXPECT_DOUBLE_EQ(r.kv_bytes_per_token, 2.0 * static_cast<double>(m.num_hidden_layers * m.num_key_value_heads * m.head_dim) * 8.25 / 8) << name;
    EXPECT_EQ(r.kv_bytes, static_cast<std::int64_t>(r.kv_bytes_per_token) * 2 * 1024) << name;
  }
}

TEST(DesignPoint, DecodeOnAMemoryBoundDesignTakesItsBytesOverTheBandwidth) {
  WorkloadSpec spec;
  spec.model = "llama-2-7b";
  spec.phase = "decode";
  spec.context = 2048;
  HardwareConfig hw = example_hw();
  hw.dram_latency = 20;  // a short latency: the per-GEMM first loads of attention stay small
  const PointResult r = evaluate_point(hw, spec, {"nvfp4", "nvfp4", "nvfp4"}, default_tables());
  const double floor = r.dram.total() / hw.dram_bytes_per_cycle;
  EXPECT_GE(r.cycles, floor);
  EXPECT_LE(r.cycles, 1.1 * floor);
  EXPECT_EQ(r.bound, "memory");
  // Weight streaming: each weight crosses DRAM once per step.
  EXPECT_NEAR(r.dram.w, static_cast<double>(r.weight_bytes) - static_cast<double>(r.model.vocab_size * r.model.hidden_size) * 4.5 / 8,
              1e-6 * r.dram.w);
}

TEST(DesignPoint, PrefillOnALargeArrayIsComputeBound) {
  WorkloadSpec spec;
  spec.model = "llama-3-8b";
  spec.phase = "prefill";
  spec.prompt = 2048;
  HardwareConfig hw = example_hw();
  hw.rows = hw.cols = 64;
  hw.a_buffer_bytes = hw.w_buffer_bytes = 32 << 20;
  hw.o_buffer_bytes = 1 << 20;
  hw.dram_bytes_per_cycle = 1024;
  const PointResult r = evaluate_point(hw, spec, {"mxfp4", "mxfp4", "mxfp4"}, default_tables());
  EXPECT_EQ(r.bound, "compute");
  for (const OperatorResult& o : r.operators) {
    if (o.name != "q_proj" && o.name != "down_proj") continue;
    EXPECT_EQ(o.bound, "compute") << o.name;
    EXPECT_GT(o.utilization, 0.9) << o.name;
  }
}

TEST(DesignPoint, FormatsTheDpusCannotPairAreOneLineErrors) {
  WorkloadSpec spec;
  expect_error([&] { evaluate_point(example_hw(), spec, {"nvfp4", "nvfp4", "mxfp8_e4m3"}, default_tables()); },
               {"activation nvfp4", "KV-cache mxfp8_e4m3", "16 vs 32"});
  expect_error([&] { evaluate_point(example_hw(), spec, {"afpq4_g128", "int4_g128", ""}, default_tables()); },
               {"afpq4_g128"});
  HardwareConfig built = example_hw();
  built.dpu_format = "mxfp4";
  expect_error([&] { evaluate_point(built, spec, {"mxfp4", "nvfp4", ""}, default_tables()); },
               {"activation format nvfp4", "built for mxfp4"});
}

TEST(DesignPoint, JsonHasEveryPartAndRefusesNaN) {
  WorkloadSpec spec;
  spec.model = "mixtral-8x7b";
  spec.phase = "request";
  spec.prompt = 128;
  spec.generated = 40;
  const PointResult r = evaluate_point(example_hw(), spec, {"mxfp4", "mxfp4", "mxfp8_e4m3"}, default_tables());
  const nlohmann::json j = point_json(r);
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["hardware"]["array"]["rows"], 32);
  EXPECT_EQ(j["phases"].size(), 2u);
  EXPECT_GT(j["totals"]["ttft_ms"].get<double>(), 0);
  EXPECT_GT(j["totals"]["tpot_ms"].get<double>(), 0);
  EXPECT_NEAR(j["totals"]["latency_ms"].get<double>(),
              j["totals"]["ttft_ms"].get<double>() + 39 * j["totals"]["tpot_ms"].get<double>(), 1e-6);
  bool router = false;
  for (const auto& op : j["operators"]) router |= op["name"] == "router";
  EXPECT_TRUE(router);
  PointResult broken = r;
  broken.latency_ms = std::nan("");
  broken.phases.front().latency_ms = std::nan("");
  expect_error([&] { point_json(broken); }, {"not a finite number"});
}

}  // namespace
}  // namespace nibble
