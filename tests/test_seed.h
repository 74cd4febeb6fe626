#pragma once
// Seeds of randomized tests: fixed by default so that a failure reproduces, printed, and
// overridable by NIBBLE_SEED (a decimal unsigned 32-bit integer) to try other inputs.
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "nibble/models/error.h"

namespace nibble {

// `value` is NIBBLE_SEED's value (nullptr when unset).
inline std::uint32_t parse_seed(const char* value, std::uint32_t fallback) {
  if (value == nullptr) return fallback;
  const std::string text = value;
  std::uint32_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw Error("NIBBLE_SEED='" + text + "' is not a decimal unsigned 32-bit integer");
  }
  return seed;
}

inline std::uint32_t test_seed(std::uint32_t fallback) {
  const std::uint32_t seed = parse_seed(std::getenv("NIBBLE_SEED"), fallback);
  std::cout << "[ seed     ] " << seed << " (NIBBLE_SEED overrides)\n";
  return seed;
}

}  // namespace nibble
