#pragma once
// Seeds of randomized tests: fixed by default, so that every run checks the same cases and a
// failure reproduces; NIBBLE_SEED=<n> explores others. The seed in use is printed.
#include <cstdint>
#include <cstdlib>
#include <iostream>

namespace nibble {

inline std::uint64_t test_seed(std::uint64_t fixed) {
  const char* env = std::getenv("NIBBLE_SEED");
  const std::uint64_t seed = env && *env ? std::strtoull(env, nullptr, 0) : fixed;
  std::cout << "seed " << seed << (env && *env ? " (from NIBBLE_SEED)" : " (NIBBLE_SEED overrides)")
            << "\n";
  return seed;
}

}  // namespace nibble
