// BCQ and LO-BCQ: parameters, ties, packing, calibration invariants and the golden dot product.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "contract_reference.h"
#include "nibble/models/bcq.h"
#include "nibble/models/dot.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::exponential_distribution<float> spread(1.0f);
  Matrix m(rows, cols);
  for (float& v : m.data) v = normal(rng) * (0.2f + spread(rng));
  return m;
}

TEST(Bcq, BitsPerElementAreExact) {
  const std::pair<const char*, double> expected[] = {
      {"bcq", 4.625},           {"bcq:nc=8", 4.5},     {"bcq:la=32", 4.75},
      {"bcq:scale=bf16", 4.75}, {"bcq:nc=1", 4.125},   {"bcq:nc=10", 4 + std::log2(10.0) / 8 + 0.125},
      {"bcq:b=3:lb=4:la=16", 3 + 1.0 + 0.5}};
  for (const auto& [name, bits] : expected) {
    EXPECT_DOUBLE_EQ(make_format(name)->info().bits_per_element, bits) << name;
  }
}

TEST(Bcq, BadParametersAreErrors) {
  for (const char* bad : {"bcq:la=60", "bcq:nc=65", "bcq:lb=1", "bcq:e=9", "bcq:b=5",
                          "bcq:scale=fp16", "bcq:x=1"}) {
    EXPECT_THROW(make_format(bad), Error) << bad;
  }
  BcqParams p;
  Codebooks books = default_codebooks(p);
  books.values[3] = 40;  // beyond the 6-bit grid
  EXPECT_THROW(make_bcq(p, books), Error);
  books = default_codebooks(p);
  std::swap(books.values[15 * 16], books.values[15 * 16 + 1]);  // unsorted (-31, -27)
  EXPECT_THROW(make_bcq(p, books), Error);
  books = default_codebooks(p);
  books.values[2] = 0.5f;  // not an integer
  EXPECT_THROW(make_bcq(p, books), Error);
}

// The encoder against brute force, on every SIMD target: bcq_encoder_test.cpp.

TEST(Bcq, TiesGoToTheLargerEntryAndPackedLayoutDecodes) {
  // One codebook {-1, 1} (b = 1), grid max M = 1 (e = 2), FP32 scales: amax 2 -> s = 2.
  // x = 0 is a tie between -1 and 1 -> 1 (index 1); x = -2 -> -1 (index 0).
  BcqParams p = parse_bcq_params("bcq:nc=1:b=1:e=2:lb=2:la=4:scale=fp32");
  const auto f = make_bcq(p, Codebooks{1, 2, {-1, 1}});
  Matrix x(1, 4);
  x.data = {2, 0, -2, 1};
  const QuantizedTensor q = f->quantize(x);
  EXPECT_EQ(q.elements[0], 0b1011);  // indices 1, 1, 0, 1, LSB first
  const Matrix d = f->dequantize(q);
  EXPECT_EQ(d.data, (std::vector<float>{2, 2, -2, 2}));
}

TEST(Bcq, TiesHoldWhenTheScaleHasNoExactReciprocal) {
  // FP32 scale s = 13888 / 31 = 448, whose reciprocal is inexact in FP32: y = x / s must be
  // divided, not multiplied by 1/s. y = -672 / 448 = -1.5 ties between -2 and -1 -> -1.
  BcqParams p = parse_bcq_params("bcq:nc=1:b=2:e=6:lb=2:la=4:scale=fp32");
  const auto f = make_bcq(p, Codebooks{1, 4, {-2, -1, 1, 31}});
  Matrix x(1, 4);
  x.data = {13888, -672, 0, 0};
  EXPECT_EQ(f->dequantize(f->quantize(x)).data, (std::vector<float>{13888, -448, 448, 448}));
}

TEST(Bcq, TinyTensorsQuantizeToFiniteValues) {
  // g = amax / (448 M) near the bottom of FP32: 1 / (s g) overflowed to Inf, and 0 * Inf
  // made NaN scaled values (and out-of-range table cells).
  Matrix x = random_matrix(2, 64, 9);
  for (float& v : x.data) v *= 1e-40f;
  for (int i = 0; i < 8; ++i) x.data[i] = 0;
  const Matrix d = make_format("bcq")->dequantize(make_format("bcq")->quantize(x));
  for (const float v : d.data) EXPECT_TRUE(std::isfinite(v));
}

TEST(Bcq, NaNAndZeroArrays) {
  Matrix x = random_matrix(1, 192, 5);
  for (int i = 64; i < 128; ++i) x.data[i] = 0;
  x.data[150] = NAN;
  const auto f = make_format("bcq");
  const Matrix d = f->dequantize(f->quantize(x));
  for (int i = 64; i < 128; ++i) EXPECT_EQ(d.data[i], 0.0f) << i;
  for (int i = 128; i < 192; ++i) EXPECT_TRUE(std::isnan(d.data[i])) << i;
  EXPECT_FALSE(std::isnan(d.data[0]));
}

