#include "nibble/models/scale.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "nibble/models/bits.h"
#include "nibble/models/error.h"

namespace nibble {

ExactScale exact_float(float v) {
  if (!std::isfinite(v)) return {0, 0, true};
  if (v == 0) return {0, 0, false};
  const int e = std::max(floor_log2(v), -126) - 23;
  return {static_cast<std::int64_t>(std::ldexp(static_cast<double>(v), -e)), e, false};
}

std::uint32_t ScaleSpec::encode_positive(float s) const {
  if (!spec) return float_bits(s);
  const std::uint32_t code = encode(*spec, s);
  if (s > 0 && decode(code) == 0) return smallest_positive();
  return code;
}

float ScaleSpec::decode(std::uint32_t code) const {
  return spec ? static_cast<float>(nibble::decode(*spec, code)) : bits_float(code);
}

namespace {
constexpr bool fits_float(const ElementSpec& s) { return s.exp_bits <= 8 && s.man_bits <= 23; }
static_assert(fits_float(spec::kFP16) && fits_float(spec::kBF16) && fits_float(spec::kE8M0) &&
              fits_float(spec::kUE4M3));
}  // namespace

ExactScale ScaleSpec::exact(std::uint32_t code) const {
  if (!spec) return exact_float(bits_float(code));
  // Every scale spec's values are floats (at most 8 exponent and 23 mantissa bits), so the
  // float form is exact. Not decode_integer: a BF16 or E8M0 scale in units of its quantum
  // (2^-133, 2^-127) needs up to 261 bits.
  const double v = nibble::decode(*spec, code);
  if (!std::isfinite(v)) return {0, 0, true};
  return exact_float(static_cast<float>(v));
}

std::uint32_t ScaleSpec::smallest_positive() const {
  if (!spec) return 1;  // the smallest FP32 subnormal
  return spec->has_subnormals ? 1 : 0;
}

std::uint32_t ScaleSpec::nan_code() const {
  return spec ? spec->nan_code() : float_bits(std::numeric_limits<float>::quiet_NaN());
}

ScaleSpec scale_spec(std::string_view name) {
  if (name == "fp32") return {nullptr};
  if (name == "fp16" || name == "bf16" || name == "e8m0" || name == "ue4m3") {
    return {&element_spec(name)};
  }
  throw Error("unknown scale format '" + std::string(name) +
              "' (known: fp16, bf16, fp32, e8m0, ue4m3)");
}

std::uint32_t load_scale(const std::uint8_t* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint32_t{p[i]} << (8 * i);
  return v;
}

void store_scale(std::uint8_t* p, int bytes, std::uint32_t code) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(code >> (8 * i));
}

}  // namespace nibble
