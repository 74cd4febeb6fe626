#pragma once
// The vector kernels of models/ dispatch to the best Highway target the CPU has; tests run
// them on every target this CPU can run (AVX3, AVX2, SSE4, ..., the portable fallback) by
// restricting the dispatch with Highway's SetSupportedTargetsForTest. Without libhwy (the
// headers-only static build of scripts/gpu_check.sh) there is one target, the static one.
#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace nibble
