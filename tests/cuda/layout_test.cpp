// The CUDA kernels' host/device helpers and kernel layout, on the CPU, against models/:
// the byte-permute decode tables, the scale tables, the re-layout, and a GEMM computed
// exactly as the kernels compute each block (same helpers) equal to golden_gemm bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "expect_error.h"
#include "nibble/cuda/decode.h"
#include "nibble/cuda/layout.h"
#include "nibble/models/bcq.h"
#include "nibble/models/dot.h"
#include "nibble/models/element.h"
#include "nibble/models/registry.h"
#include "nibble/models/scale.h"

namespace nibble::cuda {
namespace {

const std::vector<std::string> kKernelFormats = {"mxfp4", "nvfp4", "nvint4", "int4_g32",
                                                 "int4_g128", "bcq"};

Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-3, 3);
  Matrix m(rows, cols);
  for (float& v : m.data) v = normal(rng) * std::exp2(exponent(rng));
  return m;
}

std::int8_t lane(std::uint32_t word, int i) { return static_cast<std::int8_t>(word >> (8 * i)); }

TEST(BytePerm, FollowsPrmtDefaultMode) {
  // Byte i of the result is byte (selector nibble i) of {y, x}: 1, 3, 5, 7 -> 11 33 55 77.
  EXPECT_EQ(byte_perm(0x33221100u, 0x77665544u, 0x7531u), 0x77553311u);
  EXPECT_EQ(byte_perm(0x33221100u, 0x77665544u, 0x3210u), 0x33221100u);
  EXPECT_EQ(byte_perm(0x33221100u, 0x77665544u, 0x4444u), 0x44444444u);
}

// Every combination of four codes, decoded through the table kernel_layout builds, equals
// models' exact integers (E2M1: twice its value).
void expect_table_decodes(const std::string& format, const ElementSpec& spec) {
  const QuantizedTensor q = make_format(format)->quantize(random_matrix(1, 64, 1));
  const KernelLayout layout = kernel_layout(q);
  ASSERT_EQ(layout.tables.size(), 1u);
  for (std::uint32_t codes = 0; codes < 0x10000u; ++codes) {
    const std::uint32_t bytes = decode4(codes, layout.tables[0]);
    for (int i = 0; i < 4; ++i) {
      const std::uint32_t code = (codes >> (4 * i)) & 0xF;
      ASSERT_EQ(lane(bytes, i), decode_integer(spec, code)) << format << " code " << code;
    }
  }
}

TEST(Decode4, E2M1IsTwiceModelsValue) {
  expect_table_decodes("mxfp4", spec::kE2M1);
  for (std::uint32_t c = 0; c < 16; ++c) {
    EXPECT_EQ(decode_integer(spec::kE2M1, c), 2 * decode(spec::kE2M1, c)) << c;
  }
}

TEST(Decode4, Int4IsTwosComplement) { expect_table_decodes("int4_g32", spec::kInt4); }

TEST(Decode4, BcqTablesHoldTheCodebooks) {
  const auto format = make_format("bcq");
  const KernelLayout layout = kernel_layout(format->quantize(random_matrix(2, 64, 2)));
  const Codebooks& books = *bcq_codebooks(*format);
  ASSERT_EQ(static_cast<int>(layout.tables.size()), books.count);
  for (int c = 0; c < books.count; ++c) {
    for (std::uint32_t code = 0; code < 16; ++code) {
      EXPECT_EQ(lane(decode4(code, layout.tables[c]), 0), books.book(c)[code]) << c << " " << code;
    }
  }
}

// The table the kernels decode scale codes through covers every code with models' value
// times 2^element_exponent (the golden dot's own block scales are checked against it, per
// block, in KernelLayoutTest).
void expect_scale_table(const std::string& format_name, std::size_t codes) {
  const auto format = make_format(format_name);
  const KernelLayout layout = kernel_layout(format->quantize(random_matrix(1, 128, 2)));
  ASSERT_EQ(layout.scale_values.size(), codes) << format_name;
  const ScaleSpec spec = scale_spec(format->info().scale);
  for (std::uint32_t c = 0; c < codes; ++c) {
    const float value = spec.decode(c), got = layout.scale_values[c];
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(got)) << format_name << " code " << c;
      continue;
    }
    EXPECT_EQ(got, std::ldexp(value, format->element_exponent())) << format_name << " code " << c;
    EXPECT_EQ(std::signbit(got), std::signbit(value)) << format_name << " code " << c;
  }
}

