#pragma once
// The vector kernels of models/ dispatch to the best Highway target the CPU has; tests run
// them on every target this CPU can run (AVX3, AVX2, SSE4, ..., the portable fallback) by
// restricting the dispatch with Highway's SetSupportedTargetsForTest. Without libhwy (the
// headers-only static build of scripts/gpu_check.sh) there is one target, the static one.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nibble/models/simd.h"

#ifdef NIBBLE_TEST_EVERY_TARGET
#include <hwy/targets.h>
#endif

namespace nibble {

inline std::vector<std::int64_t> test_targets() {
#ifdef NIBBLE_TEST_EVERY_TARGET
  return hwy::SupportedAndGeneratedTargets();
#else
  return {0};
#endif
}

inline std::string test_target_name(std::int64_t target) {
#ifdef NIBBLE_TEST_EVERY_TARGET
  return hwy::TargetName(target);
#else
  return target == 0 ? "static" : "unknown";
#endif
}

// Makes every dispatch choose `target` (0: the best supported target again).
inline void select_target(std::int64_t target) {
#ifdef NIBBLE_TEST_EVERY_TARGET
  hwy::SetSupportedTargetsForTest(target);
#else
  (void)target;
#endif
}

// Runs fn once per target, the dispatch switched to it (checked through simd_target()), and
// restores the best target; returns the targets' names.
inline std::vector<std::string> on_every_target(const std::function<void()>& fn) {
  std::vector<std::string> names;
  for (const std::int64_t target : test_targets()) {
    select_target(target);
    names.push_back(simd_target());
    if (target != 0) EXPECT_EQ(names.back(), test_target_name(target));
    SCOPED_TRACE(names.back());
    fn();
  }
  select_target(0);
  return names;
}

}  // namespace nibble
