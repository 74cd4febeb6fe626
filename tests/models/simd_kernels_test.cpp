// The vector kernels of the quantizers (models/src/formats/fast_paths.cpp) against the scalar
// engine of element.cpp (encode, decode, round_to_int), code for code and bit for bit, on
// every Highway target this CPU runs: element encode and decode on the dense input sets of
// the element tests, the block kernels under every element rule, and whole formats on random
// tensors against block-by-block scalar quantizers written from the format definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "element_reference.h"
#include "every_target.h"
#include "formats/fast_paths.h"
#include "nibble/models/bits.h"
#include "nibble/models/registry.h"
#include "nibble/models/scale.h"
#include "nibble/models/simd.h"

namespace nibble {
namespace {

constexpr Rounding kRoundings[] = {Rounding::kNearestEven, Rounding::kNearestAway};

// Every spec the vector engine serves (all but E8M0, whose missing zero MX scales avoid).
const ElementSpec* const kVectorSpecs[] = {&spec::kE2M1, &spec::kE2M3,  &spec::kE3M2, &spec::kE4M3,
                                           &spec::kE5M2, &spec::kUE4M3, &spec::kFP16, &spec::kBF16,
                                           &spec::kInt2, &spec::kInt3,  &spec::kInt4, &spec::kInt5,
                                           &spec::kInt6, &spec::kInt7,  &spec::kInt8};
// The element specs of the block formats.
const ElementSpec* const kElementSpecs[] = {&spec::kE2M1, &spec::kE2M3, &spec::kE3M2,
                                            &spec::kE4M3, &spec::kE5M2, &spec::kInt2,
                                            &spec::kInt3, &spec::kInt4, &spec::kInt8};

bool same_bits(float a, float b) { return float_bits(a) == float_bits(b); }

class KernelTest : public ::testing::TestWithParam<std::int64_t> {
 protected:
  void SetUp() override { select_target(GetParam()); }
  void TearDown() override { select_target(0); }
};

INSTANTIATE_TEST_SUITE_P(EveryTarget, KernelTest, ::testing::ValuesIn(test_targets()),
                         [](const auto& info) { return test_target_name(info.param); });

#ifdef NIBBLE_TEST_EVERY_TARGET
TEST_P(KernelTest, DispatchChoosesTheSelectedTarget) {
  EXPECT_EQ(simd_target(), test_target_name(GetParam()));
}
#endif

TEST_P(KernelTest, EncodeArrayMatchesTheEngineOnDenseInputs) {
  for (const ElementSpec* s : kVectorSpecs) {
    std::vector<float> xs = dense_inputs(BruteForce(*s));
    xs.push_back(-std::numeric_limits<float>::quiet_NaN());
    if (xs.size() % 2 == 0) xs.push_back(0.0f);  // an odd count: the one-lane tail too
    std::vector<std::uint32_t> codes(xs.size());
    for (Rounding r : kRoundings) {
      encode_array(*s, r, xs.data(), static_cast<std::int64_t>(xs.size()), codes.data());
      for (size_t i = 0; i < xs.size(); ++i) {
        ASSERT_EQ(codes[i], encode(*s, xs[i], r))
            << s->name << " x=" << xs[i] << " away=" << (r == Rounding::kNearestAway);
      }
    }
  }
}

TEST_P(KernelTest, DecodeArrayMatchesTheEngineOnEveryCode) {
  for (const ElementSpec* s : kVectorSpecs) {
    std::vector<std::uint32_t> codes;
    for (std::uint32_t c = 0; c < s->code_count(); ++c) {
      codes.push_back(c);
      codes.push_back(c | (0xA5A5u << s->bits));  // bits above the code are ignored
    }
    codes.push_back(1);  // an odd count
    std::vector<float> out(codes.size());
    decode_array(*s, codes.data(), static_cast<std::int64_t>(codes.size()), out.data());
    for (size_t i = 0; i < codes.size(); ++i) {
      const auto expected = static_cast<float>(decode(*s, codes[i]));
      ASSERT_TRUE(same_bits(out[i], expected))
          << s->name << " code " << codes[i] << ": " << out[i] << " vs " << expected;
    }
  }
}

TEST_P(KernelTest, BlockStatisticsMatchScalarMaxima) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            -0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::max()};
  for (int block : {1, 3, 4, 16, 32, 128}) {
    const int blocks = 37;
    std::vector<float> x(static_cast<size_t>(blocks * block));
    for (float& v : x) v = normal(rng) * std::exp2(static_cast<float>(rng() % 40) - 20);
    for (int b = 0; b < blocks; ++b) {
      if (b % 5 == 1) x[b * block + rng() % block] = specials[rng() % 7];
      if (b % 9 == 4) std::fill_n(x.begin() + b * block, block, b % 2 ? -0.0f : 0.0f);
      if (b % 11 == 2)
        std::for_each(x.begin() + b * block, x.begin() + (b + 1) * block,
                      [](float& v) { v = -std::fabs(v); });
    }
    std::vector<std::uint32_t> amax(blocks), pos(blocks), neg(blocks);
    block_amax_bits(x.data(), blocks, block, amax.data());
    block_side_max_bits(x.data(), blocks, block, pos.data(), neg.data());
    for (int b = 0; b < blocks; ++b) {
      bool finite = true;
      float hi = 0, lo_neg = 0, a = 0;
      for (int i = 0; i < block; ++i) {
        const float v = x[b * block + i];
        finite = finite && std::isfinite(v);
        a = std::max(a, std::fabs(v));
        hi = std::max(hi, v);
        lo_neg = std::max(lo_neg, -v);
      }
      const std::string where = "block " + std::to_string(b) + " of " + std::to_string(block);
      if (!finite) {
        EXPECT_GE(amax[b], 0x7F800000u) << where;
        EXPECT_TRUE(pos[b] >= 0x7F800000u || neg[b] >= 0x7F800000u) << where;
        continue;
      }
      EXPECT_EQ(amax[b], float_bits(a)) << where;
      EXPECT_EQ(pos[b], float_bits(hi)) << where;
      EXPECT_EQ(neg[b], float_bits(lo_neg)) << where;
    }
    float finite_max = 0;
    for (float v : x) {
      if (std::isfinite(v)) finite_max = std::max(finite_max, std::fabs(v));
    }
    EXPECT_EQ(finite_amax_bits(x.data(), static_cast<std::int64_t>(x.size())),
              float_bits(finite_max));
  }
}

