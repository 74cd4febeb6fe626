// A partial last block is stored zero-padded: recomputed, not read back, by comparing every
// golden GEMM over a row length that is not a multiple of the block with the same GEMM over
// the explicitly zero-padded operands, for every pair of dot formats of one block size.
// BCQ is not among them: its codebooks need not hold 0, so an explicit zero is stored as the
// nearest entry while padding is the exact integer 0; its padding is checked on its own.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nibble/models/dot.h"
#include "nibble/models/registry.h"

namespace nibble {
namespace {

Matrix random_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  Matrix m(rows, cols);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (float& v : m.data) v = normal(rng) + 0.3f;  // skewed, so asymmetric zero points are not 0
  return m;
}

Matrix zero_padded(const Matrix& m, std::int64_t cols) {
  Matrix p(m.rows, cols);
  for (std::int64_t r = 0; r < m.rows; ++r) std::copy(m.row(r), m.row(r) + m.cols, p.row(r));
  return p;
}

// Padding is the integer 0 in the golden-dot view of a quantized row.
void expect_padding_is_integer_zero(const QuantizedTensor& q) {
  std::vector<std::int64_t> integers(static_cast<size_t>(q.padded_cols()));
  std::vector<ExactScale> scales(static_cast<size_t>(q.blocks_per_row()));
  for (std::int64_t r = 0; r < q.rows; ++r) {
    q.format->exact_row(q, r, {integers.data(), scales.data()});
    for (std::int64_t c = q.cols; c < q.padded_cols(); ++c) {
      ASSERT_EQ(integers[static_cast<size_t>(c)], 0)
          << q.format->info().name << " row " << r << " padding element " << c;
    }
  }
}

void expect_padded_gemm_equal(const std::vector<std::string>& formats, std::int64_t k) {
  const Matrix a = random_matrix(3, k, 1), b = random_matrix(4, k, 2);
  for (const std::string& fa : formats) {
    const auto format_a = make_format(fa);
    const std::int64_t block = format_a->info().block;
    const std::int64_t padded = (k + block - 1) / block * block;
    ASSERT_NE(padded, k) << "the row length must end in a partial block";
    const QuantizedTensor qa = format_a->quantize(a);
    const QuantizedTensor qa_padded = format_a->quantize(zero_padded(a, padded));
    expect_padding_is_integer_zero(qa);
    for (const std::string& fb : formats) {
      const auto format_b = make_format(fb);
      const QuantizedTensor qb = format_b->quantize(b);
      const QuantizedTensor qb_padded = format_b->quantize(zero_padded(b, padded));
      for (const Accumulator acc : {Accumulator::kFp32, Accumulator::kExact}) {
        const Matrix c = golden_gemm(qa, qb, acc, 1);
        const Matrix c_padded = golden_gemm(qa_padded, qb_padded, acc, 1);
        for (size_t i = 0; i < c.data.size(); ++i) {
          ASSERT_EQ(std::bit_cast<std::uint32_t>(c.data[i]),
                    std::bit_cast<std::uint32_t>(c_padded.data[i]))
              << fa << " x " << fb << " element " << i << ": " << c.data[i] << " vs padded "
              << c_padded.data[i];
        }
      }
    }
  }
}

TEST(PaddingProperty, GoldenGemmOverPartialBlockEqualsZeroPaddedForEveryPairOfBlock32) {
  expect_padded_gemm_equal({"mxfp4", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8",
                            "nvfp4:block=32", "nvint4:block=32", "int4_g32", "int4_g32_asym",
                            "int8_g32_asym:scale=bf16", "int3_g32:scale=fp32"},
                           200);
}

TEST(PaddingProperty, GoldenGemmOverPartialBlockEqualsZeroPaddedForEveryPairOfBlock16) {
  expect_padded_gemm_equal({"nvfp4", "nvint4:arith=modelopt", "mxfp4:block=16", "int4_g16_asym",
                            "int2_g16_asym:scale=fp32"},
                           75);
}

TEST(PaddingProperty, BcqPaddingIsIntegerZero) {
  const Matrix a = random_matrix(5, 75, 3);
  for (const char* format : {"bcq", "bcq:la=16:scale=e8m0", "bcq:lb=4:la=32:nc=4:scale=bf16"}) {
    expect_padding_is_integer_zero(make_format(format)->quantize(a));
  }
}

}  // namespace
}  // namespace nibble
