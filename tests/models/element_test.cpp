// Element codecs against independent references: a textbook value table per spec,
// hand-checked values from the OCP / IEEE definitions, and a brute-force nearest-value encoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "element_reference.h"
#include "nibble/models/element.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

const ElementSpec* const kAllSpecs[] = {
    &spec::kE2M1, &spec::kE2M3, &spec::kE3M2, &spec::kE4M3, &spec::kE5M2, &spec::kE8M0,
    &spec::kUE4M3, &spec::kFP16, &spec::kBF16, &spec::kInt2, &spec::kInt3, &spec::kInt4,
    &spec::kInt5, &spec::kInt6, &spec::kInt7, &spec::kInt8};

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
