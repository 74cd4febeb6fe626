#pragma once
// Independent references for element codecs, shared by the element tests and the tests of
// the vector kernels: the textbook value of every code and a brute-force nearest-value
// encoder, and the dense input set (every grid value, every tie, their neighbours, values
// beyond the range, FP32 subnormals, NaN and Inf) built from them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "nibble/models/element.h"

namespace nibble {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Textbook value of a code, written from the format definitions (DESIGN.md, OCP MX v1.0,
// IEEE 754) independently of element.cpp.
inline double textbook_value(const ElementSpec& s, std::uint32_t code) {
  if (s.is_integer) {
    const auto half = static_cast<std::int64_t>(1) << (s.bits - 1);
    const auto v = static_cast<std::int64_t>(code);
    return static_cast<double>(v >= half ? v - 2 * half : v);
  }
  const int sign_shift = s.exp_bits + s.man_bits;
  const bool negative = s.is_signed && ((code >> sign_shift) & 1);
  const std::uint32_t e = (code >> s.man_bits) & ((1u << s.exp_bits) - 1);
  const std::uint32_t m = code & ((1u << s.man_bits) - 1);
  const std::uint32_t e_all = (1u << s.exp_bits) - 1, m_all = (1u << s.man_bits) - 1;
  const std::string name(s.name);
  if ((name == "e4m3" || name == "ue4m3") && e == e_all && m == m_all) return kNaN;
  if (name == "e8m0" && e == e_all) return kNaN;
  if ((name == "e5m2" || name == "fp16" || name == "bf16") && e == e_all) {
    return m ? kNaN : (negative ? -kInf : kInf);
  }
  double v;
  if (e == 0 && name != "e8m0") {
    v = std::ldexp(static_cast<double>(m), 1 - s.bias - s.man_bits);
  } else {
    v = std::ldexp(1.0 + static_cast<double>(m) / (1u << s.man_bits),
                   static_cast<int>(e) - s.bias);
  }
  return negative ? -v : v;
}

// Brute-force nearest finite code: candidates sorted by value, the two neighbours of x
// compared in double. Ties (and +-0) follow DESIGN.md: to the even mantissa / even integer
// (ties away from zero in kNearestAway); E8M0 has no mantissa bit and rounds ties up; a zero
// result keeps the sign of x.
struct Candidate {
  double value;
  std::uint32_t code;
};

class BruteForce {
 public:
  explicit BruteForce(const ElementSpec& s) : s_(s) {
    for (std::uint32_t c = 0; c < s.code_count(); ++c) {
      const double v = textbook_value(s, c);
      if (std::isfinite(v)) finite_.push_back({v, c});
    }
    std::sort(finite_.begin(), finite_.end(),
              [](const Candidate& a, const Candidate& b) { return a.value < b.value; });
  }

  std::uint32_t nearest(float xf, Rounding rounding) const {
    const double x = xf;
    if (std::isnan(x)) return s_.has_nan() ? s_.nan_code() : 0;
    if (std::isinf(x)) {
      if (x < 0 && !s_.is_signed) return finite_.front().code;
      const std::uint32_t sign = x < 0 ? s_.sign_bit() : 0;
      if (s_.has_inf()) return sign | s_.inf_code();
      if (s_.has_nan() && !s_.is_integer) return sign | s_.nan_code();
      return x < 0 ? finite_.front().code : finite_.back().code;
    }
    if (x == 0 && s_.is_signed && !s_.is_integer) return std::signbit(x) ? s_.sign_bit() : 0;
    // Beyond the range the nearest value is the end of the range (distances would round).
    if (x >= finite_.back().value) return finite_.back().code;
    if (x <= finite_.front().value) return finite_.front().code;
    const Candidate* best = nullptr;
    for (const Candidate& c : finite_) {
      if (!best || better(c, *best, x, rounding)) best = &c;
    }
    return best->code;
  }

  const std::vector<Candidate>& finite() const { return finite_; }

 private:
  bool better(const Candidate& a, const Candidate& b, double x, Rounding rounding) const {
    const double da = std::fabs(a.value - x), db = std::fabs(b.value - x);
    if (da != db) return da < db;
    if (a.value == b.value) {  // +0 and -0: keep the sign of x
      return std::signbit(a.value) == std::signbit(x) && std::signbit(b.value) != std::signbit(x);
    }
    if (rounding == Rounding::kNearestAway || (s_.man_bits == 0 && !s_.is_integer)) {
      return std::fabs(a.value) > std::fabs(b.value);
    }
    return (a.code & 1) == 0;  // the even mantissa (even integer for INTn)
  }

  const ElementSpec& s_;
  std::vector<Candidate> finite_;
};

inline std::vector<float> dense_inputs(const BruteForce& bf) {
  std::vector<float> xs;
  const auto add = [&](double v) {
    const auto f = static_cast<float>(v);
    xs.push_back(f);
    xs.push_back(std::nextafter(f, std::numeric_limits<float>::infinity()));
    xs.push_back(std::nextafter(f, -std::numeric_limits<float>::infinity()));
  };
  const auto& values = bf.finite();
  for (size_t i = 0; i < values.size(); ++i) {
    add(values[i].value);
    if (i + 1 < values.size()) add((values[i].value + values[i + 1].value) / 2);  // exact tie
  }
  const double max = values.back().value;
  for (double v : {max * 1.5, max * 2, max * 1e6, 1e-30, 1e-40, 1e-45, 0.0}) {
    add(v);
    add(-v);
  }
  for (float v : {std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), -0.0f,
                  std::numeric_limits<float>::quiet_NaN()}) {
    xs.push_back(v);
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-40, 20);
  for (int i = 0; i < 2000; ++i) {
    const double v = std::ldexp(mantissa(rng), exponent(rng)) * (i % 2 ? -1 : 1);
    xs.push_back(static_cast<float>(v));
  }
  return xs;
}

}  // namespace nibble
