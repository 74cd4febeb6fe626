// Every compiled dpu_mx configuration against the golden model, bit for bit: at least 20,000
// block pairs each, random and directed (see rtl/src/dpu_mx_cosim.cpp for the modes).
#include <gtest/gtest.h>

#include <filesystem>

#include "nibble/models/error.h"
#include "nibble/rtl/cosim.h"

namespace nibble {
namespace {

class DpuMx : public ::testing::TestWithParam<std::string> {};

TEST_P(DpuMx, MatchesTheGoldenDotBitForBit) {
  const std::string wave = (std::filesystem::temp_directory_path() / "nibble_dpu_mx_mismatch.fst").string();
  const CosimReport r = run_cosim(GetParam(), 20000, /*seed=*/1, wave);
  EXPECT_GE(r.vectors, 20000);
  EXPECT_EQ(r.mismatches, 0) << r.first_mismatch << " (waveform: " << r.waveform << ")";
}

INSTANTIATE_TEST_SUITE_P(Configs, DpuMx, ::testing::ValuesIn(cosim_units()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(Cosim, UnknownUnitIsAnError) {
  EXPECT_THROW(run_cosim("dpu_mx:a=mxfp4:b=nvfp4", 8, 1), Error);
}

}  // namespace
}  // namespace nibble
