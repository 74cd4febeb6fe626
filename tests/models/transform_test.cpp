// Transforms keep X W^T + b: checked in FP64 against the untransformed product on random and
// adversarial operands, plus each transform's defining property.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "expect_error.h"
#include "nibble/models/registry.h"
#include "nibble/models/transform.h"

namespace nibble {
namespace {

Matrix random_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed, double outlier_scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;  // any distribution: only the equality is tested
  Matrix m(rows, cols);
  for (float& v : m.data) v = normal(rng);
  for (std::int64_t r = 0; r < rows; ++r) m.row(r)[cols / 3] *= static_cast<float>(outlier_scale);
  return m;
}

// Adversarial activations: a huge outlier channel, an all-zero channel, a constant channel, an
// all-negative channel and one that is zero except in a single token.
Matrix adversarial(std::int64_t rows, std::int64_t cols) {
  Matrix m = random_matrix(rows, cols, 99, 1e4);
  for (std::int64_t r = 0; r < rows; ++r) {
    m.row(r)[0] = 0.0f;
    m.row(r)[1] = 7.25f;
    m.row(r)[2] = -std::fabs(m.row(r)[2]) - 100.0f;
    m.row(r)[3] = r == 1 ? 3e3f : 0.0f;
  }
  return m;
}

// max over outputs of |X'W'^T + b' - X W^T| / (||m|| ||w_n||) in units of 2^-24, where m_j is
// the channel's largest magnitude (it bounds both x and the OS+ shift).
double equality_error(const Transform& t, const Matrix& x, const Matrix& w) {
  const auto fitted = t.fit(x, w, make_format("int4_g32").get(), make_format("int4_g32").get());
  const Matrix xt = fitted->activations(x), wt = fitted->weights(w);
  const std::vector<float> bias = fitted->bias(w);
  std::vector<double> channel_max(static_cast<size_t>(x.cols), 0.0);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t j = 0; j < x.cols; ++j) channel_max[static_cast<size_t>(j)] = std::max(channel_max[static_cast<size_t>(j)], std::fabs(static_cast<double>(x.row(r)[j])));
  }
  double m_norm = 0;
  for (double v : channel_max) m_norm += v * v;
  m_norm = std::sqrt(m_norm);
  double worst = 0;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t n = 0; n < w.rows; ++n) {
      double exact = 0, transformed = bias.empty() ? 0.0 : bias[static_cast<size_t>(n)], w_norm = 0;
      for (std::int64_t j = 0; j < x.cols; ++j) {
        exact += static_cast<double>(x.row(r)[j]) * w.row(n)[j];
        transformed += static_cast<double>(xt.row(r)[j]) * wt.row(n)[j];
        w_norm += static_cast<double>(w.row(n)[j]) * w.row(n)[j];
      }
      worst = std::max(worst, std::fabs(transformed - exact) / (m_norm * std::sqrt(w_norm)) / std::ldexp(1.0, -24));
    }
  }
  return worst;
}

TEST(Transform, KeepsTheProductOnRandomAndAdversarialOperands) {
  for (const char* name : {"hadamard", "hadamard:seed=7", "smoothquant", "smoothquant:alpha=0.85", "osplus",
                           "smoothquant+hadamard", "osplus+hadamard", "hadamard+osplus"}) {
    const auto t = make_transform(name);
    for (const std::int64_t k : {64, 352, 33, 1024}) {
      SCOPED_TRACE(std::string(name) + " K=" + std::to_string(k));
      const Matrix w = random_matrix(24, k, 5, 1);
      // FP32 precision: each product term carries a few roundings, the rotation log2(K) more.
      const double allowed = 8 * (std::log2(static_cast<double>(k)) + 4);
      EXPECT_LT(equality_error(*t, random_matrix(16, k, 3, 30), w), allowed);
      EXPECT_LT(equality_error(*t, adversarial(16, k), w), allowed);
    }
  }
}

