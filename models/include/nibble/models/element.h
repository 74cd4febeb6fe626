#pragma once
// Element formats: every scalar code nibble stores, described once as data.
//
// A float spec is (bits, signed, exponent bits, mantissa bits, bias, non-finite encoding,
// subnormals); an integer spec is a two's-complement width. One generic codec (element.cpp)
// converts between float and code for every spec. Value sets, for reference:
//
//   E2M1  (FP4)  bias 1:  0, 0.5, 1, 1.5, 2, 3, 4, 6            max = 1.5 * 2^2   = 6
//   E2M3  (FP6)  bias 1:  multiples of 1/8 below 2, ...         max = 1.875 * 2^2 = 7.5
//   E3M2  (FP6)  bias 3:  min subnormal 2^-4                    max = 1.75 * 2^4  = 28
//   E4M3  (FP8)  bias 7:  no Inf, NaN = S.1111.111              max = 1.75 * 2^8  = 448
//   E5M2  (FP8)  bias 15: IEEE-like, Inf and NaN                max = 1.75 * 2^15 = 57344
//   E8M0  scale  bias 127: 2^(code-127), 0xFF = NaN, no zero    max = 2^127
//   UE4M3 scale  E4M3 without the sign bit (7 bits)             max = 448
//   FP16 / BF16  IEEE half and bfloat16, used as group scales
//   INTn         two's complement, [-2^(n-1), 2^(n-1) - 1]
#include <cstdint>
#include <string>
#include <string_view>

namespace nibble {

enum class Rounding {
  kNearestEven,  // default: round to nearest, ties to even
  kNearestAway,  // ties away from zero (microxcaling's "nearest")
};

enum class NonFinite {
  kNone,       // every code is finite (E2M1, E2M3, E3M2)
  kAllOnesNaN, // only the all-ones magnitude is NaN (E4M3 S.1111.111, E8M0 0xFF)
  kIeee,       // exponent all ones: Inf (mantissa 0) or NaN (E5M2, FP16, BF16)
};

struct ElementSpec {
  std::string_view name;
  bool is_integer;
  int bits;  // code width
  bool is_signed;
  int exp_bits;
  int man_bits;
  int bias;
  NonFinite non_finite;
  bool has_subnormals;  // false only for E8M0, whose code 0 is the normal 2^-127

