#pragma once
// Fast E2M1 encoder for the MXFP4 and NVFP4 hot loops; tests check it against the generic
// engine (element.cpp) on every float class. It counts the rounding thresholds |v| passes:
//
//   value  0    0.5    1    1.5    2    3    4    6
//   code   0     1     2     3     4    5    6    7
//   tie      .25   .75  1.25  1.75  2.5  3.5   5
//
// Ties go to the even code, so a tie above an odd code (0.75, 1.75, 3.5) rounds up (>=) and a
// tie above an even code (0.25, 1.25, 2.5, 5) rounds down (>). Branch-free, so the loop
// vectorizes. NaN inputs give 0: their block's scale carries the NaN.
#include <cstdint>

#include "nibble/models/bits.h"
#include "nibble/models/element.h"

namespace nibble {

template <Rounding kRounding>
inline std::uint8_t e2m1_code(float v) {
  const float a = bits_float(float_bits(v) & 0x7FFFFFFFu);
  const auto sign = static_cast<std::uint8_t>((float_bits(v) >> 28) & 0x8u);
  std::uint8_t m;
  if constexpr (kRounding == Rounding::kNearestEven) {
    m = static_cast<std::uint8_t>((a > 0.25f) + (a >= 0.75f) + (a > 1.25f) + (a >= 1.75f) +
                                  (a > 2.5f) + (a >= 3.5f) + (a > 5.0f));
  } else {
    m = static_cast<std::uint8_t>((a >= 0.25f) + (a >= 0.75f) + (a >= 1.25f) + (a >= 1.75f) +
                                  (a >= 2.5f) + (a >= 3.5f) + (a >= 5.0f));
  }
  return static_cast<std::uint8_t>(sign | m);
}

// codes[i] = E2M1(x[i] * multiplier) for i < n.
inline void encode_e2m1_scaled(const float* x, int n, float multiplier, Rounding rounding,
                               std::uint8_t* codes) {
  if (rounding == Rounding::kNearestEven) {
    for (int i = 0; i < n; ++i) codes[i] = e2m1_code<Rounding::kNearestEven>(x[i] * multiplier);
  } else {
    for (int i = 0; i < n; ++i) codes[i] = e2m1_code<Rounding::kNearestAway>(x[i] * multiplier);
  }
}

// Largest |x[i]| as FP32 bits: NaN and Inf compare above every finite value, so the result
// is >= 0x7F800000 exactly when the block holds a non-finite value.
inline std::uint32_t amax_bits(const float* x, int n) {
  std::uint32_t m = 0;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t b = float_bits(x[i]) & 0x7FFFFFFFu;
    m = b > m ? b : m;
  }
  return m;
}

}  // namespace nibble