// The scalar element rule of fast_paths.h, written out with the engine.
std::uint32_t scalar_code(const ElementRule& rule, float x, float factor, float factor_neg,
                          const std::uint8_t* zero_point) {
  const float f = rule.op == ScaleOp::kDivideBySign && std::signbit(x) ? factor_neg : factor;
  float v = rule.op == ScaleOp::kMultiply ? x * f : x / f;
  if (!rule.spec->is_integer) return encode(*rule.spec, v, rule.rounding);
  v *= rule.unit;
  const std::int32_t level = round_to_int(v, rule.int_lo, rule.int_hi, rule.rounding);
  const auto levels = static_cast<std::int32_t>(rule.spec->code_count() - 1);
  if (zero_point) return static_cast<std::uint32_t>(std::clamp(level + *zero_point, 0, levels));
  return static_cast<std::uint32_t>(level) & static_cast<std::uint32_t>(levels);
}

TEST_P(KernelTest, EncodeBlocksMatchTheEngineForEveryRule) {
  // Exact powers of two, inexact factors, and ones that overflow or underflow the inputs.
  const float factors[] = {1.0f, 0.5f, 3.0f, 1.0f / 3.0f, 0x1p-20f, 0x1p20f, 1e-30f, 7e30f};
  for (const ElementSpec* s : kElementSpecs) {
    const std::vector<float> dense = dense_inputs(BruteForce(*s));
    const auto levels = static_cast<std::int32_t>(s->code_count() - 1);
    for (int block : {1, 3, 16, 32, 128}) {
      const std::int64_t blocks = static_cast<std::int64_t>(dense.size()) / block;
      const std::int64_t n = blocks * block;
      std::vector<float> factor(blocks), factor_neg(blocks);
      std::vector<std::uint8_t> zero(blocks), skip(blocks), scratch(n);
      for (std::int64_t b = 0; b < blocks; ++b) {
        factor[b] = factors[b % 8];
        factor_neg[b] = factors[(b + 3) % 8];
        zero[b] = static_cast<std::uint8_t>(b % (levels + 1));
        skip[b] = b % 7 == 3;
      }
      for (ScaleOp op : {ScaleOp::kMultiply, ScaleOp::kDivide, ScaleOp::kDivideBySign}) {
        for (Rounding r : kRoundings) {
          for (bool with_zero : {false, true}) {
            if (with_zero && !s->is_integer) continue;
            ElementRule rule{.spec = s, .rounding = r, .op = op};
            rule.int_lo = with_zero ? -levels : -static_cast<std::int32_t>(s->sign_bit());
            rule.int_hi = with_zero ? levels : static_cast<std::int32_t>(s->magnitude_mask());
            rule.unit = s == &spec::kInt8 && op == ScaleOp::kMultiply ? 64.0f : 1.0f;
            // The run starts one block into the stream: packing at an offset.
            std::vector<std::uint8_t> stream(
                static_cast<size_t>(((n + block) * s->bits + 7) / 8 + 8), 0);
            encode_blocks(rule, {dense.data(), blocks, block, factor.data(), factor_neg.data(),
                                 with_zero ? zero.data() : nullptr, skip.data(), stream.data(),
                                 block, scratch.data()});
            for (int i = 0; i < block; ++i) ASSERT_EQ(unpack_code(stream.data(), i, s->bits), 0u);
            for (std::int64_t i = 0; i < n; ++i) {
              const std::int64_t b = i / block;
              const std::uint32_t expected =
                  skip[b] ? 0
                          : scalar_code(rule, dense[i], factor[b], factor_neg[b],
                                        with_zero ? &zero[b] : nullptr);
              ASSERT_EQ(unpack_code(stream.data(), block + i, s->bits), expected)
                  << s->name << " block " << block << " op " << static_cast<int>(op)
                  << " x=" << dense[i] << " factor " << factor[b]
                  << " away=" << (r == Rounding::kNearestAway) << " zero " << with_zero;
            }
          }
        }
      }
    }
  }
}

