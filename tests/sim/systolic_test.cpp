// The classic systolic mode against SCALE-Sim v3: its own regression expectations, reports it
// wrote for the configs in tests/golden/sim, and cycle counts worked out by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "expect_error.h"
#include "nibble/sim/systolic.h"

namespace nibble {
namespace {

const std::string kGolden = NIBBLE_SOURCE_DIR "/tests/golden/sim/";

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');) {
      f.erase(0, f.find_first_not_of(' '));
      if (!f.empty()) fields.push_back(f);
    }
    rows.push_back(fields);
  }
  return rows;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Columns 1..6 of a COMPUTE_REPORT row: three cycle counts exactly, three percentages.
void expect_report(const SystolicReport& r, const std::vector<std::string>& row, const std::string& what) {
  ASSERT_EQ(row.size(), 7u) << what;
  EXPECT_EQ(r.cycles_with_prefetch, std::stoll(row[1])) << what;
  EXPECT_EQ(r.cycles, std::stoll(row[2])) << what;
  EXPECT_EQ(r.stall_cycles, std::stoll(row[3])) << what;
  EXPECT_NEAR(r.overall_util_pct, std::stod(row[4]), 1e-9) << what;
  EXPECT_NEAR(r.mapping_efficiency_pct, std::stod(row[5]), 1e-9) << what;
  EXPECT_NEAR(r.compute_util_pct, std::stod(row[6]), 1e-9) << what;
  EXPECT_EQ(r.ifmap_stall_cycles + r.filter_stall_cycles + r.ofmap_stall_cycles, r.stall_cycles) << what;
}

TEST(Systolic, ReproducesScaleSimsOwnRegressionReports) {
  // SCALE-Sim's test scripts switch configs/scale.cfg to USER mode and one dataflow each.
  std::string cfg = slurp(kGolden + "scalesim_scale.cfg");
  cfg.replace(cfg.find("InterfaceBandwidth: CALC"), 24, "InterfaceBandwidth: USER");
  const size_t dataflow = cfg.find("Dataflow : ws");
  for (const auto& row : read_csv(kGolden + "scalesim_256x128x256.csv")) {
    cfg.replace(dataflow, 13, "Dataflow : " + row[0]);
    const SystolicConfig config = load_scalesim_config(write_temp("nibble_scale_" + row[0] + ".cfg", cfg));
    ASSERT_EQ(config.dataflow, row[0]);
    expect_report(simulate_systolic(config, {"Test 1", 256, 128, 256}), row, row[0]);
  }
}

TEST(Systolic, ReproducesScaleSimOnEveryDataflowAndBandwidthMode) {
  const std::vector<Gemm> gemms = load_gemms(kGolden + "gemms.csv");
  for (const std::string name : {"os_user", "ws_user", "is_user", "os_calc", "ws_calc", "is_calc"}) {
    const SystolicConfig config = load_scalesim_config(kGolden + name + ".cfg");
    const auto expected = read_csv(kGolden + name + ".COMPUTE_REPORT.csv");
    ASSERT_EQ(expected.size(), gemms.size());
    for (size_t i = 0; i < gemms.size(); ++i) {
      expect_report(simulate_systolic(config, gemms[i]), expected[i], name + " " + gemms[i].name);
    }
  }
}

SystolicConfig roomy(const std::string& dataflow, int rows, int cols) {
  // CALC mode with SRAMs far larger than the operands: nothing ever stalls.
  SystolicConfig c;
  c.dataflow = dataflow;
  c.rows = rows;
  c.cols = cols;
  c.ifmap_sram_bytes = c.filter_sram_bytes = c.ofmap_sram_bytes = 1 << 22;
  c.ofmap_words_per_cycle = cols;
  return c;
}

