// Block formats: vectors worked by hand from DESIGN.md, and properties on random tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "nibble/models/bits.h"
#include "nibble/models/dot.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Matrix row_of(std::vector<float> values, std::int64_t cols) {
  values.resize(static_cast<size_t>(cols), 0.0f);
  Matrix m(1, cols);
  m.data = values;
  return m;
}

struct Result {
  QuantizedTensor q;
  Matrix deq;
};

Result run(const std::string& format, const Matrix& x) {
  const auto f = make_format(format);
  Result r{f->quantize(x), {}};
  r.deq = f->dequantize(r.q);
  return r;
}

// ---- MX -------------------------------------------------------------------------------------

TEST(MxHandWorked, Mxfp4Block) {
  // amax 12: floor(log2 12) = 3, emax(E2M1) = 2, so X = 2^1 (E8M0 code 128).
  // 12/2 = 6 -> 6; 1.3/2 = 0.65 -> 0.5; -2.5/2 = -1.25 -> tie -> -1 (even); 0.3/2 = 0.15 -> 0.
  const auto r = run("mxfp4", row_of({12, 1.3f, -2.5f, 0.3f}, 32));
  EXPECT_EQ(r.q.scales[0], 128);
  EXPECT_EQ(r.deq.data[0], 12);
  EXPECT_EQ(r.deq.data[1], 1);
  EXPECT_EQ(r.deq.data[2], -2);
  EXPECT_EQ(r.deq.data[3], 0);
  // Packing: codes 7 (6.0) and 1 (0.5) share byte 0, element 0 in the low nibble;
  // byte 1 holds -1.0 (0b1010) and +0.
  EXPECT_EQ(r.q.elements[0], 0x17);
  EXPECT_EQ(r.q.elements[1], 0x0A);
  EXPECT_EQ(r.q.elements.size(), 16u);
}

TEST(MxHandWorked, AmaxJustBelowPowerOfTwoUsesExponentBits) {
  // amax = 8 (1 - 2^-24): floor(log2) = 2, X = 2^0; a float log2 rounds to 3 and gives 2^1.
  const float amax = std::nextafter(8.0f, 0.0f);
  const auto r = run("mxfp4", row_of({amax, 1.0f}, 32));
  EXPECT_EQ(r.q.scales[0], 127);
  EXPECT_EQ(r.deq.data[0], 6);  // 7.9999995 saturates to 6
  EXPECT_EQ(r.deq.data[1], 1);
}

TEST(MxHandWorked, NaNAndInfPoisonOnlyTheirBlock) {
  for (float bad : {kNaN, std::numeric_limits<float>::infinity()}) {
    std::vector<float> v(64, 1.0f);
    v[5] = bad;
    const auto r = run("mxfp8_e4m3", row_of(v, 64));
    EXPECT_EQ(r.q.scales[0], 0xFF);
    for (int i = 0; i < 32; ++i) EXPECT_TRUE(std::isnan(r.deq.data[i])) << i;
    EXPECT_EQ(r.q.scales[1], 127 - 8);  // amax 1: floor(log2 1) - emax(E4M3) = -8
    for (int i = 32; i < 64; ++i) EXPECT_EQ(r.deq.data[i], 1.0f) << i;
  }
}

TEST(MxHandWorked, ZeroBlockGetsSmallestScale) {
  const auto r = run("mxfp4", row_of({}, 32));
  EXPECT_EQ(r.q.scales[0], 0);  // 2^-127
  for (float v : r.deq.data) EXPECT_EQ(v, 0.0f);
}

