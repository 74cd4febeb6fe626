// hadamard: a seeded randomized Walsh-Hadamard rotation (transform.h).
#include <cmath>
#include <random>

#include "transforms.h"

namespace nibble {
namespace {

// The largest power of two dividing n (n > 0).
std::int64_t power_of_two_block(std::int64_t n) { return n & -n; }

class FittedHadamard final : public FittedTransform {
 public:
  FittedHadamard(std::int64_t k, std::uint64_t seed) : block_(power_of_two_block(k)), signs_(static_cast<size_t>(k)) {
    std::mt19937_64 rng(seed);  // its output sequence is fixed by the standard
    for (float& s : signs_) s = (rng() >> 63) ? -1.0f : 1.0f;
    norm_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(block_)));
  }
  // x diag(signs) H / sqrt(block): Q is orthogonal, so X' W'^T = X Q Q^T W^T = X W^T.
  Matrix activations(MatrixView x) const override { return rotate(x); }
  Matrix weights(MatrixView w) const override { return rotate(w); }

 private:
  Matrix rotate(MatrixView x) const {
    Matrix out(x.rows, x.cols);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      for (std::int64_t j = 0; j < x.cols; ++j) out.row(r)[j] = x.row(r)[j] * signs_[static_cast<size_t>(j)];
    }
    walsh_hadamard_rows(out, block_);
    for (float& v : out.data) v *= norm_;
    return out;
  }
  std::int64_t block_;
  std::vector<float> signs_;
  float norm_;
};

class Hadamard final : public Transform {
 public:
  explicit Hadamard(FormatOptions& options)
      : seed_(static_cast<std::uint64_t>(options.get_int("seed", 1, 0, INT64_MAX))), name_(options.canonical()) {}
  std::string name() const override { return name_; }
  bool needs_calibration() const override { return false; }
  std::unique_ptr<FittedTransform> fit(MatrixView x, MatrixView w, const BlockFormat*, const BlockFormat*) const override {
    if (x.cols != w.cols) channel_stats(x, w);  // reports the mismatch
    return std::make_unique<FittedHadamard>(w.cols, seed_);
  }

 private:
  std::uint64_t seed_;
  std::string name_;
};

}  // namespace

void walsh_hadamard_rows(Matrix& x, std::int64_t block) {
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t start = 0; start < x.cols; start += block) {
      float* v = x.row(r) + start;
      // Butterflies of span h: (a, b) -> (a + b, a - b); log2(block) passes.
      for (std::int64_t h = 1; h < block; h *= 2) {
        for (std::int64_t i = 0; i < block; i += 2 * h) {
          for (std::int64_t j = i; j < i + h; ++j) {
            const float a = v[j], b = v[j + h];
            v[j] = a + b;
            v[j + h] = a - b;
          }
        }
      }
    }
  }
}

std::shared_ptr<const Transform> make_hadamard(FormatOptions& options) { return std::make_shared<Hadamard>(options); }

}  // namespace nibble