TEST(ScaleTable, EveryCodeIsTheExactFoldedScale) {
  expect_scale_table("mxfp4", 256);     // E8M0
  expect_scale_table("nvfp4", 256);     // UE4M3
  expect_scale_table("int4_g32", 65536);  // FP16
}

TEST(KeepFirst, ZeroesTheTail) {
  const Int8x8 v{0x04030201u, 0x08070605u};
  EXPECT_EQ(keep_first(v, 8).hi, 0x08070605u);
  EXPECT_EQ(keep_first(v, 5).lo, 0x04030201u);
  EXPECT_EQ(keep_first(v, 5).hi, 0x00000005u);
  EXPECT_EQ(keep_first(v, 3).lo, 0x00030201u);
  EXPECT_EQ(keep_first(v, 3).hi, 0u);
  EXPECT_EQ(keep_first(v, 0).lo, 0u);
}

class KernelLayoutTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KernelLayoutTest, HoldsEveryCodeScaleAndSelector) {
  const auto format = make_format(GetParam());
  Matrix x = random_matrix(5, 200, 3);
  x.row(3)[70] = std::nanf("");  // a NaN scale
  const QuantizedTensor q = format->quantize(x);
  const KernelLayout layout = kernel_layout(q);
  const LayoutShape& s = layout.shape;
  EXPECT_EQ(s.row_stride % kRowAlignBytes, 0);
  EXPECT_GE(s.row_stride * 2, q.padded_cols());
  EXPECT_EQ(s.blocks_per_row, q.blocks_per_row());
  EXPECT_EQ(s.tensor_scale, q.tensor_scale);
  std::vector<std::int64_t> integers(static_cast<size_t>(q.padded_cols()));
  std::vector<ExactScale> scales(static_cast<size_t>(q.blocks_per_row()));
  for (std::int64_t r = 0; r < q.rows; ++r) {
    format->exact_row(q, r, {integers.data(), scales.data()});
    const std::uint8_t* row = layout.codes.data() + r * s.row_stride;
    for (std::int64_t i = 0; i < s.row_stride * 2; ++i) {
      const std::uint32_t expected = i < q.padded_cols() ? unpack_code(q.row_elements(r), i, 4) : 0;
      ASSERT_EQ(unpack_code(row, i, 4), expected) << "row " << r << " element " << i;
    }
    for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) {
      const std::int64_t index = r * q.blocks_per_row() + b;
      // The folded scale is the golden dot's block scale times 2^element_exponent, exactly.
      const ExactScale& exact = scales[static_cast<size_t>(b)];
      const float expected = static_cast<float>(std::ldexp(
          static_cast<double>(exact.mantissa), exact.exponent + format->element_exponent()));
      if (exact.nan) {
        EXPECT_TRUE(std::isnan(folded_scale(layout, r, b))) << "row " << r << " block " << b;
      } else {
        EXPECT_EQ(folded_scale(layout, r, b), expected) << "row " << r << " block " << b;
      }
      if (s.format == KernelFormat::kBcq) {
        for (int sub = 0; sub < 8; ++sub) {
          EXPECT_EQ(bcq_selector(layout.selectors[index], sub),
                    unpack_code(q.aux.data() + index * q.aux_bytes, sub, 4));
        }
      }
    }
  }
}

