#pragma once
// Overflow-checked arithmetic for sizes and conversions. Sizes that come from files and options
// (shapes, dimensions, counts, byte totals) are combined here rather than with a plain * or +,
// so that a product that would wrap becomes a nibble::Error naming what overflowed instead of a
// small, plausible and wrong number.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "nibble/models/error.h"

namespace nibble {

// a * b; throws "<what>: a x b overflows 64-bit integers".
inline std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) {
    throw Error(std::string(what) + ": " + std::to_string(a) + " x " + std::to_string(b) +
                " overflows 64-bit integers");
  }
  return product;
}

// Whether v converts to int64 without undefined behaviour (finite and within [-2^63, 2^63)).
// A float-to-integer cast outside the target's range is undefined, not saturating.
inline bool fits_int64(double v) { return v >= -0x1p63 && v < 0x1p63; }

// v as an int64 when it is an integer of that range; throws naming `what` otherwise.
inline std::int64_t checked_int64(double v, std::string_view what) {
  if (!fits_int64(v) || v != std::trunc(v)) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    throw Error(std::string(what) + ": " + text + " is not a 64-bit integer");
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace nibble
