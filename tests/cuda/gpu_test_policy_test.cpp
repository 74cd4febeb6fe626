// The GPU tests' skip/fail rule and the seed override, on the CPU.
#include "gpu_test_policy.h"

#include <gtest/gtest.h>

#include "expect_error.h"
#include "test_seed.h"

namespace nibble::cuda {
namespace {

TEST(GpuTestPolicy, RunsWithADevice) {
  for (const bool require : {false, true}) {
    const GpuTestDecision d = decide_gpu_test(DeviceProbe::kPresent, "", require);
    EXPECT_EQ(d.action, GpuTestAction::kRun);
    EXPECT_EQ(d.reason, "");
  }
}

TEST(GpuTestPolicy, SkipsWithoutADeviceUnlessAGpuIsRequired) {
  const GpuTestDecision skip = decide_gpu_test(DeviceProbe::kNoDevice, "0 devices", false);
  EXPECT_EQ(skip.action, GpuTestAction::kSkip);
  EXPECT_EQ(skip.reason, "no CUDA device (0 devices)");
  const GpuTestDecision fail = decide_gpu_test(DeviceProbe::kNoDevice, "0 devices", true);
  EXPECT_EQ(fail.action, GpuTestAction::kFail);
  EXPECT_EQ(fail.reason, "no CUDA device (0 devices) but NIBBLE_REQUIRE_GPU=1");
}

TEST(GpuTestPolicy, FailsOnAnyOtherCudaErrorEvenWhenNoGpuIsRequired) {
  for (const bool require : {false, true}) {
    const GpuTestDecision d = decide_gpu_test(DeviceProbe::kError, "cudaErrorInitializationError", require);
    EXPECT_EQ(d.action, GpuTestAction::kFail);
    EXPECT_EQ(d.reason, "CUDA error while looking for a device: cudaErrorInitializationError");
  }
}

TEST(GpuTestPolicy, RequireGpuIsZeroOrOne) {
  EXPECT_FALSE(parse_require_gpu(nullptr));
  EXPECT_FALSE(parse_require_gpu(""));
  EXPECT_FALSE(parse_require_gpu("0"));
  EXPECT_TRUE(parse_require_gpu("1"));
  for (const char* bad : {"yes", "true", "2", " 1", "1 "}) {
    expect_error([&] { parse_require_gpu(bad); }, {"NIBBLE_REQUIRE_GPU='", bad, "must be 0 or 1"});
  }
}

TEST(TestSeed, FixedUnlessOverridden) {
  EXPECT_EQ(parse_seed(nullptr, 7), 7u);
  EXPECT_EQ(parse_seed("0", 7), 0u);
  EXPECT_EQ(parse_seed("4294967295", 7), 4294967295u);
  for (const char* bad : {"", "-1", "4294967296", "12x", "0x10", " 5"}) {
    expect_error([&] { parse_seed(bad, 7); }, {"NIBBLE_SEED='", "decimal unsigned 32-bit"});
  }
}

}  // namespace
}  // namespace nibble::cuda
