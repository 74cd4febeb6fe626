#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <random>

#include "nibble/models/error.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {
namespace {

double mean_square(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return s / static_cast<double>(v.size());
}

double kurtosis(const std::vector<float>& v) {
  double m2 = 0, m4 = 0;
  for (float x : v) {
    m2 += static_cast<double>(x) * x;
    m4 += std::pow(static_cast<double>(x), 4);
  }
  m2 /= static_cast<double>(v.size());
  m4 /= static_cast<double>(v.size());
  return m4 / (m2 * m2);
}

TEST(Synthetic, ReproduciblePerSeedAndDifferentAcrossSeeds) {
  for (const auto& dist : synthetic_distributions()) {
    const Matrix a = synthetic_tensor(dist, 16, 256, 42);
    const Matrix b = synthetic_tensor(dist, 16, 256, 42);
    const Matrix c = synthetic_tensor(dist, 16, 256, 43);
    EXPECT_EQ(a.data, b.data) << dist;
    EXPECT_NE(a.data, c.data) << dist;
    for (float v : a.data) ASSERT_TRUE(std::isfinite(v)) << dist;
  }
}

TEST(Synthetic, FixedSequenceOfTheStandardEngine) {
  // C++ [rand.predef]: the 10000th invocation of a default-constructed mt19937_64 produces
  // 9981545732273789042, so every conforming library draws the same sequence.
  std::mt19937_64 standard;
  standard.discard(9999);
  EXPECT_EQ(standard(), 9981545732273789042ull);
  // gaussian: Box-Muller on 53-bit uniforms (k + 1/2) 2^-53, k = output >> 11, of mt19937_64(seed).
  std::mt19937_64 engine(1);
  const auto uniform = [&] { return (static_cast<double>(engine() >> 11) + 0.5) * 0x1p-53; };
  const Matrix a = synthetic_tensor("gaussian", 1, 4, 1);
  for (const float v : a.data) {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    EXPECT_EQ(v, static_cast<float>(r * std::cos(2.0 * std::numbers::pi * uniform())));
  }
}

TEST(Synthetic, MomentsMatchTheirDistributions) {
  const auto g = synthetic_tensor("gaussian", 256, 1024, 1).data;
  EXPECT_NEAR(mean_square(g), 1.0, 0.02);
  EXPECT_NEAR(kurtosis(g), 3.0, 0.1);
  const auto l = synthetic_tensor("laplace", 256, 1024, 1).data;
  EXPECT_NEAR(mean_square(l), 1.0, 0.03);
  EXPECT_NEAR(kurtosis(l), 6.0, 0.5);
  const auto t = synthetic_tensor("student-t", 256, 1024, 1).data;
  EXPECT_NEAR(mean_square(t), 3.0, 0.6);  // nu / (nu - 2) = 3; heavy tails make it noisy
  EXPECT_GT(kurtosis(t), 10.0);
}

TEST(Synthetic, LlmActivationsHaveOutlierChannels) {
  const std::int64_t rows = 128, cols = 1024;
  const Matrix m = synthetic_tensor("llm-act", rows, cols, 7);
  const auto outliers = llm_act_outlier_channels(cols, 7);
  EXPECT_EQ(outliers.size(), 5u);  // 0.5% of 1024
  std::vector<double> channel_rms(cols, 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) channel_rms[c] += std::pow(m.row(r)[c], 2);
  }
  std::vector<double> normal;
  for (std::int64_t c = 0; c < cols; ++c) {
    if (!std::binary_search(outliers.begin(), outliers.end(), c)) normal.push_back(channel_rms[c]);
  }
  std::sort(normal.begin(), normal.end());
  const double median = normal[normal.size() / 2];
  for (std::int64_t c : outliers) {
    const double ratio = std::sqrt(channel_rms[c] / median);
    EXPECT_GT(ratio, 15.0) << "channel " << c;
    EXPECT_LT(ratio, 130.0) << "channel " << c;
  }
  EXPECT_LT(std::sqrt(normal.back() / median), 3.0);  // no accidental outliers
}

TEST(Synthetic, LlmWeightRowsHaveDifferentScales) {
  const Matrix m = synthetic_tensor("llm-weight", 64, 2048, 3);
  double lo = 1e30, hi = 0;
  for (std::int64_t r = 0; r < 64; ++r) {
    double s = 0;
    for (std::int64_t c = 0; c < 2048; ++c) s += std::pow(m.row(r)[c], 2);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  EXPECT_GT(std::sqrt(hi / lo), 1.5);
  EXPECT_GT(kurtosis(m.data), 4.0);
}

TEST(Synthetic, BadRequestsAreErrors) {
  EXPECT_THROW(synthetic_tensor("uniform", 2, 2, 0), Error);
  EXPECT_THROW(synthetic_tensor("gaussian", 0, 2, 0), Error);
}

TEST(Evaluate, QsnrOfAKnownErrorAndThreadIndependence) {
  Matrix x(1, 4), y(1, 4);
  x.data = {1, 1, 1, 1};
  y.data = {1.1f, 0.9f, 1, 1};
  const QuantError e = quant_error(x, y);
  // signal 4, noise 2 * 0.01 -> 10 log10(200) = 23.01 dB; max error 0.1.
  EXPECT_NEAR(e.qsnr_db, 10 * std::log10(4 / (2 * std::pow(0.1f * 1.0, 2))), 0.01);
  EXPECT_NEAR(e.max_abs_error, 0.1, 1e-6);
  EXPECT_TRUE(std::isinf(quant_error(x, x).qsnr_db));

  EvalRequest request{{"mxfp4", "int4_g128"}, {"gaussian", "llm-act"}, 8, 256, 5, 1};
  const auto one = evaluate(request);
  request.threads = 3;
  const auto three = evaluate(request);
  ASSERT_EQ(one.size(), 4u);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].format, three[i].format);
    EXPECT_EQ(one[i].error.mse, three[i].error.mse);
  }
  EXPECT_EQ(one[0].format, "mxfp4");
  EXPECT_EQ(one[1].distribution, "llm-act");
  request.formats = {"nope"};
  EXPECT_THROW(evaluate(request), Error);
}

}  // namespace
}  // namespace nibble