TEST_P(KernelTest, DecodeBlocksMatchTheEngine) {
  // NaN, an FP32-subnormal product, an inexact factor, an overflowing one, -0.
  const float factors[] = {1.0f,      std::numeric_limits<float>::quiet_NaN(),
                           0x1p-140f, 1.0f / 3.0f,
                           1e36f,     -0.0f,
                           0x1p-127f, 65504.0f};
  std::mt19937 rng(11);
  for (const ElementSpec* s : kElementSpecs) {
    for (int block : {1, 3, 16, 32, 128}) {
      const std::int64_t blocks = 40, n = blocks * block;
      std::vector<std::uint32_t> codes(n);
      for (auto& c : codes) c = rng() & (s->code_count() - 1);
      for (std::uint32_t c = 0; c < s->code_count() && c < n; ++c) codes[c] = c;  // all codes
      std::vector<std::uint8_t> stream(static_cast<size_t>(((n + block) * s->bits + 7) / 8 + 8));
      for (std::int64_t i = 0; i < n; ++i) pack_code(stream.data(), block + i, s->bits, codes[i]);
      std::vector<float> factor(blocks), factor_neg(blocks), out(n), staging(n);
      std::vector<std::uint8_t> zero(blocks), scratch(n);
      for (std::int64_t b = 0; b < blocks; ++b) {
        factor[b] = factors[b % 8];
        factor_neg[b] = factors[(b + 5) % 8];
        zero[b] = static_cast<std::uint8_t>(b % s->code_count());
      }
      const float g = 0.3f;
      for (int variant = 0; variant < 4; ++variant) {
        // 0: decode * factor; 1: (... * unit) * factor * g; 2: zero points; 3: the factor of
        // the code's sign. Odd variants store through the non-temporal staging copy.
        if (variant == 2 && !s->is_integer) continue;
        const float unit = variant == 1 ? 0x1p-6f : 1.0f;
        const bool by_sign = variant == 3;
        decode_blocks(*s, unit, variant == 1 ? &g : nullptr,
                      {stream.data(), block, blocks, block, factor.data(),
                       by_sign ? factor_neg.data() : nullptr, variant == 2 ? zero.data() : nullptr,
                       scratch.data(), out.data(), variant % 2 ? staging.data() : nullptr});
        for (std::int64_t i = 0; i < n; ++i) {
          const std::int64_t b = i / block;
          const bool negative = (codes[i] & s->sign_bit()) != 0;
          const float element =
              variant == 2 ? static_cast<float>(static_cast<std::int32_t>(codes[i]) - zero[b])
                           : static_cast<float>(decode(*s, codes[i]));
          float expected = element * unit * (by_sign && negative ? factor_neg[b] : factor[b]);
          if (variant == 1) expected *= g;
          ASSERT_TRUE(same_bits(out[i], expected))
              << s->name << " block " << block << " variant " << variant << " code " << codes[i]
              << ": " << out[i] << " vs " << expected;
        }
      }
    }
  }
}

// ---- whole formats --------------------------------------------------------------------------

