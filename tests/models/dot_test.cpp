// The golden dot product against independent references: long double arithmetic where it is
// exact, hand-built cases where the contract's rounding order decides the answer.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "nibble/models/dot.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "contract_reference.h"

namespace nibble {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed, float spread = 4) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-spread, spread);
  Matrix m(rows, cols);
  for (float& v : m.data) v = normal(rng) * std::exp2(exponent(rng));
  return m;
}

void expect_same(float got, float expected, const std::string& what) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(got)) << what;
  } else {
    EXPECT_EQ(got, expected) << what;
  }
}

TEST(RoundToFp32, MatchesLongDoubleConversion) {
  // A long double holds any int64 exactly and its conversion to float rounds once, to
  // nearest even, with subnormals and overflow: an independent reference.
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> exponent(-220, 140);
  std::uniform_int_distribution<int> width(1, 63);
  for (int i = 0; i < 200000; ++i) {
    const int w = width(rng);
    std::int64_t m = static_cast<std::int64_t>(rng() >> (64 - w));
    if (i % 3 == 0) m |= 1;                                 // odd: exercises sticky-free ties
    if (i % 7 == 0) m = (m >> 3 << 3) | 4;                  // exact ties at shift 3
    if (i % 2) m = -m;
    const int e = exponent(rng);
    const auto expected = static_cast<float>(std::ldexp(static_cast<long double>(m), e));
    ASSERT_EQ(round_to_fp32(static_cast<__int128>(m), e), expected) << m << " * 2^" << e;
  }
  EXPECT_EQ(round_to_fp32(static_cast<__int128>(1), 128), kInf);
  EXPECT_EQ(round_to_fp32(static_cast<__int128>(-1), 128), -kInf);
  EXPECT_EQ(round_to_fp32(static_cast<__int128>(1), -150), 0.0f);             // tie -> even 0
  EXPECT_EQ(round_to_fp32(static_cast<__int128>(3), -150), 0x1p-148f);        // tie -> even
  EXPECT_EQ(round_to_fp32((static_cast<__int128>(1) << 100) + 1, 0), 0x1p100f);
  // Sticky bits below the magnitude break a tie upward.
  EXPECT_EQ(round_to_fp32(static_cast<unsigned __int128>((1 << 24) + 1), 0, false, true),
            16777218.0f);
  EXPECT_EQ(round_to_fp32(static_cast<unsigned __int128>((1 << 24) + 1), 0, false, false),
            16777216.0f);
}

