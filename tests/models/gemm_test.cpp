// The golden GEMM's SIMD kernels against its scalar path (golden_dot for every element, which
// dot_test.cpp checks against the contract's independent reference), bit for bit: every
// format pair the dot accepts, ragged shapes, NaN, subnormal and saturated scales, overflow to
// Inf and Inf - Inf, one and two threads, and every SIMD target this CPU runs.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "every_target.h"
#include "gemm/vector_gemm.h"
#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/models/simd.h"


namespace nibble {
namespace {

// Formats with a golden dot, options that change the integers or scales included; pairs are
// those with equal block sizes.
const std::vector<std::string> kFormats = {
    "mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8",
    "mxint8:range=full", "mxfp4:block=16", "nvfp4", "nvint4", "nvfp4:arith=modelopt",
    "int4_g32", "int8_g32", "int8_g32:scale=bf16", "int4_g32:scale=fp32", "int4_g16_asym",
    "int4_g128", "int4_g128_asym", "int8_g128", "int3_g7", "int8_g7_asym", "bcq", "bcq:nc=8"};

// Rows of several kinds, so that one GEMM meets every case the kernels must get right:
// ordinary values over a wide range, a NaN (its block's scale is NaN), FP32-subnormal and
// tiny inputs (the smallest block scales, FP16 subnormal scales), values near FLT_MAX (the
// largest scales, saturated elements, partials beyond FP32), blocks of alternating sign near
// FLT_MAX (Inf - Inf in the accumulator), and zeros.
Matrix test_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> spread(-6, 6);
  Matrix m(rows, cols);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t kind = (r + seed) % 6;
    for (std::int64_t c = 0; c < cols; ++c) {
      const float x = normal(rng);
      float v = x * std::exp2(spread(rng));
      if (kind == 1 && c == cols / 2) v = std::numeric_limits<float>::quiet_NaN();
      if (kind == 2) v = x * (c % 3 == 0 ? 1e-42f : 3e-6f);
      if (kind == 3) v = x * 1e38f;
      if (kind == 4) v = (c / 7 % 2 ? -3e38f : 3e38f) * (1 + 0.01f * x);
      if (kind == 5) v = 0;
      m.row(r)[c] = v;
    }
  }
  return m;
}

