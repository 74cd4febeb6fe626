// Element codecs against independent references: a textbook value table per spec,
// hand-checked values from the OCP / IEEE definitions, and a brute-force nearest-value encoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "nibble/models/element.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

const ElementSpec* const kAllSpecs[] = {
    &spec::kE2M1, &spec::kE2M3, &spec::kE3M2, &spec::kE4M3, &spec::kE5M2, &spec::kE8M0,
    &spec::kUE4M3, &spec::kFP16, &spec::kBF16, &spec::kInt2, &spec::kInt3, &spec::kInt4,
    &spec::kInt5, &spec::kInt6, &spec::kInt7, &spec::kInt8};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Textbook value of a code, written from the format definitions (DESIGN.md, OCP MX v1.0,
// IEEE 754) independently of element.cpp.
double textbook_value(const ElementSpec& s, std::uint32_t code) {
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

class ElementTest : public ::testing::TestWithParam<const ElementSpec*> {};

TEST_P(ElementTest, EveryCodeDecodesToItsTextbookValue) {
  const ElementSpec& s = *GetParam();
  for (std::uint32_t c = 0; c < s.code_count(); ++c) {
    const double expected = textbook_value(s, c);
    const double got = decode(s, c);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got)) << s.name << " code " << c;
    } else {
      EXPECT_EQ(got, expected) << s.name << " code " << c;
      EXPECT_EQ(std::signbit(got), std::signbit(expected)) << s.name << " code " << c;
    }
  }
}