TEST(Systolic, UnstalledCyclesAreFoldsTimesFoldLength) {
  // Every fold streams its operands for T cycles plus the skew fill and drain of the array;
  // the last output leaves in the last cycle of the last fold (cycle numbers start at 0).
  const Gemm g{"g", 40, 24, 50};
  const std::int64_t r = 8, c = 4;
  struct Case {
    const char* dataflow;
    std::int64_t folds, fold_cycles;
  } cases[] = {
      {"os", (40 / r) * (24 / c), 50 + r + c - 2},           // T = K
      {"ws", ((50 + r - 1) / r) * (24 / c), 2 * r + c + 40 - 2},  // T = M
      {"is", ((50 + r - 1) / r) * (40 / c), 2 * r + c + 24 - 2},  // T = N
  };
  for (const Case& k : cases) {
    const SystolicReport rep = simulate_systolic(roomy(k.dataflow, r, c), g);
    EXPECT_EQ(rep.folds, k.folds) << k.dataflow;
    EXPECT_EQ(rep.cycles, k.folds * k.fold_cycles - 1) << k.dataflow;
    EXPECT_EQ(rep.stall_cycles, 0) << k.dataflow;
    EXPECT_NEAR(rep.overall_util_pct, 100.0 * 40 * 24 * 50 / (double(rep.cycles) * r * c), 1e-9);
  }
}

TEST(Systolic, SlowDramStallsAndFastDramDoesNot) {
  SystolicConfig c = roomy("os", 8, 8);
  c.user_bandwidth = true;
  c.ifmap_sram_bytes = c.filter_sram_bytes = 1024;  // operands do not fit: prefetches
  const Gemm g{"g", 64, 64, 256};
  c.ifmap_words_per_cycle = c.filter_words_per_cycle = 1;
  const SystolicReport slow = simulate_systolic(c, g);
  c.ifmap_words_per_cycle = c.filter_words_per_cycle = 64;
  const SystolicReport fast = simulate_systolic(c, g);
  EXPECT_GT(slow.stall_cycles, fast.stall_cycles);
  EXPECT_GT(slow.ifmap_stall_cycles + slow.filter_stall_cycles, 0);
  EXPECT_EQ(slow.cycles - slow.stall_cycles, fast.cycles - fast.stall_cycles);  // same schedule
}

TEST(Systolic, WritesScaleSimsReportFormat) {
  const SystolicConfig config = load_scalesim_config(kGolden + "os_calc.cfg");
  std::vector<SystolicReport> reports;
  for (const Gemm& g : load_gemms(kGolden + "gemms.csv")) reports.push_back(simulate_systolic(config, g));
  const std::string path = write_temp("nibble_compute_report.csv", "");
  write_compute_report(path, reports);
  EXPECT_EQ(slurp(path), slurp(kGolden + "os_calc.COMPUTE_REPORT.csv"));
}

TEST(Systolic, BadConfigsNameTheProblem) {
  std::string cfg = slurp(kGolden + "os_user.cfg");
  const auto with = [&](const std::string& from, const std::string& to) {
    std::string text = cfg;
    text.replace(text.find(from), from.size(), to);
    return write_temp("nibble_bad.cfg", text);
  };
  expect_error([&] { load_scalesim_config(with("Dataflow : os", "Dataflow : rs")); }, {"nibble_bad.cfg:14", "rs"});
  expect_error([&] { load_scalesim_config(with("ArrayHeight: 8", "ArrayHeight: -8")); }, {":5:", "ArrayHeight"});
  expect_error([&] { load_scalesim_config(with("ArrayWidth: 8\n", "")); }, {"missing 'ArrayWidth'"});
  expect_error([&] { load_scalesim_config(with("IfmapSRAMBankNum: 2", "IfmapSRAMBankNum: 3")); },
               {"IfmapSRAMBankNum", "divide"});
  expect_error([&] { load_scalesim_config(with("UseRamulatorTrace: False", "UseRamulatorTrace: True")); },
               {"Ramulator"});
  expect_error([&] { load_scalesim_config(with("InterfaceBandwidth: USER", "InterfaceBandwidth: FAST")); },
               {"USER or CALC"});
  expect_error([&] { load_scalesim_config(with("[general]", "general")); }, {":1:", "section"});
  expect_error([&] { load_scalesim_config(kGolden + "missing.cfg"); }, {"cannot open"});
}

}  // namespace
}  // namespace nibble