TEST(MxHandWorked, ScaleOverflowAndUnderflowClamp) {
  // FLT_MAX: floor(log2) = 127, X = 2^125 (code 252); 1.99..*4 saturates to 6 -> 6 * 2^125.
  const auto big = run("mxfp4", row_of({std::numeric_limits<float>::max()}, 32));
  EXPECT_EQ(big.q.scales[0], 252);
  EXPECT_EQ(big.deq.data[0], std::ldexp(6.0f, 125));
  // CEIL on FLT_MAX would ask for 2^126, still inside; on mxint8 (emax 0) ceil gives 128 -> 127.
  const auto ceil = run("mxint8:scale=ceil", row_of({std::numeric_limits<float>::max()}, 32));
  EXPECT_EQ(ceil.q.scales[0], 254);
  // Smallest subnormal: floor(log2) = -149, X = 2^-151 clamps to 2^-127 (code 0); x / X = 2^-22
  // rounds to 0.
  const auto tiny = run("mxfp4", row_of({std::numeric_limits<float>::denorm_min()}, 32));
  EXPECT_EQ(tiny.q.scales[0], 0);
  EXPECT_EQ(tiny.deq.data[0], 0.0f);
}

TEST(MxHandWorked, Mxint8) {
  // amax 1: X = 2^(0 - 0); 0.3 * 64 = 19.2 -> 19 -> 19/64; -1 -> -64/64; symmetric range.
  const auto r = run("mxint8", row_of({1.0f, 0.3f, -1.0f}, 32));
  EXPECT_EQ(r.q.scales[0], 127);
  EXPECT_EQ(r.deq.data[1], 19.0f / 64);
  EXPECT_EQ(r.deq.data[2], -1.0f);
  // amax 1.999: X = 2^0, -1.999 * 64 = -127.9 clamps to -127 (symmetric) or -128 (full).
  EXPECT_EQ(run("mxint8", row_of({-1.999f}, 32)).deq.data[0], -127.0f / 64);
  EXPECT_EQ(run("mxint8:range=full", row_of({-1.999f}, 32)).deq.data[0], -2.0f);
}

TEST(MxHandWorked, ScaleRules) {
  // amax 5 and 7 for E2M1 (emax 2, max 6, one mantissa bit):
  //   floor: 5 -> 2-2 = 0;  7 -> 0
  //   ceil:  5 -> 3-2 = 1;  7 -> 1
  //   even:  5 = 1.25*4 rounds (half up, 1 bit) to 1.5*4 -> 0;  7 = 1.75*4 -> 2*4 -> 1
  //   rceil: 5/6 -> ceil(log2 0.83) = 0;  7/6 -> ceil(log2 1.17) = 1
  const int expected[4][2] = {{0, 0}, {1, 1}, {0, 1}, {0, 1}};
  const char* rules[4] = {"floor", "ceil", "even", "rceil"};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 2; ++j) {
      const float amax = j == 0 ? 5.0f : 7.0f;
      const auto r = run(std::string("mxfp4:scale=") + rules[i], row_of({amax}, 32));
      EXPECT_EQ(r.q.scales[0], 127 + expected[i][j]) << rules[i] << " amax " << amax;
    }
  }
}

TEST(MxHandWorked, TiesAwayOption) {
  // amax 4 -> X = 1; 0.25 is a tie between 0 and 0.5.
  EXPECT_EQ(run("mxfp4", row_of({4, 0.25f}, 32)).deq.data[1], 0.0f);
  EXPECT_EQ(run("mxfp4:round=away", row_of({4, 0.25f}, 32)).deq.data[1], 0.5f);
}

TEST(MxHandWorked, BlockOptionAndSixBitPacking) {
  const auto r = run("mxfp6_e2m3:block=16", row_of({1, 2, 3, 4}, 16));
  EXPECT_EQ(r.q.block, 16);
  // amax 4: X = 2^(2-2) = 1. Codes: 1.0 = 0b001000, 2.0 = 0b010000, 3.0 = 0b010100,
  // 4.0 = 0b011000, packed LSB first: bits 0-5, 6-11, 12-17, 18-23.
  const std::uint32_t packed = r.q.elements[0] | (r.q.elements[1] << 8) | (r.q.elements[2] << 16);
  EXPECT_EQ(packed, 0x08u | (0x10u << 6) | (0x14u << 12) | (0x18u << 18));
  EXPECT_EQ(r.q.elements.size(), 12u);  // 16 x 6 bits
}