TEST_P(ElementTest, EncodeOfDecodeIsIdentityForEveryNonNaNCode) {
  const ElementSpec& s = *GetParam();
  for (std::uint32_t c = 0; c < s.code_count(); ++c) {
    const double v = decode(s, c);
    if (std::isnan(v)) continue;
    EXPECT_EQ(encode(s, static_cast<float>(v)), c) << s.name << " code " << c << " value " << v;
    EXPECT_EQ(encode(s, static_cast<float>(v), Rounding::kNearestAway), c) << s.name << " " << c;
  }
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

std::vector<float> dense_inputs(const BruteForce& bf) {
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

class NarrowElementTest : public ElementTest {};

TEST_P(NarrowElementTest, EncodeMatchesBruteForceNearestOnDenseInputs) {
  const ElementSpec& s = *GetParam();
  const BruteForce bf(s);
  for (float x : dense_inputs(bf)) {
    for (Rounding r : {Rounding::kNearestEven, Rounding::kNearestAway}) {
      ASSERT_EQ(encode(s, x, r), bf.nearest(x, r))
          << s.name << " x=" << x << " away=" << (r == Rounding::kNearestAway);
    }
  }
}

const auto kSpecName = [](const auto& info) { return std::string(info.param->name); };
INSTANTIATE_TEST_SUITE_P(AllSpecs, ElementTest, ::testing::ValuesIn(kAllSpecs), kSpecName);
// Brute force over every code per input: the 8-bit-and-narrower specs; FP16/BF16 below.
INSTANTIATE_TEST_SUITE_P(NarrowSpecs, NarrowElementTest,
                         ::testing::ValuesIn(std::begin(kAllSpecs), std::begin(kAllSpecs) + 7),
                         kSpecName);
INSTANTIATE_TEST_SUITE_P(IntSpecs, NarrowElementTest,
                         ::testing::ValuesIn(std::begin(kAllSpecs) + 9, std::end(kAllSpecs)),
                         kSpecName);

// FP16 and BF16 (65536 codes): ties between every pair of neighbours, by their value order.
TEST(ElementWide, SixteenBitSpecsRoundTiesToEvenAndNeighboursToNearest) {
  for (const ElementSpec* s : {&spec::kFP16, &spec::kBF16}) {
    const BruteForce bf(*s);
    const auto& v = bf.finite();
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      if (v[i].value == v[i + 1].value) continue;  // -0 / +0
      const auto mid = static_cast<float>((v[i].value + v[i + 1].value) / 2);
      const std::uint32_t even = (v[i].code & 1) == 0 ? v[i].code : v[i + 1].code;
      ASSERT_EQ(encode(*s, mid), even) << s->name << " tie " << mid;
      const Candidate& away = std::fabs(v[i].value) > std::fabs(v[i + 1].value) ? v[i] : v[i + 1];
      ASSERT_EQ(encode(*s, mid, Rounding::kNearestAway), away.code) << s->name << " " << mid;
      ASSERT_EQ(encode(*s, std::nextafter(mid, -INFINITY)), v[i].code) << s->name << " " << mid;
      ASSERT_EQ(encode(*s, std::nextafter(mid, INFINITY)), v[i + 1].code) << s->name << " " << mid;
    }
  }
}

TEST(ElementHandValues, OcpAndIeeeReferenceValues) {
  const double e2m1[] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (std::uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(decode(spec::kE2M1, c), e2m1[c]);
    EXPECT_EQ(decode(spec::kE2M1, c | 8), -e2m1[c]);
  }
  EXPECT_EQ(decode(spec::kE4M3, 0x7E), 448.0);
  EXPECT_EQ(decode(spec::kE4M3, 0xFE), -448.0);
  EXPECT_EQ(decode(spec::kE4M3, 0x08), 0x1p-6);
  EXPECT_EQ(decode(spec::kE4M3, 0x01), 0x1p-9);
  EXPECT_TRUE(std::isnan(decode(spec::kE4M3, 0x7F)));
  EXPECT_TRUE(std::isnan(decode(spec::kE4M3, 0xFF)));
  EXPECT_EQ(decode(spec::kE5M2, 0x7B), 57344.0);
  EXPECT_EQ(decode(spec::kE5M2, 0x7C), kInf);
  EXPECT_TRUE(std::isnan(decode(spec::kE5M2, 0x7D)));
  EXPECT_EQ(decode(spec::kE5M2, 0x01), 0x1p-16);
  EXPECT_EQ(decode(spec::kE3M2, 0x1F), 28.0);
  EXPECT_EQ(decode(spec::kE3M2, 0x01), 0.0625);
  EXPECT_EQ(decode(spec::kE2M3, 0x1F), 7.5);
  EXPECT_EQ(decode(spec::kE2M3, 0x01), 0.125);
  EXPECT_EQ(decode(spec::kE2M3, 0x08), 1.0);
  EXPECT_EQ(decode(spec::kE8M0, 0), 0x1p-127);
  EXPECT_EQ(decode(spec::kE8M0, 127), 1.0);
  EXPECT_EQ(decode(spec::kE8M0, 254), 0x1p127);
  EXPECT_TRUE(std::isnan(decode(spec::kE8M0, 255)));
  EXPECT_EQ(decode(spec::kUE4M3, 0x7E), 448.0);
  EXPECT_EQ(decode(spec::kUE4M3, 0x38), 1.0);
  EXPECT_TRUE(std::isnan(decode(spec::kUE4M3, 0x7F)));
  EXPECT_EQ(decode(spec::kFP16, 0x3C00), 1.0);
  EXPECT_EQ(decode(spec::kFP16, 0x7BFF), 65504.0);
  EXPECT_EQ(decode(spec::kFP16, 0x0001), 0x1p-24);
  EXPECT_EQ(decode(spec::kBF16, 0x3F80), 1.0);
  EXPECT_EQ(decode(spec::kBF16, 0x0001), 0x1p-133);
  EXPECT_EQ(decode(spec::kInt4, 0x8), -8.0);
  EXPECT_EQ(decode(spec::kInt4, 0x7), 7.0);
  EXPECT_EQ(decode(spec::kInt4, 0xF), -1.0);
}

TEST(ElementHandValues, SaturationAndNonFinite) {
  EXPECT_EQ(encode(spec::kE4M3, 1e9f), 0x7Eu);                    // saturate to 448
  EXPECT_EQ(encode(spec::kE4M3, 1e9f, Rounding::kNearestEven, /*saturate=*/false), 0x7Fu);
  EXPECT_EQ(encode(spec::kE4M3, INFINITY), 0x7Fu);                // no Inf: NaN
  EXPECT_EQ(encode(spec::kE5M2, INFINITY), 0x7Cu);                // Inf stays Inf
  EXPECT_EQ(encode(spec::kE5M2, -1e9f), 0xFBu);                   // -57344
  EXPECT_EQ(encode(spec::kE2M1, -INFINITY), 0xFu);                // no Inf/NaN: -6
  EXPECT_EQ(encode(spec::kE2M1, NAN), 0u);
  EXPECT_EQ(encode(spec::kE8M0, 0.0f), 0u);                       // no zero: 2^-127
  EXPECT_EQ(encode(spec::kE8M0, 1.5f), 128u);                     // tie rounds up (no mantissa)
  EXPECT_EQ(encode(spec::kUE4M3, -3.0f), 0u);                     // unsigned clamps at 0
  EXPECT_EQ(encode(spec::kInt4, 100.0f), 7u);
  EXPECT_EQ(encode(spec::kInt4, -100.0f), 8u);
  EXPECT_EQ(encode(spec::kInt4, 2.5f), 2u);                       // tie to even
  EXPECT_EQ(encode(spec::kInt4, 2.5f, Rounding::kNearestAway), 3u);
}

TEST(ElementSpecLookup, KnownAndUnknownNames) {
  EXPECT_EQ(&element_spec("e4m3"), &spec::kE4M3);
  EXPECT_THROW(element_spec("e9m9"), Error);
}

}  // namespace
}  // namespace nibble