TEST(Bcq, SubnormalArraysStayFinite) {
  // Found by fuzz_format: a tensor of subnormals (amax 2.3e-38) makes s x g underflow, and
  // 0 x (1 / 0) turned its zeros into NaN; with E8M0 or BF16 scales s itself underflows.
  // (Zeros need not stay zero: the default codebooks hold no 0 entry.)
  Matrix x(1, 64);
  x.data[0] = 8.15e-41f;
  x.data[2] = 2.34e-38f;
  for (const char* name : {"bcq:lb=4", "bcq:scale=e8m0", "bcq:scale=bf16", "bcq:scale=fp32"}) {
    const auto f = make_format(name);
    const Matrix d = f->dequantize(f->quantize(x));
    for (int i = 0; i < 64; ++i) ASSERT_TRUE(std::isfinite(d.data[i])) << name << " " << i;
  }
}

TEST(LoBcq, MseNeverRisesAndIsThreadIndependent) {
  const Matrix x = random_matrix(64, 1024, 6);
  const BcqParams p;
  CalibrationOptions options;
  options.tolerance = 0;
  options.max_iterations = 8;
  options.threads = 1;
  const CalibrationResult one = calibrate_bcq(p, {MatrixView(x)}, options);
  ASSERT_GE(one.mse.size(), 2u);
  for (size_t i = 1; i < one.mse.size(); ++i) {
    EXPECT_LE(one.mse[i], one.mse[i - 1] * (1 + 1e-12)) << "iteration " << i;
  }
  EXPECT_LT(one.mse.back(), one.mse.front());
  options.threads = 3;
  const CalibrationResult three = calibrate_bcq(p, {MatrixView(x)}, options);
  EXPECT_EQ(one.codebooks.values, three.codebooks.values);
  EXPECT_EQ(one.mse, three.mse);
  // Calibrated codebooks beat the default ones on the data they were fitted to.
  const auto calibrated = make_bcq(p, one.codebooks);
  const auto fixed = make_format("bcq");
  const auto error = [&](const BlockFormat& f) {
    const Matrix d = f.dequantize(f.quantize(x));
    double e = 0;
    for (size_t i = 0; i < x.data.size(); ++i) e += std::pow(x.data[i] - d.data[i], 2);
    return e;
  };
  EXPECT_LT(error(*calibrated), error(*fixed));
}

TEST(BcqDot, ExactAgainstTheContractReference) {
  const BcqParams p;
  const auto bcq = make_bcq(p, calibrate_bcq(p, {MatrixView(random_matrix(32, 512, 7))}, {}).codebooks);
  const QuantizedTensor a = bcq->quantize(random_matrix(4, 300, 8));  // 300: partial array
  const QuantizedTensor b = bcq->quantize(random_matrix(5, 300, 9));
  const Matrix c = golden_gemm(a, b);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 5; ++j) EXPECT_EQ(c.row(i)[j], reference_dot(a, i, b, j)) << i << "," << j;
  }
  // BCQ with 32-scalar arrays against MXFP4 (block 32).
  const BcqParams p32 = parse_bcq_params("bcq:la=32");
  const auto bcq32 = make_bcq(p32, default_codebooks(p32));
  const auto mx = make_format("mxfp4");
  const QuantizedTensor a32 = bcq32->quantize(random_matrix(3, 256, 10));
  const QuantizedTensor bmx = mx->quantize(random_matrix(4, 256, 11));
  const Matrix cm = golden_gemm(a32, bmx);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_EQ(cm.row(i)[j], reference_dot(a32, i, bmx, j));
  }
  EXPECT_THROW(golden_gemm(a, bmx), Error);  // arrays of 64 against blocks of 32
  EXPECT_FALSE(make_format("bcq:entries=float")->supports_dot());
}

TEST(BcqDot, E8m0AndBf16ScalesAgreeWithTheDequantizedValues) {
  // With g = 1 every dequantized value entry * s is exact, so each array's partial is the
  // exact (double) sum of products of dequantized values: the contract recomputed without
  // the golden-dot view (whose E8M0 / BF16 scales once overflowed int64).
  for (const char* name : {"bcq:scale=e8m0", "bcq:scale=bf16"}) {
    const auto f = make_format(name);
    Matrix xa = random_matrix(2, 256, 12), xb = random_matrix(3, 256, 13);
    for (float& v : xa.data) v *= 1e6f;  // scales far from 1 on both sides
    for (float& v : xb.data) v *= 1e-6f;
    const QuantizedTensor a = f->quantize(xa), b = f->quantize(xb);
    const Matrix da = f->dequantize(a), db = f->dequantize(b);
    const Matrix c = golden_gemm(a, b);
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) {
        float acc = 0;
        for (int k0 = 0; k0 < 256; k0 += 64) {
          double partial = 0;
          for (int k = k0; k < k0 + 64; ++k) {
            partial += static_cast<double>(da.row(i)[k]) * static_cast<double>(db.row(j)[k]);
          }
          acc += static_cast<float>(partial);
        }
        EXPECT_EQ(c.row(i)[j], acc) << name << " " << i << "," << j;
      }
    }
  }
}

}  // namespace
}  // namespace nibble