  constexpr std::uint32_t code_count() const { return 1u << bits; }
  constexpr std::uint32_t magnitude_mask() const {
    return is_signed ? (code_count() >> 1) - 1 : code_count() - 1;
  }
  constexpr std::uint32_t sign_bit() const { return is_signed ? code_count() >> 1 : 0; }
  // Exponent of the smallest normal binade (and of the subnormal quantum's binade).
  constexpr int emin() const { return has_subnormals ? 1 - bias : -bias; }
  // Largest finite magnitude code.
  constexpr std::uint32_t max_code() const {
    if (is_integer) return magnitude_mask();
    switch (non_finite) {
      case NonFinite::kNone: return magnitude_mask();
      case NonFinite::kAllOnesNaN: return magnitude_mask() - 1;
      case NonFinite::kIeee: return (((1u << exp_bits) - 1) << man_bits) - 1;
    }
    return 0;
  }
  constexpr bool has_nan() const { return non_finite != NonFinite::kNone; }
  constexpr bool has_inf() const { return non_finite == NonFinite::kIeee; }
  // The canonical (positive) NaN code; only for specs with has_nan().
  constexpr std::uint32_t nan_code() const {
    return non_finite == NonFinite::kIeee ? (((1u << exp_bits) - 1) << man_bits) | 1u
                                          : magnitude_mask();
  }
  constexpr std::uint32_t inf_code() const { return ((1u << exp_bits) - 1) << man_bits; }
  // Exponent of the grid's quantum: every finite value is an integer times 2^quantum_exponent.
  constexpr int quantum_exponent() const { return is_integer ? 0 : emin() - man_bits; }
};

namespace spec {
inline constexpr ElementSpec kE2M1{"e2m1", false, 4, true, 2, 1, 1, NonFinite::kNone, true};
inline constexpr ElementSpec kE2M3{"e2m3", false, 6, true, 2, 3, 1, NonFinite::kNone, true};
inline constexpr ElementSpec kE3M2{"e3m2", false, 6, true, 3, 2, 3, NonFinite::kNone, true};
inline constexpr ElementSpec kE4M3{"e4m3", false, 8, true, 4, 3, 7, NonFinite::kAllOnesNaN, true};
inline constexpr ElementSpec kE5M2{"e5m2", false, 8, true, 5, 2, 15, NonFinite::kIeee, true};
inline constexpr ElementSpec kE8M0{"e8m0", false, 8, false, 8, 0, 127, NonFinite::kAllOnesNaN,
                                   false};
inline constexpr ElementSpec kUE4M3{"ue4m3", false, 7, false, 4, 3, 7, NonFinite::kAllOnesNaN,
                                    true};
inline constexpr ElementSpec kFP16{"fp16", false, 16, true, 5, 10, 15, NonFinite::kIeee, true};
inline constexpr ElementSpec kBF16{"bf16", false, 16, true, 8, 7, 127, NonFinite::kIeee, true};

inline constexpr ElementSpec kInt2{"int2", true, 2, true, 0, 0, 0, NonFinite::kNone, false};
inline constexpr ElementSpec kInt3{"int3", true, 3, true, 0, 0, 0, NonFinite::kNone, false};
inline constexpr ElementSpec kInt4{"int4", true, 4, true, 0, 0, 0, NonFinite::kNone, false};
inline constexpr ElementSpec kInt5{"int5", true, 5, true, 0, 0, 0, NonFinite::kNone, false};
inline constexpr ElementSpec kInt6{"int6", true, 6, true, 0, 0, 0, NonFinite::kNone, false};
inline constexpr ElementSpec kInt7{"int7", true, 7, true, 0, 0, 0, NonFinite::kNone, false};
inline constexpr ElementSpec kInt8{"int8", true, 8, true, 0, 0, 0, NonFinite::kNone, false};
}  // namespace spec

// Decodes a code of `s` (only the low s.bits bits are read). NaN codes give NaN.
double decode(const ElementSpec& s, std::uint32_t code);

// Largest finite value of a spec (constexpr-friendly mirror of decode(max_code())).
constexpr double max_value(const ElementSpec& s) {
  if (s.is_integer) return static_cast<double>(s.magnitude_mask());
  const std::uint32_t c = s.max_code();
  const int e = static_cast<int>(c >> s.man_bits);
  const double frac = 1.0 + static_cast<double>(c & ((1u << s.man_bits) - 1)) /
                                static_cast<double>(1u << s.man_bits);
  double v = frac;
  for (int i = 0; i < e - s.bias; ++i) v *= 2;
  for (int i = 0; i > e - s.bias; --i) v /= 2;
  return v;
}
static_assert(max_value(spec::kE2M1) == 6.0);
static_assert(max_value(spec::kE2M3) == 7.5);
static_assert(max_value(spec::kE3M2) == 28.0);
static_assert(max_value(spec::kE4M3) == 448.0);
static_assert(max_value(spec::kE5M2) == 57344.0);
static_assert(max_value(spec::kUE4M3) == 448.0);
static_assert(max_value(spec::kE8M0) == 0x1p127);
static_assert(max_value(spec::kFP16) == 65504.0);
static_assert(max_value(spec::kInt4) == 7.0);

// Encodes x into the nearest code of `s`.
//  - NaN: the NaN code where the spec has one; +0 for specs without NaN (block formats mark
//    such blocks through their scale, so the element code is never read).
//  - +-Inf: Inf where the spec has it; otherwise NaN where it has one; otherwise +-max.
//  - finite values beyond max: +-max when `saturate`, else Inf / NaN as above.
//  - negative values in an unsigned spec clamp to the smallest code (0; 2^-127 for E8M0,
//    which has no zero). Integer specs clamp to their full two's-complement range.
std::uint32_t encode(const ElementSpec& s, float x, Rounding rounding = Rounding::kNearestEven,
                     bool saturate = true);

// Rounds x to an integer in [lo, hi] (the element rule of every integer block format).
std::int32_t round_to_int(float x, std::int32_t lo, std::int32_t hi, Rounding rounding);

// Integer value of a code in units of 2^s.quantum_exponent() (NaN/Inf codes excluded):
// the exact element value the golden dot product multiplies.
std::int64_t decode_integer(const ElementSpec& s, std::uint32_t code);

// Looks an element spec up by name (e2m1, e4m3, fp16, int4, ...). Throws nibble::Error.
const ElementSpec& element_spec(std::string_view name);

}  // namespace nibble
