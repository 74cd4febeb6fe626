#include "dpu_mx_cosim.h"

#include "nibble/models/bits.h"

namespace nibble::rtl {

bool same_result(float rtl, float golden) {
  if (std::isnan(golden)) return std::isnan(rtl);  // NaN payloads are not part of the contract
  return std::bit_cast<std::uint32_t>(rtl) == std::bit_cast<std::uint32_t>(golden);
}

// Modes: 0-1 quantized random floats (magnitudes 2^-40..2^40), 2 raw finite codes with any
// scale, 3 raw codes with extreme scales (overflow to Inf, subnormal partials, 2% NaN),
// 4 cancellation (each odd block is the even block negated), 5 zeros.
QuantizedTensor random_operand(const BlockFormat& format, std::mt19937_64& rng, int mode) {
  // Cheap wide-range values: a uniform in [-1, 1) scaled by 2^-k, k in 0..15, one draw each
  // (vector generation, not the RTL, would otherwise bound the co-simulation rate).
  Matrix x(1, kSequence * kMxBlock);
  const float magnitude = std::ldexp(1.0f, static_cast<int>(rng() % 81) - 40);
  for (float& v : x.data) {
    const std::uint64_t bits = rng();
    const float uniform = static_cast<float>(static_cast<std::int32_t>(bits)) * 0x1p-31f;
    v = mode == 5 ? 0.0f : uniform * exp2_int(-static_cast<int>((bits >> 32) & 15)) * magnitude;
  }
  QuantizedTensor q = format.quantize(x);
  const ElementSpec& spec = element_spec(format.info().element);
  std::uint64_t pool = 0;
  int pool_bits = 0;
  const auto random_code = [&] {
    for (;;) {  // element codes from quantization are always finite
      if (pool_bits < spec.bits) {
        pool = rng();
        pool_bits = 64;
      }
      const auto c = static_cast<std::uint32_t>(pool & (spec.code_count() - 1));
      pool >>= spec.bits;
      pool_bits -= spec.bits;
      if (!spec.has_nan() || (c & spec.magnitude_mask()) <= spec.max_code()) return c;
    }
  };
  if (mode == 2 || mode == 3) {
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) pack_code(q.elements.data(), i, q.element_bits, random_code());
    for (auto& s : q.scales) {
      const auto r = static_cast<std::uint8_t>(rng());
      s = mode == 2 ? static_cast<std::uint8_t>(r % 255)
                    : (r % 50 == 0 ? 0xFF : r % 2 ? static_cast<std::uint8_t>(r % 12)
                                                  : static_cast<std::uint8_t>(254 - r % 12));
    }
  }
  if (mode == 4) {  // block 2k+1 = -(block 2k): flip sign bits (two's complement for INT8)
    for (int blk = 1; blk < kSequence; blk += 2) {
      for (int i = 0; i < kMxBlock; ++i) {
        const std::uint32_t c = unpack_code(q.elements.data(), (blk - 1) * kMxBlock + i, q.element_bits);
        const std::uint32_t neg = spec.is_integer ? (0u - c) & (spec.code_count() - 1)
                                                  : c ^ spec.sign_bit();
        const bool minimum = spec.is_integer && c == spec.sign_bit();  // -128 has no negation
        pack_code(q.elements.data(), blk * kMxBlock + i, q.element_bits, minimum ? c : neg);
      }
      q.scales[blk] = q.scales[blk - 1];
    }
  }
  return q;
}

}  // namespace nibble::rtl