// ---- NVFP4 / NVINT4 -------------------------------------------------------------------------

TEST(NvHandWorked, Nvfp4TwoBlocks) {
  // Tensor amax 2688 = 448 * 6 -> g = 1. Block 0: amax 2688 -> s = 448 (UE4M3 0x7E).
  // Block 1: amax 3 -> s = 0.5 (UE4M3 0x30); 3 -> 6 * 0.5; 1 -> 2 * 0.5; 0.4 -> 0.8 -> 1 -> 0.5.
  std::vector<float> v(32, 0.0f);
  v[0] = 2688;
  v[16] = 3;
  v[17] = 1;
  v[18] = 0.4f;
  const auto r = run("nvfp4", row_of(v, 32));
  EXPECT_EQ(r.q.tensor_scale, 1.0f);
  EXPECT_EQ(r.q.scales[0], 0x7E);
  EXPECT_EQ(r.q.scales[1], 0x30);
  EXPECT_EQ(r.deq.data[0], 2688);
  EXPECT_EQ(r.deq.data[16], 3);
  EXPECT_EQ(r.deq.data[17], 1);
  EXPECT_EQ(r.deq.data[18], 0.5f);
}

TEST(NvHandWorked, ZeroBlockClampsToSmallestNormalScale) {
  std::vector<float> v(32, 0.0f);
  v[0] = 2688;
  const auto r = run("nvfp4", row_of(v, 32));
  EXPECT_EQ(r.q.scales[1], 0x08);  // 2^-6, the clamp's lower bound
  const auto m = run("nvfp4:arith=modelopt", row_of(v, 32));
  EXPECT_EQ(m.q.scales[1], 0x38);  // ModelOpt: a zero scale becomes 1.0
  for (int i = 16; i < 32; ++i) EXPECT_EQ(m.deq.data[i], 0.0f);
}

TEST(NvHandWorked, Nvint4) {
  // Tensor amax 3136 = 448 * 7 -> g = 1; block 1 amax 14 -> s = 2; 14 -> 7; -3 -> -1.5 -> -2.
  std::vector<float> v(32, 0.0f);
  v[0] = 3136;
  v[16] = 14;
  v[17] = -3;
  const auto r = run("nvint4", row_of(v, 32));
  EXPECT_EQ(r.q.tensor_scale, 1.0f);
  EXPECT_EQ(r.deq.data[16], 14);
  EXPECT_EQ(r.deq.data[17], -4);
}

TEST(NvHandWorked, NaNBlockAndFiniteTensorScale) {
  std::vector<float> v(32, 1.0f);
  v[3] = kNaN;
  const auto r = run("nvfp4", row_of(v, 32));
  EXPECT_EQ(r.q.scales[0], 0x7F);
  EXPECT_TRUE(std::isfinite(r.q.tensor_scale));  // g comes from the finite values
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(std::isnan(r.deq.data[i]));
  for (int i = 16; i < 32; ++i) EXPECT_EQ(r.deq.data[i], 1.0f);
}

// ---- Integer groups and AFPQ ----------------------------------------------------------------

TEST(IntGroupHandWorked, Symmetric) {
  // amax 7 -> s = 7/7 = 1 (FP16 exact); 2.5 -> 2 (tie to even); -3.5 -> -4; 7 -> 7.
  const auto r = run("int4_g32", row_of({7, 2.5f, -3.5f}, 32));
  EXPECT_EQ(r.deq.data[0], 7);
  EXPECT_EQ(r.deq.data[1], 2);
  EXPECT_EQ(r.deq.data[2], -4);
  EXPECT_EQ(load_scale(r.q.scales.data(), 2), 0x3C00u);  // FP16 1.0
}

