#include "nibble/models/element.h"

#include <array>
#include <cmath>
#include <limits>

#include "nibble/models/bits.h"
#include "nibble/models/checked.h"
#include "nibble/models/error.h"

namespace nibble {

double decode(const ElementSpec& s, std::uint32_t code) {
  code &= s.code_count() - 1;
  const bool negative = s.is_signed && (code & s.sign_bit());
  if (s.is_integer) {
    return negative ? static_cast<double>(static_cast<std::int64_t>(code) - s.code_count())
                    : static_cast<double>(code);
  }
  const std::uint32_t magnitude = code & s.magnitude_mask();
  const double sign = negative ? -1.0 : 1.0;
  if (s.non_finite == NonFinite::kAllOnesNaN && magnitude == s.magnitude_mask()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const std::uint32_t exp_field = magnitude >> s.man_bits;
  const std::uint32_t man_field = magnitude & ((1u << s.man_bits) - 1);
  if (s.non_finite == NonFinite::kIeee && exp_field == (1u << s.exp_bits) - 1) {
    return man_field ? std::numeric_limits<double>::quiet_NaN()
                     : sign * std::numeric_limits<double>::infinity();
  }
  if (exp_field == 0 && s.has_subnormals) {
    return sign * std::ldexp(static_cast<double>(man_field), s.quantum_exponent());
  }
  const double significand = static_cast<double>((1u << s.man_bits) | man_field);
  return sign * std::ldexp(significand, static_cast<int>(exp_field) - s.bias - s.man_bits);
}

std::int64_t decode_integer(const ElementSpec& s, std::uint32_t code) {
  // Wide-range specs (BF16: quantum 2^-133, E8M0: 2^-127) have codes whose integer form does
  // not fit; callers take those through exact_float instead, and this stays a checked cast.
  return checked_int64(std::ldexp(decode(s, code), -s.quantum_exponent()),
                       "integer form of a " + std::string(s.name) + " code");
}

namespace {

// Rounds a non-negative double that is an exact multiple of 1/2 (or finer) to an integer.
// Every caller passes a value whose fractional part is exact, so ties are genuine ties.
double round_integer(double v, Rounding rounding) {
  return rounding == Rounding::kNearestEven ? std::nearbyint(v) : std::round(v);
}

std::uint32_t overflow_code(const ElementSpec& s, bool infinite, bool saturate) {
  if (infinite || !saturate) {
    if (s.has_inf()) return s.inf_code();
    if (s.has_nan()) return s.nan_code();
  }
  return s.max_code();
}

}  // namespace

std::int32_t round_to_int(float x, std::int32_t lo, std::int32_t hi, Rounding rounding) {
  if (std::isnan(x)) return 0;
  const double r = rounding == Rounding::kNearestEven ? std::nearbyint(static_cast<double>(x))
                                                      : std::round(static_cast<double>(x));
  if (r < lo) return lo;
  if (r > hi) return hi;
  return static_cast<std::int32_t>(r);
}

// The one conversion engine, in numbered steps. Every value below is exact in double: the
// input is a float (24-bit significand) and each step scales by powers of two.
std::uint32_t encode(const ElementSpec& s, float x, Rounding rounding, bool saturate) {
  // 1. Integers: round, clamp, two's complement.
  if (s.is_integer) {
    const auto lo = -static_cast<std::int32_t>(s.sign_bit());
    const auto hi = static_cast<std::int32_t>(s.magnitude_mask());
    return static_cast<std::uint32_t>(round_to_int(x, lo, hi, rounding)) & (s.code_count() - 1);
  }

  // 2. Non-finite inputs.
  if (std::isnan(x)) return s.has_nan() ? s.nan_code() : 0;
  const bool negative = std::signbit(x);
  if (negative && !s.is_signed) return 0;  // unsigned scale specs clamp at their minimum
  const std::uint32_t sign = negative ? s.sign_bit() : 0;
  if (std::isinf(x)) return sign | overflow_code(s, /*infinite=*/true, saturate);

  // 3. Zero (E8M0 has none: its smallest code stands in).
  const double a = std::fabs(static_cast<double>(x));
  if (a == 0) return sign;

  // 4. Round to the grid of the binade that holds a. Below 2^emin the grid is the subnormal
  //    quantum 2^(emin - m); E8M0 (no subnormals) rounds to 2^emin there.
  //
  //      binade [2^e, 2^(e+1)):   | 1.000 | 1.001 | ... | 1.111 |  step 2^(e - m)
  //
  //    n = a / step is exact; rounding n to an integer with ties to even makes the mantissa's
  //    last bit even. n == 2^(m+1) carries into the next binade, which step 5 encodes.
  const int e = std::max(floor_log2(static_cast<float>(a)), s.emin());
  const double step = std::ldexp(1.0, e - s.man_bits);
  double n = round_integer(a / step, rounding);
  if (!s.has_subnormals && n == 0) n = 1;
  const double r = n * step;

  // 5. Saturate: beyond the largest finite value.
  if (r > max_value(s)) return sign | overflow_code(s, /*infinite=*/false, saturate);

  // 6. Assemble exponent and mantissa fields.
  if (r < std::ldexp(1.0, s.emin())) {  // subnormal (or zero after rounding)
    return sign | static_cast<std::uint32_t>(n);
  }
  const int re = floor_log2(static_cast<float>(r));
  const auto exp_field = static_cast<std::uint32_t>(re + s.bias);
  const auto man_field =
      static_cast<std::uint32_t>(std::ldexp(r, s.man_bits - re)) - (1u << s.man_bits);
  return sign | (exp_field << s.man_bits) | man_field;
}

const ElementSpec& element_spec(std::string_view name) {
  static constexpr std::array<const ElementSpec*, 16> kAll = {
      &spec::kE2M1, &spec::kE2M3, &spec::kE3M2, &spec::kE4M3, &spec::kE5M2, &spec::kE8M0,
      &spec::kUE4M3, &spec::kFP16, &spec::kBF16, &spec::kInt2, &spec::kInt3, &spec::kInt4,
      &spec::kInt5, &spec::kInt6, &spec::kInt7, &spec::kInt8};
  for (const ElementSpec* s : kAll) {
    if (s->name == name) return *s;
  }
  throw Error("unknown element format '" + std::string(name) +
              "' (known: e2m1, e2m3, e3m2, e4m3, e5m2, e8m0, ue4m3, fp16, bf16, int2..int8)");
}

}  // namespace nibble
