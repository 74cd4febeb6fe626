#pragma once
// When a GPU test runs, skips or fails. Kept apart from the CUDA runtime so that the CPU
// tests check it (gpu_test_policy_test.cpp); gpu/gemm_gpu_test.cpp probes the device.
#include <string>

#include "nibble/models/error.h"

namespace nibble::cuda {

enum class DeviceProbe {
  kPresent,   // at least one CUDA device
  kNoDevice,  // cudaErrorNoDevice, zero devices, or no CUDA driver installed at all
  kError,     // any other CUDA error: a broken GPU machine, never a reason to skip
};

enum class GpuTestAction { kRun, kSkip, kFail };

struct GpuTestDecision {
  GpuTestAction action;
  std::string reason;  // empty for kRun
};

// Only a missing device skips, and NIBBLE_REQUIRE_GPU=1 (GPU runners) turns that skip into a
// failure: there a skipped GPU test would pass the run without checking anything.
inline GpuTestDecision decide_gpu_test(DeviceProbe probe, const std::string& detail,
                                       bool require_gpu) {
  switch (probe) {
    case DeviceProbe::kPresent:
      return {GpuTestAction::kRun, ""};
    case DeviceProbe::kNoDevice:
      if (require_gpu) {
        return {GpuTestAction::kFail, "no CUDA device (" + detail + ") but NIBBLE_REQUIRE_GPU=1"};
      }
      return {GpuTestAction::kSkip, "no CUDA device (" + detail + ")"};
    case DeviceProbe::kError:
      break;
  }
  return {GpuTestAction::kFail, "CUDA error while looking for a device: " + detail};
}

// `value` is NIBBLE_REQUIRE_GPU's value (nullptr when unset): unset, "" or "0" is false, "1"
// true; anything else is refused rather than guessed.
inline bool parse_require_gpu(const char* value) {
  const std::string text = value == nullptr ? "" : value;
  if (text.empty() || text == "0") return false;
  if (text == "1") return true;
  throw Error("NIBBLE_REQUIRE_GPU='" + text + "' must be 0 or 1");
}

}  // namespace nibble::cuda