TEST(IntGroupHandWorked, Asymmetric) {
  // lo = -1, hi = 14: s = 15/15 = 1, z = 1; 14 -> 15, -1 -> 0, 3.5 -> 4 (tie even) + 1 = 5 -> 4.
  const auto r = run("int4_g32_asym", row_of({14, -1, 3.5f}, 32));
  EXPECT_EQ(r.q.aux[0], 1);
  EXPECT_EQ(r.deq.data[0], 14);
  EXPECT_EQ(r.deq.data[1], -1);
  EXPECT_EQ(r.deq.data[2], 4);
  EXPECT_EQ(r.deq.data[3], 0);  // zero is exact
}

TEST(IntGroupHandWorked, AsymmetricRangeBeyondFltMax) {
  // hi - lo = 6e38 overflows float (found by fuzz_format): the scale is (hi - lo) / 15 = 4e37
  // with FP32 scales, and every value is within one scale step; FP16 saturates at 65504.
  const Matrix x = row_of({3e38f, -3e38f, 1.0f}, 32);
  const auto fp32 = run("int4_g32_asym:scale=fp32", x);
  const float step = static_cast<float>(6e38 / 15);
  EXPECT_EQ(bits_float(load_scale(fp32.q.scales.data(), 4)), step);
  for (int i = 0; i < 3; ++i) EXPECT_LE(std::fabs(fp32.deq.data[i] - x.data[i]), step) << i;
  const auto fp16 = run("int4_g32_asym", x);
  for (float v : fp16.deq.data) EXPECT_TRUE(std::isfinite(v));
}

TEST(IntGroupHandWorked, ZeroGroupAndScaleFormats) {
  const auto zero = run("int4_g32", row_of({}, 32));
  EXPECT_EQ(load_scale(zero.q.scales.data(), 2), 1u);  // smallest FP16 subnormal
  EXPECT_EQ(zero.deq.data[0], 0.0f);
  // amax 1e6 overflows FP16 (65504): s saturates, elements clamp at 7 * 65504.
  const auto big = run("int4_g32", row_of({1e6f}, 32));
  EXPECT_EQ(big.deq.data[0], 7.0f * 65504.0f);
  EXPECT_EQ(run("int4_g32:scale=fp32", row_of({1e6f}, 32)).deq.data[0], 1e6f);
}

TEST(IntGroupHandWorked, Bf16ScalesOfEveryMagnitude) {
  // BF16 scales span 2^-133..2^128, beyond an int64 in units of their quantum: the group
  // {7, 2.5, -3.5} * 2^k has s = 2^k exactly (BF16 0x3F80 + k << 7), and dequantizes to
  // {7, 2, -4} * 2^k for every k, symmetric and asymmetric.
  for (int k : {-100, -20, -6, 0, 6, 20, 100}) {
    const float unit = std::ldexp(1.0f, k);
    const auto r = run("int4_g32:scale=bf16", row_of({7 * unit, 2.5f * unit, -3.5f * unit}, 32));
    EXPECT_EQ(load_scale(r.q.scales.data(), 2), static_cast<std::uint32_t>(0x3F80 + (k << 7))) << k;
    EXPECT_EQ(r.deq.data[0], 7 * unit) << k;
    EXPECT_EQ(r.deq.data[1], 2 * unit) << k;
    EXPECT_EQ(r.deq.data[2], -4 * unit) << k;
    // lo = -1, hi = 14 (times 2^k): s = 2^k, z = 1, as in the FP16 hand-worked case.
    const auto a = run("int4_g32_asym:scale=bf16", row_of({14 * unit, -unit, 3.5f * unit}, 32));
    EXPECT_EQ(a.deq.data[0], 14 * unit) << k;
    EXPECT_EQ(a.deq.data[1], -unit) << k;
    EXPECT_EQ(a.deq.data[2], 4 * unit) << k;
    // The golden dot sees the same values: x . x = (49 + 4 + 16) * 4^k (a finite, normal FP32).
    if (std::abs(k) <= 20) {
      EXPECT_EQ(golden_dot(r.q, 0, r.q, 0), 69 * unit * unit) << k;
    }
  }
}