// Random rows of 2 runs and a partial block for every block size, with blocks of zeros,
// NaN, +-Inf, FP32 subnormals, values near FLT_MAX and values on a fine binary grid (ties).
Matrix random_tensor(std::uint32_t seed) {
  constexpr std::int64_t kRows = 5, kCols = 2 * 4096 + 200;
  Matrix x(kRows, kCols);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  for (std::int64_t i = 0; i < kRows * kCols; ++i) {
    const std::int64_t segment = i / 16;
    const float v = normal(rng);
    switch (segment % 13) {
      case 3:
        x.data[i] = 0.0f;
        break;
      case 5:
        x.data[i] = i % 16 == 7 ? std::numeric_limits<float>::quiet_NaN() : v;
        break;
      case 7:
        x.data[i] = i % 16 == 2 ? (i % 2 ? 1.0f : -1.0f) * INFINITY : v;
        break;
      case 8:
        x.data[i] = v * 1e-40f;
        break;
      case 9:
        x.data[i] = v * 1e37f;
        break;
      case 11:
        x.data[i] = std::round(v * 16) / 16;
        break;
      default:
        x.data[i] = v * std::exp2(static_cast<float>(segment % 29) - 14);
    }
  }
  return x;
}

struct Block {
  std::vector<float> v;  // zero-padded
  bool finite = true;
  float amax = 0, hi = 0, lo = 0;
};

Block block_of(const Matrix& x, std::int64_t r, std::int64_t b, int size) {
  Block blk;
  blk.v.assign(static_cast<size_t>(size), 0.0f);
  for (int i = 0; i < size && b * size + i < x.cols; ++i) blk.v[i] = x.row(r)[b * size + i];
  for (float v : blk.v) {
    blk.finite = blk.finite && std::isfinite(v);
    blk.amax = std::max(blk.amax, std::fabs(v));
    blk.hi = std::max(blk.hi, v);
    blk.lo = std::min(blk.lo, v);
  }
  return blk;
}

// Scalar quantizers block by block from the definitions in the format files' headers;
// each writes the element codes of every padded element, the scale codes and the side data.
struct Expected {
  std::vector<std::uint32_t> codes, scales, aux;
  float tensor_scale = 1.0f;
};

Expected mx_reference(const Matrix& x, const ElementSpec& elem, int block, Rounding r) {
  Expected e;
  const bool integer = elem.is_integer;
  const int emax = integer ? 0 : floor_log2(static_cast<float>(max_value(elem)));
  for (std::int64_t row = 0; row < x.rows; ++row) {
    for (std::int64_t b = 0; b * block < x.cols; ++b) {
      const Block blk = block_of(x, row, b, block);
      if (!blk.finite) {
        e.scales.push_back(0xFF);
        e.codes.insert(e.codes.end(), block, 0);
        continue;
      }
      const int shared = blk.amax == 0 ? -127 : std::clamp(floor_log2(blk.amax) - emax, -127, 127);
      e.scales.push_back(static_cast<std::uint32_t>(shared + 127));
      for (float v : blk.v) {
        const float scaled = v * exp2_int(-shared);
        e.codes.push_back(
            integer ? static_cast<std::uint32_t>(round_to_int(scaled * 64, -127, 127, r)) & 0xFF
                    : encode(elem, scaled, r));
      }
    }
  }
  return e;
}

Expected nv_reference(const Matrix& x, bool int4, Rounding r) {
  Expected e;
  const float m = int4 ? 7.0f : 6.0f;
  float amax = 0;
  for (float v : x.data) {
    if (std::isfinite(v)) amax = std::max(amax, std::fabs(v));
  }
  const float g0 = amax / (448.0f * m);
  const float g = g0 > 0 && std::isfinite(g0) ? g0 : 1.0f;
  e.tensor_scale = g;
  for (std::int64_t row = 0; row < x.rows; ++row) {
    for (std::int64_t b = 0; b * 16 < x.cols; ++b) {
      const Block blk = block_of(x, row, b, 16);
      if (!blk.finite) {
        e.scales.push_back(0x7F);
        e.codes.insert(e.codes.end(), 16, 0);
        continue;
      }
      const std::uint32_t code =
          encode(spec::kUE4M3, std::clamp(blk.amax / m / g, 0x1p-6f, 448.0f));
      e.scales.push_back(code);
      const float factor = (1.0f / g) / static_cast<float>(decode(spec::kUE4M3, code));
      for (float v : blk.v) {
        e.codes.push_back(int4
                              ? static_cast<std::uint32_t>(round_to_int(v * factor, -7, 7, r)) & 0xF
                              : encode(spec::kE2M1, v * factor, r));
      }
    }
  }
  return e;
}

