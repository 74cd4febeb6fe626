// rtl/area/area.json must describe the RTL as it is: same sources (fingerprint), same
// configurations (rtl/configs.txt), sane figures. Regenerate with rtl/area/synth_area.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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

TEST(AreaJson, MatchesTheCurrentRtlAndConfigurations) {
  const auto area = nlohmann::json::parse(slurp(kRtl / "area" / "area.json"));
  EXPECT_EQ(area.at("sources_fingerprint").get<std::string>(), fingerprint())
      << "rtl/ changed since area.json was made: run rtl/area/synth_area.py";
  EXPECT_EQ(area.at("yosys_version").get<std::string>().rfind("Yosys 0.23", 0), 0u);
  std::set<std::string> expected, recorded;
  std::istringstream configs(slurp(kRtl / "configs.txt"));
  for (std::string line; std::getline(configs, line);) {
    if (line.empty() || !std::isalpha(static_cast<unsigned char>(line[0]))) continue;
    std::istringstream fields(line);
    std::string unit, name, a, b;
    fields >> unit >> name >> a >> b;
    expected.insert(unit + ":a=" + a + ":b=" + b);
  }
  for (const auto& [name, unit] : area.at("units").items()) {
    recorded.insert(name);
    EXPECT_GT(unit.at("transistors").get<double>(), 0) << name;
    EXPECT_GT(unit.at("flip_flops").get<int>(), 64) << name;  // at least acc and the partial
    EXPECT_GT(unit.at("nand2_eq").get<double>(), unit.at("cell_count").get<double>() * 0.5) << name;
  }
  EXPECT_EQ(recorded, expected);
}

}  // namespace
}  // namespace nibble
