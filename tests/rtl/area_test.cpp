// rtl/area/area.json and rtl/gate/activity.json must describe the RTL as it is: same sources
// (fingerprint), same configurations (rtl/configs.txt), sane figures. Regenerate with
// rtl/area/synth_area.py and rtl/gate/activity.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "nibble/rtl/cosim.h"

namespace nibble {
namespace {

const std::filesystem::path kRtl = std::filesystem::path(NIBBLE_SOURCE_DIR) / "rtl";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// FNV-1a 64 over (name, NUL, contents) of every file in rtl/units (sorted) and configs.txt,
// the same fingerprint synth_area.py records.
std::string fingerprint() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kRtl / "units")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<std::pair<std::string, std::filesystem::path>> files;
  for (const auto& n : names) files.emplace_back(n, kRtl / "units" / n);
  files.emplace_back("configs.txt", kRtl / "configs.txt");
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const auto& [name, path] : files) {
    const std::string bytes = name + std::string(1, '\0') + slurp(path);
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001B3ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

std::set<std::string> configurations() {
  std::set<std::string> names;
  std::istringstream configs(slurp(kRtl / "configs.txt"));
  for (std::string line; std::getline(configs, line);) {
    if (line.empty() || !std::isalpha(static_cast<unsigned char>(line[0]))) continue;
    std::istringstream fields(line);
    std::string unit, name, a, b;
    fields >> unit >> name >> a >> b;
    names.insert(unit + ":a=" + a + ":b=" + b);
  }
  return names;
}

TEST(AreaJson, MatchesTheCurrentRtlAndConfigurations) {
  const auto area = nlohmann::json::parse(slurp(kRtl / "area" / "area.json"));
  EXPECT_EQ(area.at("sources_fingerprint").get<std::string>(), fingerprint())
      << "rtl/ changed since area.json was made: run rtl/area/synth_area.py";
  EXPECT_EQ(area.at("yosys_version").get<std::string>().rfind("Yosys 0.23", 0), 0u);
  const std::set<std::string> expected = configurations();
  std::set<std::string> recorded;
  for (const auto& [name, unit] : area.at("units").items()) {
    recorded.insert(name);
    EXPECT_GT(unit.at("transistors").get<double>(), 0) << name;
    EXPECT_GT(unit.at("flip_flops").get<int>(), 64) << name;  // at least acc and the partial
    EXPECT_GT(unit.at("nand2_eq").get<double>(), unit.at("cell_count").get<double>() * 0.5) << name;
    // A path through the FP32 adder alone is dozens of cells; no path exceeds the cell count.
    EXPECT_GT(unit.at("logic_depth").get<int>(), 20) << name;
    EXPECT_LT(unit.at("logic_depth").get<int>(), unit.at("cell_count").get<int>()) << name;
  }
  EXPECT_EQ(recorded, expected);
}

// The measured activity comes from the same netlists as the area: same fingerprint, and each
// unit's cells per type are the ones area.json counted.
TEST(ActivityJson, MatchesTheCurrentRtlAndTheAreaNetlists) {
  const auto activity = nlohmann::json::parse(slurp(kRtl / "gate" / "activity.json"));
  const auto area = nlohmann::json::parse(slurp(kRtl / "area" / "area.json"));
  EXPECT_EQ(activity.at("sources_fingerprint").get<std::string>(), fingerprint())
      << "rtl/ changed since activity.json was made: run rtl/gate/activity.py";
  const std::set<std::string> known = configurations();
  ASSERT_FALSE(activity.at("units").empty());
  for (const auto& [name, sources] : activity.at("units").items()) {
    EXPECT_TRUE(known.count(name)) << name;
    std::set<std::string> measured;
    for (const auto& [operands, entry] : sources.items()) {
      measured.insert(operands.substr(0, 3) == "lm:" ? "lm" : operands);
      // 8 blocks, the unit's latency to drain and a clear per sequence.
      EXPECT_NEAR(entry.at("cycles_per_op").get<double>(), (8.0 + cosim_latency(name) + 1) / 8, 0.01)
          << name << " " << operands;
      for (const auto& [cell, figures] : entry.at("cells").items()) {
        EXPECT_EQ(figures.at("count").get<int>(), area.at("units").at(name).at("cells").at(cell).get<int>())
            << name << " " << cell;
        EXPECT_GE(figures.at("toggles_per_op").get<double>(), 0) << name << " " << cell;
      }
    }
    EXPECT_EQ(measured, (std::set<std::string>{"random", "llm-act", "llm-weight", "lm"})) << name;
  }
}

}  // namespace
}  // namespace nibble
