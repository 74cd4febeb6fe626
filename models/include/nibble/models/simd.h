#pragma once
// SIMD in models/ goes through Highway with runtime dispatch: a translation unit with vector
// code defines HWY_TARGET_INCLUDE to its own path and includes <hwy/foreach_target.h> before
// <hwy/highway.h>, so that it is compiled once per target; HWY_EXPORT and
// HWY_DYNAMIC_DISPATCH then call the version for the best target the running CPU has
// (models/src/simd_target.cpp is the smallest example). No -march flag is needed or used.
#include <string>

namespace nibble {

// Highway's name of the target the dispatched code runs on here ("AVX3", "AVX2", "SSE4",
// "NEON", "EMU128", ...); benchmarks record it beside their figures.
std::string simd_target();

}  // namespace nibble