class DotReference : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(DotReference, GemmMatchesTheContractBitForBit) {
  const auto [fa_name, fb_name] = GetParam();
  const auto fa = make_format(fa_name), fb = make_format(fb_name);
  const QuantizedTensor a = fa->quantize(random_matrix(5, 300, 1));  // 300: a partial block
  const QuantizedTensor b = fb->quantize(random_matrix(7, 300, 2));
  const Matrix c = golden_gemm(a, b);
  for (std::int64_t i = 0; i < 5; ++i) {
    for (std::int64_t j = 0; j < 7; ++j) {
      expect_same(c.row(i)[j], reference_dot(a, i, b, j),
                  std::string(fa_name) + " x " + fb_name);
      expect_same(golden_dot(a, i, b, j), c.row(i)[j], "golden_dot vs golden_gemm");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, DotReference,
    ::testing::Values(std::pair{"mxfp4", "mxfp4"}, std::pair{"mxfp8_e4m3", "mxfp4"},
                      std::pair{"mxfp6_e2m3", "mxfp6_e3m2"}, std::pair{"mxint8", "mxfp4"},
                      std::pair{"nvfp4", "nvfp4"}, std::pair{"nvint4", "nvfp4"},
                      std::pair{"int4_g128", "int8_g128"}, std::pair{"int4_g32_asym", "int4_g32"},
                      std::pair{"int8_g32:scale=fp32", "int4_g32:scale=bf16"}),
    [](const auto& info) {
      std::string n = std::string(info.param.first) + "_x_" + info.param.second;
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

// One-element-per-block operands: block j of A holds a[j], of B holds b[j] (mxfp8_e4m3,
// block 1, so every power of two is exact and each partial is a[j] * b[j]).
float dot_of(const std::vector<float>& a, const std::vector<float>& b,
             Accumulator acc = Accumulator::kFp32, const char* format = "mxfp8_e4m3:block=1") {
  const auto f = make_format(format);
  Matrix ma(1, static_cast<std::int64_t>(a.size())), mb(1, static_cast<std::int64_t>(b.size()));
  ma.data = a;
  mb.data = b;
  return golden_dot(f->quantize(ma), 0, f->quantize(mb), 0, acc);
}

TEST(DotContract, AccumulationIsFp32InKOrder) {
  // 2^24 + 1 + 1: each +1 is a tie that rounds back to 2^24 (even); in the other order the
  // ones add first. The exact accumulator gives 2^24 + 2 either way.
  EXPECT_EQ(dot_of({0x1p12f, 1, 1}, {0x1p12f, 1, 1}), 0x1p24f);
  EXPECT_EQ(dot_of({1, 1, 0x1p12f}, {1, 1, 0x1p12f}), 0x1p24f + 2);
  EXPECT_EQ(dot_of({0x1p12f, 1, 1}, {0x1p12f, 1, 1}, Accumulator::kExact), 0x1p24f + 2);
  // Cancellation: 1 + 2^30 rounds to 2^30, minus 2^30 leaves 0; exactly it is 1.
  EXPECT_EQ(dot_of({1, 0x1p15f, 0x1p15f}, {1, 0x1p15f, -0x1p15f}), 0.0f);
  EXPECT_EQ(dot_of({1, 0x1p15f, 0x1p15f}, {1, 0x1p15f, -0x1p15f}, Accumulator::kExact), 1.0f);
}

TEST(DotContract, OverflowNaNAndSubnormals) {
  // Two partials of 2^127 overflow the FP32 accumulator to +Inf; 2^127 - 2^127 does not.
  EXPECT_EQ(dot_of({0x1p64f, 0x1p64f}, {0x1p63f, 0x1p63f}), kInf);
  EXPECT_EQ(dot_of({0x1p64f, 0x1p64f}, {0x1p63f, -0x1p63f}), 0.0f);
  EXPECT_EQ(dot_of({0x1p64f, 0x1p64f}, {0x1p63f, 0x1p63f}, Accumulator::kExact), kInf);
  // Inf + -Inf is NaN.
  EXPECT_TRUE(std::isnan(dot_of({0x1p100f, 0x1p100f, 0x1p100f}, {0x1p100f, 0x1p100f, -0x1p127f})));
  // A NaN input gives its block a NaN scale and poisons the result.
  EXPECT_TRUE(std::isnan(dot_of({1, NAN, 1}, {1, 1, 1})));
  EXPECT_TRUE(std::isnan(dot_of({1, NAN, 1}, {1, 1, 1}, Accumulator::kExact)));
  // 2^-75 * 2^-75 = 2^-150 is a tie between 0 and the smallest subnormal: even -> 0.
  EXPECT_EQ(dot_of({0x1p-75f}, {0x1p-75f}), 0.0f);
  // 2^-70 * 2^-70 = 2^-140, an exact subnormal.
  EXPECT_EQ(dot_of({0x1p-70f}, {0x1p-70f}), 0x1p-140f);
  // Three products of 2^-150 in one block sum exactly to 1.5 * 2^-149: a tie -> 2^-148.
  EXPECT_EQ(dot_of({0x1p-75f, 0x1p-75f, 0x1p-75f}, {0x1p-75f, 0x1p-75f, 0x1p-75f},
                   Accumulator::kFp32, "mxfp8_e4m3"),
            0x1p-148f);
}

TEST(DotContract, E5M2UsesWideExactSums) {
  // 32 x 57344^2 = 32 * 3288334336: each product needs 32 bits, their sum 37; it is exact in
  // double, and so is the FP32 rounding of it.
  std::vector<float> v(32, 57344.0f);
  const double exact = 32.0 * 57344.0 * 57344.0;
  EXPECT_EQ(dot_of(v, v, Accumulator::kFp32, "mxfp8_e5m2"), static_cast<float>(exact));
  // Largest and smallest E5M2 values in one block: 57344^2 + (2^-16)^2 rounds to 57344^2.
  std::vector<float> w(32, 0.0f);
  w[0] = 57344.0f;
  w[1] = 0x1p-16f * 57344.0f / 57344.0f;
  EXPECT_EQ(dot_of(w, w, Accumulator::kFp32, "mxfp8_e5m2"), 57344.0f * 57344.0f);
}

TEST(DotContract, ExactAccumulatorEqualsOneRoundingOfTheExactSum) {
  // int4 groups with FP16 scales: every partial is an integer multiple of 2^-48 below 2^50,
  // so the whole sum is an exact __int128 at exponent -48, rounded once.
  const auto f = make_format("int4_g32");
  const QuantizedTensor a = f->quantize(random_matrix(3, 32 * 40, 3, 12));
  const QuantizedTensor b = f->quantize(random_matrix(3, 32 * 40, 4, 12));
  bool some_differ = false;
  for (std::int64_t r = 0; r < 3; ++r) {
    std::vector<std::int64_t> ia(32 * 40), ib(32 * 40);
    std::vector<ExactScale> sa(40), sb(40);
    f->exact_row(a, r, {ia.data(), sa.data()});
    f->exact_row(b, r, {ib.data(), sb.data()});
    __int128 total = 0;
    for (int j = 0; j < 40; ++j) {
      __int128 s = 0;
      for (int i = 0; i < 32; ++i) s += static_cast<__int128>(ia[j * 32 + i]) * ib[j * 32 + i];
      const int shift = sa[j].exponent + sb[j].exponent + 48;
      ASSERT_GE(shift, 0);
      total += (s * sa[j].mantissa * sb[j].mantissa) << shift;
    }
    const float exact = golden_dot(a, r, b, r, Accumulator::kExact);
    EXPECT_EQ(exact, round_to_fp32(total, -48));
    some_differ = some_differ || exact != golden_dot(a, r, b, r);
  }
  EXPECT_TRUE(some_differ) << "FP32 accumulation should round differently somewhere";
}

TEST(DotContract, ResultDoesNotDependOnThreadCount) {
  const auto f = make_format("mxfp4");
  const QuantizedTensor a = f->quantize(random_matrix(37, 256, 5));
  const QuantizedTensor b = f->quantize(random_matrix(29, 256, 6));
  const Matrix c1 = golden_gemm(a, b, Accumulator::kFp32, 1);
  for (int threads : {2, 7}) {
    const Matrix c = golden_gemm(a, b, Accumulator::kFp32, threads);
    ASSERT_EQ(c.data, c1.data) << threads << " threads";
  }
}

TEST(DotContract, AccumulatorTraceHoldsEveryPrefix) {
  // The trace a DPU's accumulator is checked against: after block j it equals golden_dot of the
  // first j + 1 blocks (before tensor scales; mxfp4 has none). A NaN block poisons the rest.
  const auto f = make_format("mxfp4");
  Matrix xa = random_matrix(1, 8 * 32, 12), xb = random_matrix(1, 8 * 32, 13);
  xa.data[5 * 32 + 3] = NAN;
  const QuantizedTensor a = f->quantize(xa), b = f->quantize(xb);
  const std::vector<float> trace = golden_accumulator_trace(ExactOperand(a), 0, ExactOperand(b), 0);
  ASSERT_EQ(trace.size(), 8u);
  for (int j = 0; j < 5; ++j) {
    Matrix pa(1, (j + 1) * 32), pb(1, (j + 1) * 32);
    std::copy_n(xa.data.begin(), pa.data.size(), pa.data.begin());
    std::copy_n(xb.data.begin(), pb.data.size(), pb.data.begin());
    EXPECT_EQ(trace[j], golden_dot(f->quantize(pa), 0, f->quantize(pb), 0)) << j;
  }
  for (int j = 5; j < 8; ++j) EXPECT_TRUE(std::isnan(trace[j])) << j;
}

TEST(DotContract, MismatchedOperandsAreErrors) {
  const Matrix x = random_matrix(2, 64, 7);
  const auto mx = make_format("mxfp4"), nv = make_format("nvfp4");
  EXPECT_THROW(golden_gemm(mx->quantize(x), nv->quantize(x)), Error);  // blocks 32 vs 16
  EXPECT_THROW(golden_gemm(mx->quantize(x), mx->quantize(random_matrix(2, 96, 8))), Error);
  const auto afpq = make_format("afpq4_g128");
  EXPECT_THROW(golden_gemm(afpq->quantize(x), afpq->quantize(x)), Error);
  EXPECT_EQ(accumulator_from_name("exact"), Accumulator::kExact);
  EXPECT_THROW(accumulator_from_name("fp16"), Error);
}

}  // namespace
}  // namespace nibble