TEST(AfpqHandWorked, SeparateScalesPerSign) {
  // pos max 6 -> s+ = 1; neg max 3 -> s- = 0.5; -1.2 / 0.5 = -2.4 -> -2 -> -1.0; 2.6 -> 2.5? no:
  // 2.6 / 1 -> between 2 and 3, nearer 3 -> 3.
  const auto r = run("afpq4_g128", row_of({6, -3, -1.2f, 2.6f}, 128));
  EXPECT_EQ(r.deq.data[0], 6);
  EXPECT_EQ(r.deq.data[1], -3);
  EXPECT_EQ(r.deq.data[2], -1.0f);
  EXPECT_EQ(r.deq.data[3], 3);
  EXPECT_FALSE(make_format("afpq4_g128")->supports_dot());
}

// ---- Registry -------------------------------------------------------------------------------

TEST(Registry, BitsPerElementOfListedFormats) {
  const std::pair<const char*, double> expected[] = {
      {"mxfp4", 4.25},        {"mxfp6_e2m3", 6.25}, {"mxfp8_e4m3", 8.25},
      {"mxint8", 8.25},       {"nvfp4", 4.5},       {"nvint4", 4.5},
      {"int4_g128", 4.125},   {"int4_g32", 4.5},    {"int4_g128_asym", 4 + 20.0 / 128},
      {"int8_g32", 8.5},      {"afpq4_g128", 4.25}, {"mxfp4:block=16", 4.5},
      {"int4_g128:scale=fp32", 4.25}};
  for (const auto& [name, bits] : expected) {
    EXPECT_DOUBLE_EQ(make_format(name)->info().bits_per_element, bits) << name;
  }
  for (const auto& name : listed_formats()) EXPECT_NO_THROW(make_format(name)) << name;
}

TEST(Registry, BadNamesAndOptionsAreOneLineErrors) {
  for (const char* bad : {"mxfp5", "mxfp4:foo=1", "mxfp4:block=24", "mxfp4:block", "mxfp4:scale=up",
                          "int9_g32", "int4_g0", "mxfp4:block=16:block=16", "nvfp4:arith=x",
                          "int4_g32:scale=e8m0", "mxfp4:range=full", "afpq4_g", ""}) {
    try {
      make_format(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_FALSE(what.empty());
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  EXPECT_EQ(make_format("mxfp4:scale=floor:block=32")->info().name, "mxfp4");
  EXPECT_EQ(make_format("mxfp4:scale=rceil")->info().name, "mxfp4:scale=rceil");
}

// ---- Properties on random tensors -----------------------------------------------------------

const char* const kGridFormats[] = {
    "mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8",
    "nvfp4", "nvint4", "int4_g128", "int8_g32", "mxfp4:scale=rceil", "mxfp4:scale=ceil",
    "mxfp4:scale=even", "mxfp4:block=16", "nvfp4:arith=modelopt", "int4_g32:scale=bf16",
    "int4_g32:scale=fp32", "mxfp4:round=away"};
const char* const kAllFormats[] = {"mxfp4", "mxfp6_e3m2", "mxfp8_e5m2", "mxint8", "nvfp4",
                                   "nvint4", "int4_g128", "int4_g32_asym", "afpq4_g128",
                                   "nvfp4:arith=modelopt"};

Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-6.0f, 6.0f);
  Matrix m(rows, cols);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float row_scale = std::exp2(exponent(rng));
    for (std::int64_t c = 0; c < cols; ++c) m.row(r)[c] = normal(rng) * row_scale;
  }
  return m;
}

class FormatProperty : public ::testing::TestWithParam<const char*> {};
class RaggedProperty : public FormatProperty {};