::testing::AssertionResult same_bits(const Matrix& got, const Matrix& expected) {
  if (got.rows != expected.rows || got.cols != expected.cols) {
    return ::testing::AssertionFailure() << "shape differs";
  }
  for (std::int64_t i = 0; i < got.rows; ++i) {
    for (std::int64_t j = 0; j < got.cols; ++j) {
      const float g = got.row(i)[j], e = expected.row(i)[j];
      if (std::bit_cast<std::uint32_t>(g) != std::bit_cast<std::uint32_t>(e)) {
        return ::testing::AssertionFailure()
               << "C[" << i << "][" << j << "] = " << g << " (0x" << std::hex
               << std::bit_cast<std::uint32_t>(g) << "), scalar path " << e << " (0x"
               << std::bit_cast<std::uint32_t>(e) << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

struct Shape {
  std::int64_t m, n, k;
};

// The vector path on the dispatched target against the scalar path, for every pair of kFormats
// with equal blocks; returns how many pairs took the vector path.
int check_every_pair(const Shape& shape, int threads) {
  std::map<std::string, QuantizedTensor> as, bs;
  for (const std::string& name : kFormats) {
    const auto f = make_format(name);
    as.emplace(name, f->quantize(test_matrix(shape.m, shape.k, 1)));
    bs.emplace(name, f->quantize(test_matrix(shape.n, shape.k, 2)));
  }
  int vector_pairs = 0;
  for (const std::string& fa : kFormats) {
    for (const std::string& fb : kFormats) {
      const QuantizedTensor& qa = as.at(fa);
      const QuantizedTensor& qb = bs.at(fb);
      const ExactOperand a(qa), b(qb);
      if (a.block() != b.block()) continue;
      const std::string what = fa + " x " + fb + " on " + simd_target();
      // Both entries: from decoded operands, and decoding each row into the packed layout.
      const auto c = gemm::vector_golden_gemm(a, b, threads);
      const auto cq = gemm::vector_golden_gemm(qa, qb, threads);
      if (gemm::vector_kernel(a, b) != gemm::Kernel::kNone && gemm::vector_kernels_available()) {
        EXPECT_TRUE(c.has_value()) << what;
      }
      EXPECT_EQ(cq.has_value(), c.has_value()) << what;
      if (!c || !cq) continue;
      ++vector_pairs;
      const Matrix scalar = gemm::scalar_golden_gemm(a, b, Accumulator::kFp32, 1);
      EXPECT_TRUE(same_bits(*c, scalar)) << what;
      EXPECT_TRUE(same_bits(*cq, scalar)) << what;
    }
  }
  return vector_pairs;
}

// With runtime dispatch an x86-64 CPU gets SSSE3 or better, where the kernels run; the
// headers-only build (gpu_check.sh) has Highway's one-lane baseline, where they do not.
TEST(VectorGemm, ThisCpuHasVectorKernels) {
#if defined(NIBBLE_TEST_EVERY_TARGET) && defined(__x86_64__)
  EXPECT_TRUE(gemm::vector_kernels_available()) << simd_target();
#else
  GTEST_SKIP() << "no runtime dispatch or not x86-64; target " << simd_target();
#endif
}

TEST(VectorGemm, KernelFollowsTheExactnessBounds) {
  const auto kernel = [](const std::string& fa, const std::string& fb) {
    const ExactOperand a(make_format(fa)->quantize(test_matrix(4, 256, 1)));
    const ExactOperand b(make_format(fb)->quantize(test_matrix(4, 256, 2)));
    return gemm::vector_kernel(a, b);
  };
  using gemm::Kernel;
  // 4-bit and 8-bit integers: 12 * 12 * 32, 128 * 128 * 32, 255 * 255 * 32 fit int32 lanes.
  EXPECT_EQ(kernel("mxfp4", "mxfp4"), Kernel::kInt16);
  EXPECT_EQ(kernel("nvfp4", "nvfp4"), Kernel::kInt16);
  EXPECT_EQ(kernel("int4_g128", "int4_g128"), Kernel::kInt16);
  EXPECT_EQ(kernel("mxint8", "mxint8"), Kernel::kInt16);
  EXPECT_EQ(kernel("int8_g32", "int8_g32"), Kernel::kInt16);
  // E4M3 integers reach 448 * 2^9 > 2^15: double lanes (sum < 2^41).
  EXPECT_EQ(kernel("mxfp8_e4m3", "mxfp8_e4m3"), Kernel::kDouble);
  EXPECT_EQ(kernel("mxfp8_e5m2", "mxfp4"), Kernel::kDouble);
  // E5M2 x E5M2 block sums reach 2^68; FP32 scales carry 24-bit mantissas: 2^62 partials.
  EXPECT_EQ(kernel("mxfp8_e5m2", "mxfp8_e5m2"), Kernel::kNone);
  EXPECT_EQ(kernel("int4_g32:scale=fp32", "int4_g32:scale=fp32"), Kernel::kNone);
}

TEST(VectorGemm, EveryPairMatchesTheScalarPathBitForBit) {
  if (!gemm::vector_kernels_available()) GTEST_SKIP() << "no vector kernels on " << simd_target();
  // K = 100: a partial last block for blocks 16, 32 and 64, one partial block for 128, an odd
  // block size (7) with a partial tail; N = 21 fills no panel of 8 or 16 lanes.
  EXPECT_GT(check_every_pair({9, 21, 100}, 1), 0);
  // More rows than one task holds (64), a remainder of 2 rows per tile of 4, several panels.
  EXPECT_GT(check_every_pair({70, 37, 45}, 2), 0);
}

TEST(VectorGemm, GoldenGemmIsTheSameForOneAndTwoThreads) {
  for (const char* name : {"mxfp4", "nvfp4", "int4_g128", "mxfp8_e4m3", "int8_g32"}) {
    const auto f = make_format(name);
    const QuantizedTensor a = f->quantize(test_matrix(67, 300, 3));
    const QuantizedTensor b = f->quantize(test_matrix(45, 300, 4));
    const Matrix one = golden_gemm(a, b, Accumulator::kFp32, 1);
    EXPECT_TRUE(same_bits(golden_gemm(a, b, Accumulator::kFp32, 2), one)) << name;
    EXPECT_TRUE(same_bits(one, gemm::scalar_golden_gemm(ExactOperand(a), ExactOperand(b),
                                                        Accumulator::kFp32, 1)))
        << name;
  }
}

TEST(VectorGemm, DecodedOperandsGiveTheSameGemm) {
  const auto f = make_format("mxfp8_e5m2");  // a wide operand, widened only on the scalar path
  const QuantizedTensor a = f->quantize(test_matrix(5, 70, 5));
  const QuantizedTensor b = f->quantize(test_matrix(6, 70, 6));
  const Matrix c = golden_gemm(a, b);
  EXPECT_TRUE(same_bits(golden_gemm(ExactOperand(a), ExactOperand(b)), c));
  for (std::int64_t i = 0; i < 5; ++i) {
    for (std::int64_t j = 0; j < 6; ++j) {
      EXPECT_EQ(std::bit_cast<std::uint32_t>(c.row(i)[j]),
                std::bit_cast<std::uint32_t>(golden_dot(a, i, b, j)));
    }
  }
}

TEST(VectorGemm, EveryPairMatchesOnEverySimdTarget) {
  on_every_target([] {
    const int vector_pairs = check_every_pair({6, 19, 70}, 1);
    if (simd_target() == "SCALAR" || simd_target() == "EMU128") {
      EXPECT_EQ(vector_pairs, 0);  // the scalar path serves (vector_gemm.cpp says why)
    } else {
      EXPECT_GT(vector_pairs, 0) << simd_target();
    }
    std::printf("%s: %d pairs on the vector path\n", simd_target().c_str(), vector_pairs);
  });
}

}  // namespace
}  // namespace nibble