std::uint32_t positive_scale(const ScaleSpec& scale, float s) {
  return s > 0 ? scale.encode_positive(s) : scale.smallest_positive();
}

Expected int_reference(const Matrix& x, int bits, int group, bool asym, Rounding r) {
  Expected e;
  const ScaleSpec scale = scale_spec("fp16");
  const std::int32_t levels = (1 << bits) - 1, qmax = (1 << (bits - 1)) - 1;
  for (std::int64_t row = 0; row < x.rows; ++row) {
    for (std::int64_t b = 0; b * group < x.cols; ++b) {
      const Block blk = block_of(x, row, b, group);
      if (!blk.finite) {
        e.scales.push_back(scale.nan_code());
        if (asym) e.aux.push_back(0);
        e.codes.insert(e.codes.end(), group, 0);
        continue;
      }
      const float range = asym ? (blk.hi - blk.lo) / static_cast<float>(levels)
                               : std::max(blk.hi, -blk.lo) / static_cast<float>(qmax);
      const std::uint32_t code = positive_scale(scale, range);
      e.scales.push_back(code);
      const float s = scale.decode(code);
      const std::int32_t zero = asym ? round_to_int(-blk.lo / s, 0, levels, r) : 0;
      if (asym) e.aux.push_back(static_cast<std::uint32_t>(zero));
      for (float v : blk.v) {
        e.codes.push_back(asym ? static_cast<std::uint32_t>(std::clamp(
                                     round_to_int(v / s, -levels, levels, r) + zero, 0, levels))
                               : static_cast<std::uint32_t>(round_to_int(v / s, -qmax, qmax, r)) &
                                     static_cast<std::uint32_t>(levels));
      }
    }
  }
  return e;
}

Expected afpq_reference(const Matrix& x, int group, Rounding r) {
  Expected e;
  const ScaleSpec scale = scale_spec("fp16");
  for (std::int64_t row = 0; row < x.rows; ++row) {
    for (std::int64_t b = 0; b * group < x.cols; ++b) {
      const Block blk = block_of(x, row, b, group);
      if (!blk.finite) {
        e.scales.push_back(scale.nan_code());
        e.aux.push_back(scale.nan_code());
        e.codes.insert(e.codes.end(), group, 0);
        continue;
      }
      const std::uint32_t pos =
          blk.hi > 0 ? scale.encode_positive(blk.hi / 6.0f) : scale.smallest_positive();
      const std::uint32_t neg =
          blk.lo < 0 ? scale.encode_positive(-blk.lo / 6.0f) : scale.smallest_positive();
      e.scales.push_back(pos);
      e.aux.push_back(neg);
      for (float v : blk.v) {
        e.codes.push_back(encode(spec::kE2M1, v / scale.decode(std::signbit(v) ? neg : pos), r));
      }
    }
  }
  return e;
}

// The dequantized value of element c of row r from the codes alone, as each format defines it.
float reference_value(const std::string& family, const QuantizedTensor& q, const ElementSpec& elem,
                      std::int64_t r, std::int64_t c) {
  const std::uint32_t code = unpack_code(q.row_elements(r), c, q.element_bits);
  const std::int64_t index = r * q.blocks_per_row() + c / q.block;
  const ScaleSpec fp16 = scale_spec("fp16");
  const auto scale = load_scale(q.scales.data() + index * q.scale_bytes, q.scale_bytes);
  if (family == "mx") {
    if (scale == 0xFF) return std::numeric_limits<float>::quiet_NaN();
    const float value = elem.is_integer ? static_cast<float>(decode(elem, code)) * 0x1p-6f
                                        : static_cast<float>(decode(elem, code));
    return value * exp2_int(static_cast<int>(scale) - 127);
  }
  if (family == "nv") {
    return static_cast<float>(decode(elem, code)) *
           static_cast<float>(decode(spec::kUE4M3, scale & 0x7F)) * q.tensor_scale;
  }
  if (family == "afpq") {
    const float positive = fp16.decode(scale);
    const bool negative = code & 8;
    const float s = std::isnan(positive) || !negative
                        ? positive
                        : fp16.decode(load_scale(q.aux.data() + index * 2, 2));
    return static_cast<float>(decode(spec::kE2M1, code)) * s;
  }
  const ExactScale exact = fp16.exact(scale);  // int_group: the golden contract's value
  const std::int64_t integer = q.aux_bytes ? static_cast<std::int64_t>(code) - q.aux[index]
                                           : static_cast<std::int64_t>(decode(elem, code));
  return exact_value(integer, 0, exact, 1.0f);
}