// The fast transform equals multiplication by the Sylvester Hadamard matrix
// H_ij = (-1)^popcount(i & j), block by block.
TEST(Transform, FastWalshHadamardIsTheSylvesterMatrix) {
  for (const std::int64_t block : {1, 2, 4, 8, 16, 32, 64, 128}) {
    Matrix basis(2 * block, 2 * block);
    for (std::int64_t i = 0; i < 2 * block; ++i) basis.row(i)[i] = 1.0f;
    walsh_hadamard_rows(basis, block);
    for (std::int64_t i = 0; i < 2 * block; ++i) {
      for (std::int64_t j = 0; j < 2 * block; ++j) {
        const bool same_block = i / block == j / block;
        const float h = (std::popcount(static_cast<std::uint64_t>((i % block) & (j % block))) % 2) ? -1.0f : 1.0f;
        EXPECT_EQ(basis.row(i)[j], same_block ? h : 0.0f) << block << " " << i << " " << j;
      }
    }
  }
}

TEST(Transform, EachTransformDoesWhatItsPaperSays) {
  const Matrix x = random_matrix(32, 64, 11, 50), w = random_matrix(16, 64, 12, 1);
  // Hadamard spreads the outlier channel: the activations' largest magnitude falls.
  const auto rotated = make_transform("hadamard")->fit(x, w, nullptr, nullptr)->activations(x);
  float before = 0, after = 0;
  for (float v : x.data) before = std::max(before, std::fabs(v));
  for (float v : rotated.data) after = std::max(after, std::fabs(v));
  EXPECT_LT(after, before / 3);
  // Different seeds, different signs; same seed, same rotation.
  EXPECT_EQ(make_transform("hadamard:seed=3")->fit(x, w, nullptr, nullptr)->weights(w).data,
            make_transform("hadamard:seed=3")->fit(x, w, nullptr, nullptr)->weights(w).data);
  EXPECT_NE(make_transform("hadamard:seed=3")->fit(x, w, nullptr, nullptr)->weights(w).data,
            make_transform("hadamard:seed=4")->fit(x, w, nullptr, nullptr)->weights(w).data);
  // SmoothQuant alpha = 1 moves all of the range to the weights: every activation channel's
  // max |x| becomes 1.
  const Matrix smooth = make_transform("smoothquant:alpha=1")->fit(x, w, nullptr, nullptr)->activations(x);
  for (std::int64_t j = 0; j < x.cols; ++j) {
    float m = 0;
    for (std::int64_t r = 0; r < x.rows; ++r) m = std::max(m, std::fabs(smooth.row(r)[j]));
    EXPECT_NEAR(m, 1.0f, 1e-6f);
  }
  // OS+ centres every channel: max + min of each shifted channel is 0.
  const Matrix shifted = make_transform("osplus")->fit(x, w, make_format("int4_g32").get(), make_format("int4_g32").get())->activations(x);
  for (std::int64_t j = 0; j < x.cols; ++j) {
    float lo = INFINITY, hi = -INFINITY;
    for (std::int64_t r = 0; r < x.rows; ++r) {
      lo = std::min(lo, shifted.row(r)[j]);
      hi = std::max(hi, shifted.row(r)[j]);
    }
    EXPECT_NEAR(lo + hi, 0.0f, 1e-5f * (hi - lo));
  }
  EXPECT_EQ(make_transform("smoothquant:alpha=0.8+hadamard")->name(), "smoothquant:alpha=0.8+hadamard");
  expect_error([] { make_transform("rotate"); }, {"unknown transform 'rotate'"});
  expect_error([] { make_transform("smoothquant:alpha=2"); }, {"alpha=2"});
  expect_error([] { make_transform("hadamard:sead=1"); }, {"sead"});
  expect_error([&] { make_transform("osplus")->fit(x, random_matrix(4, 32, 1, 1), nullptr, nullptr); }, {"64", "32"});
}

}  // namespace
}  // namespace nibble
