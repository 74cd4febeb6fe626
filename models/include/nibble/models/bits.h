#pragma once
// FP32 bit-level helpers shared by the codecs, the scale rules and the golden dot product.
#include <bit>
#include <cstdint>

namespace nibble {

inline std::uint32_t float_bits(float x) { return std::bit_cast<std::uint32_t>(x); }
inline float bits_float(std::uint32_t b) { return std::bit_cast<float>(b); }

// floor(log2(|x|)) for finite non-zero x, read from the exponent bits (subnormals included).
// A float log2 would round 2^k * (1 - 2^-24) up to k; the bits give k - 1.
inline int floor_log2(float x) {
  const std::uint32_t b = float_bits(x) & 0x7FFFFFFFu;
  const int biased = static_cast<int>(b >> 23);
  if (biased != 0) return biased - 127;
  return (31 - std::countl_zero(b)) - 149;  // subnormal: value = b * 2^-149
}

// 2^e as a float for e in [-149, 127], built from bits so it is exact and needs no libm.
inline float exp2_int(int e) {
  if (e >= -126) return bits_float(static_cast<std::uint32_t>(e + 127) << 23);
  return bits_float(1u << (e + 149));
}

}  // namespace nibble
