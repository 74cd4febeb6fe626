// Every compiled unit configuration against the golden model, bit for bit: at least 20,000
// block pairs each, random and directed (see rtl/src/dpu_cosim.cpp for the modes).
#include <gtest/gtest.h>

#include <filesystem>

#include "nibble/models/error.h"
#include "nibble/rtl/cosim.h"

namespace nibble {
namespace {

class Dpu : public ::testing::TestWithParam<std::string> {};

TEST_P(Dpu, MatchesTheGoldenDotBitForBit) {
  const std::string wave = (std::filesystem::temp_directory_path() / "nibble_dpu_mismatch.fst").string();
  const CosimReport r = run_cosim(GetParam(), 20000, /*seed=*/1, wave);
  EXPECT_GE(r.vectors, 20000);
  EXPECT_EQ(r.mismatches, 0) << r.first_mismatch << " (waveform: " << r.waveform << ")";
}

INSTANTIATE_TEST_SUITE_P(Configs, Dpu, ::testing::ValuesIn(cosim_units()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(Cosim, WritesAnFstWaveform) {
  const auto path = std::filesystem::temp_directory_path() / "nibble_trace_test.fst";
  std::filesystem::remove(path);
  trace_sequence(cosim_units().front(), 3, path.string());
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_GT(std::filesystem::file_size(path), 200u);
}

TEST(Cosim, UnknownUnitIsAnError) {
  EXPECT_THROW(run_cosim("dpu_mx:a=mxfp4:b=nvfp4", 8, 1), Error);
}

}  // namespace
}  // namespace nibble