// The integers an element can take, in units of 2^element_exponent (asymmetric integer
// groups are excluded: their grid moves with the zero point; see the hand-worked test).
std::vector<std::int64_t> element_grid(const BlockFormat& f) {
  const FormatInfo& info = f.info();
  std::vector<std::int64_t> grid;
  if (info.element.rfind("int", 0) == 0) {
    const std::int64_t top = (std::int64_t{1} << (info.element_bits - 1)) - 1;  // symmetric
    for (std::int64_t k = -top; k <= top; ++k) grid.push_back(k);
    return grid;
  }
  const ElementSpec& e = element_spec(info.element);
  for (std::uint32_t c = 0; c < e.code_count(); ++c) {
    const double v = decode(e, c);
    if (std::isfinite(v)) grid.push_back(static_cast<std::int64_t>(std::ldexp(v, -f.element_exponent())));
  }
  return grid;
}

// Every dequantized value is the grid point (element value x decoded block scale) nearest to
// the input, up to the FP32 rounding of the scaled input (2^-18 of a grid unit).
TEST_P(FormatProperty, DequantizedValuesAreNearestGridPoints) {
  const auto f = make_format(GetParam());
  const Matrix x = random_matrix(8, 96, 11);
  const QuantizedTensor q = f->quantize(x);
  const Matrix d = f->dequantize(q);
  const std::vector<std::int64_t> grid = element_grid(*f);
  std::vector<std::int64_t> ints(static_cast<size_t>(q.padded_cols()));
  std::vector<ExactScale> scales(static_cast<size_t>(q.blocks_per_row()));
  for (std::int64_t r = 0; r < x.rows; ++r) {
    f->exact_row(q, r, {ints.data(), scales.data()});
    for (std::int64_t c = 0; c < x.cols; ++c) {
      const ExactScale& s = scales[c / q.block];
      ASSERT_FALSE(s.nan);
      const double unit = std::ldexp(static_cast<double>(s.mantissa),
                                     s.exponent + f->element_exponent()) * q.tensor_scale;
      const double xv = x.row(r)[c];
      double best = std::numeric_limits<double>::infinity();
      for (std::int64_t k : grid) best = std::min(best, std::fabs(static_cast<double>(k) * unit - xv));
      const double got = std::fabs(static_cast<double>(d.row(r)[c]) - xv);
      EXPECT_LE(got, best + unit * 0x1p-18)
          << GetParam() << " r" << r << " c" << c << " x=" << xv << " got=" << d.row(r)[c];
    }
  }
  // Nearest grid points on a grid that has gone wrong (a scale that wrapped) can all be zero;
  // every one of these formats has at least 4 bits per element, so its QSNR is well above 10 dB.
  double signal = 0, noise = 0;
  for (size_t i = 0; i < x.data.size(); ++i) {
    signal += static_cast<double>(x.data[i]) * x.data[i];
    noise += (static_cast<double>(d.data[i]) - x.data[i]) * (static_cast<double>(d.data[i]) - x.data[i]);
  }
  EXPECT_GT(10 * std::log10(signal / noise), 10.0) << GetParam();
}

TEST_P(RaggedProperty, RaggedRowsEqualZeroPaddedRows) {
  const auto f = make_format(GetParam());
  const Matrix x = random_matrix(3, 45, 5);
  Matrix padded(3, 256);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 45; ++c) padded.row(r)[c] = x.row(r)[c];
  }
  const Matrix a = f->dequantize(f->quantize(x));
  const Matrix b = f->dequantize(f->quantize(padded));
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 45; ++c) {
      EXPECT_EQ(a.row(r)[c], b.row(r)[c]) << GetParam() << " " << r << "," << c;
    }
  }
  EXPECT_EQ(a.cols, 45);
}

const auto kParamName = [](const auto& info) {
  std::string n = info.param;
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
};
INSTANTIATE_TEST_SUITE_P(Formats, FormatProperty, ::testing::ValuesIn(kGridFormats), kParamName);
INSTANTIATE_TEST_SUITE_P(Formats, RaggedProperty, ::testing::ValuesIn(kAllFormats), kParamName);

}  // namespace
}  // namespace nibble