// C = A B^T through the kernels' per-block arithmetic (decode_sub_block, keep_first, dot4,
// block_partial), accumulated in K order as the golden dot does.
Matrix kernel_arithmetic_gemm(const KernelLayout& a, const KernelLayout& b) {
  const LayoutShape& s = a.shape;
  Matrix c(a.shape.rows, b.shape.rows);
  const auto word = [](const KernelLayout& l, std::int64_t row, std::int64_t k) {
    std::uint32_t w;
    std::memcpy(&w, l.codes.data() + row * l.shape.row_stride + k / 2, 4);
    return w;
  };
  const auto selector = [](const KernelLayout& l, std::int64_t row, std::int64_t block) {
    return l.selectors.empty() ? 0u : l.selectors[row * l.shape.blocks_per_row + block];
  };
  for (std::int64_t m = 0; m < a.shape.rows; ++m) {
    for (std::int64_t n = 0; n < b.shape.rows; ++n) {
      float acc = 0;
      for (std::int64_t blk = 0; blk < s.blocks_per_row; ++blk) {
        std::int32_t sum = 0;
        for (std::int64_t k = blk * s.block; k < (blk + 1) * s.block; k += 8) {
          const int sub = static_cast<int>((k / 8) % 8);
          const Int8x8 x = keep_first(
              decode_sub_block(word(a, m, k), a.tables.data(), selector(a, m, blk), sub),
              static_cast<int>(s.cols - k));
          const Int8x8 y =
              decode_sub_block(word(b, n, k), b.tables.data(), selector(b, n, blk), sub);
          sum = dot4(x.hi, y.hi, dot4(x.lo, y.lo, sum));
        }
        acc = add_rn(acc, block_partial(sum, folded_scale(a, m, blk), folded_scale(b, n, blk)));
      }
      c.row(m)[n] = mul_rn(mul_rn(acc, a.shape.tensor_scale), b.shape.tensor_scale);
    }
  }
  return c;
}

TEST_P(KernelLayoutTest, KernelArithmeticEqualsGoldenGemm) {
  const auto format = make_format(GetParam());
  // K = 300: a partial last block for every block size; a NaN poisons row 2 of A.
  Matrix x = random_matrix(4, 300, 4);
  x.row(2)[17] = std::nanf("");
  const QuantizedTensor a = format->quantize(x);
  const QuantizedTensor b = format->quantize(random_matrix(6, 300, 5));
  const Matrix golden = golden_gemm(a, b, Accumulator::kFp32, 1);
  const Matrix got = kernel_arithmetic_gemm(kernel_layout(a), kernel_layout(b));
  for (size_t i = 0; i < golden.data.size(); ++i) {
    if (std::isnan(golden.data[i])) {
      EXPECT_TRUE(std::isnan(got.data[i])) << i;
    } else {
      EXPECT_EQ(got.data[i], golden.data[i]) << i;
    }
  }
  EXPECT_TRUE(std::isnan(got.row(2)[0]));
}

INSTANTIATE_TEST_SUITE_P(Formats, KernelLayoutTest, ::testing::ValuesIn(kKernelFormats),
                         [](const auto& info) { return info.param; });

TEST(KernelLayout, RejectsUnsupportedFormats) {
  const Matrix x = random_matrix(2, 64, 6);
  for (const char* name : {"int4_g128_asym", "mxfp8_e4m3", "bcq:lb=4", "int4_g64", "mxfp4:block=64"}) {
    const QuantizedTensor q = make_format(name)->quantize(x);
    expect_error([&] { kernel_layout(q); }, {"not supported by the CUDA GEMM"});
  }
}

TEST(CheckGemmShapes, NamesTheMismatch) {
  const Matrix x = random_matrix(2, 64, 7);
  const LayoutShape mx = kernel_layout(make_format("mxfp4")->quantize(x)).shape;
  const LayoutShape nv = kernel_layout(make_format("nvfp4")->quantize(x)).shape;
  const LayoutShape shorter =
      kernel_layout(make_format("mxfp4")->quantize(random_matrix(2, 32, 8))).shape;
  expect_error([&] { check_gemm_shapes(mx, nv); }, {"differ in format", "mxfp4", "nvfp4"});
  expect_error([&] { check_gemm_shapes(mx, shorter); }, {"differ in K", "64", "32"});
  EXPECT_NO_THROW(check_gemm_shapes(mx, mx));
}

}  // namespace
}  // namespace nibble::cuda
