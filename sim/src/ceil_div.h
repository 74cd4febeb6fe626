#pragma once
// Integer ceiling division for the simulator's counts (non-negative a, positive b).
#include <cstdint>

namespace nibble {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace nibble