TEST_P(KernelTest, FormatsMatchScalarQuantizersOnRandomTensors) {
  struct Case {
    const char* format;
    Expected (*reference)(const Matrix&, Rounding);
  };
  const Case cases[] = {
      {"mxfp4", [](const Matrix& x, Rounding r) { return mx_reference(x, spec::kE2M1, 32, r); }},
      {"mxfp6_e2m3",
       [](const Matrix& x, Rounding r) { return mx_reference(x, spec::kE2M3, 32, r); }},
      {"mxfp6_e3m2",
       [](const Matrix& x, Rounding r) { return mx_reference(x, spec::kE3M2, 32, r); }},
      {"mxfp8_e4m3",
       [](const Matrix& x, Rounding r) { return mx_reference(x, spec::kE4M3, 32, r); }},
      {"mxfp8_e5m2",
       [](const Matrix& x, Rounding r) { return mx_reference(x, spec::kE5M2, 32, r); }},
      {"mxint8", [](const Matrix& x, Rounding r) { return mx_reference(x, spec::kInt8, 32, r); }},
      {"nvfp4", [](const Matrix& x, Rounding r) { return nv_reference(x, false, r); }},
      {"nvint4", [](const Matrix& x, Rounding r) { return nv_reference(x, true, r); }},
      {"int4_g32", [](const Matrix& x, Rounding r) { return int_reference(x, 4, 32, false, r); }},
      {"int4_g128", [](const Matrix& x, Rounding r) { return int_reference(x, 4, 128, false, r); }},
      {"int4_g32_asym",
       [](const Matrix& x, Rounding r) { return int_reference(x, 4, 32, true, r); }},
      {"int4_g128_asym",
       [](const Matrix& x, Rounding r) { return int_reference(x, 4, 128, true, r); }},
      {"int3_g64", [](const Matrix& x, Rounding r) { return int_reference(x, 3, 64, false, r); }},
      {"int8_g32_asym",
       [](const Matrix& x, Rounding r) { return int_reference(x, 8, 32, true, r); }},
      {"afpq4_g128", [](const Matrix& x, Rounding r) { return afpq_reference(x, 128, r); }},
  };
  const Matrix x = random_tensor(3);
  for (const Case& c : cases) {
    for (Rounding r : kRoundings) {
      const std::string name =
          std::string(c.format) + (r == Rounding::kNearestAway ? ":round=away" : "");
      SCOPED_TRACE(name);
      const auto f = make_format(name);
      const QuantizedTensor q = f->quantize(x);
      const Expected e = c.reference(x, r);
      ASSERT_EQ(static_cast<std::int64_t>(e.codes.size()), q.rows * q.padded_cols());
      for (std::int64_t i = 0; i < q.rows * q.padded_cols(); ++i) {
        ASSERT_EQ(
            unpack_code(q.row_elements(i / q.padded_cols()), i % q.padded_cols(), q.element_bits),
            e.codes[i])
            << "element " << i;
      }
      ASSERT_EQ(static_cast<std::int64_t>(e.scales.size()), q.rows * q.blocks_per_row());
      for (size_t b = 0; b < e.scales.size(); ++b) {
        ASSERT_EQ(load_scale(q.scales.data() + b * q.scale_bytes, q.scale_bytes), e.scales[b])
            << "scale " << b;
      }
      const int aux_bytes = std::max(q.aux_bytes, 1);
      ASSERT_EQ(e.aux.size(), q.aux.size() / aux_bytes);
      for (size_t b = 0; b < e.aux.size(); ++b) {
        ASSERT_EQ(load_scale(q.aux.data() + b * aux_bytes, q.aux_bytes), e.aux[b])
            << "side data " << b;
      }
      ASSERT_TRUE(same_bits(q.tensor_scale, e.tensor_scale));
      const Matrix y = f->dequantize(q);
      const ElementSpec& elem = element_spec(f->info().element);
      for (std::int64_t i = 0; i < x.rows * x.cols; ++i) {
        const float expected = reference_value(f->info().family, q, elem, i / x.cols, i % x.cols);
        ASSERT_TRUE(same_bits(y.data[i], expected))
            << "value " << i << ": " << y.data[i] << " vs " << expected;
      }
    }
  }
}

}  // namespace
}  // namespace nibble
