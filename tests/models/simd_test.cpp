#include "nibble/models/simd.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace nibble {
namespace {

TEST(SimdTarget, IsOneOfHighwaysTargets) {
  const std::set<std::string> known = {"AVX3_ZEN4", "AVX3_DL", "AVX3", "AVX2", "SSE4", "SSSE3",
                                       "SVE2_128", "SVE_256", "SVE2", "SVE", "NEON", "WASM_EMU256",
                                       "WASM", "RVV", "PPC8", "EMU128", "SCALAR"};
  EXPECT_TRUE(known.count(simd_target())) << simd_target();
}

}  // namespace
}  // namespace nibble
