// hadamard: a seeded randomized Walsh-Hadamard rotation (transform.h).
#include <cmath>
#include <random>

#include "nibble/models/error.h"
#include "transforms.h"

namespace nibble {
namespace {

// Butterflies of span h: (a, b) -> (a + b, a - b).
void radix2_pass(float* v, std::int64_t n, std::int64_t h) {
  for (std::int64_t i = 0; i < n; i += 2 * h) {
    for (std::int64_t j = i; j < i + h; ++j) {
      const float a = v[j], b = v[j + h];
      v[j] = a + b;
      v[j + h] = a - b;
    }
  }
}

// The passes of span h and 2h at once, with the same additions in the same order as two
// radix-2 passes (so the same bits), but one trip through memory; contiguous in j, so it
// vectorizes.
void radix4_pass(float* v, std::int64_t n, std::int64_t h) {
  for (std::int64_t i = 0; i < n; i += 4 * h) {
    for (std::int64_t j = i; j < i + h; ++j) {
      const float a = v[j], b = v[j + h], c = v[j + 2 * h], d = v[j + 3 * h];
      const float ab = a + b, a_b = a - b, cd = c + d, c_d = c - d;
      v[j] = ab + cd;
      v[j + h] = a_b + c_d;
      v[j + 2 * h] = ab - cd;
      v[j + 3 * h] = a_b - c_d;
    }
  }
}

// Spans 1, 2 and 4 on every 8 consecutive values, in registers.
void radix8_first_passes(float* v, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 8) {
    float t[8];
    for (int k = 0; k < 8; k += 2) {
      t[k] = v[i + k] + v[i + k + 1];
      t[k + 1] = v[i + k] - v[i + k + 1];
    }
    float u[8];
    for (int k = 0; k < 8; k += 4) {
      u[k] = t[k] + t[k + 2];
      u[k + 1] = t[k + 1] + t[k + 3];
      u[k + 2] = t[k] - t[k + 2];
      u[k + 3] = t[k + 1] - t[k + 3];
    }
    for (int k = 0; k < 4; ++k) {
      v[i + k] = u[k] + u[k + 4];
      v[i + k + 4] = u[k] - u[k + 4];
    }
  }
}

// One row: y = v H_block per block of `block` values, in place.
void walsh_hadamard_row(float* row, std::int64_t n, std::int64_t block) {
  for (std::int64_t start = 0; start < n; start += block) {
    float* v = row + start;
    std::int64_t h = 1;
    if (block >= 8) {
      radix8_first_passes(v, block);
      h = 8;
    }
    for (; 4 * h <= block; h *= 4) radix4_pass(v, block, h);
    for (; h < block; h *= 2) radix2_pass(v, block, h);
  }
}

// The largest power of two dividing n (n > 0).
std::int64_t power_of_two_block(std::int64_t n) { return n & -n; }

class FittedHadamard final : public FittedTransform {
 public:
  FittedHadamard(std::int64_t k, std::uint64_t seed) : rotation_(k, seed) {}
  // x diag(signs) H / sqrt(block): Q is orthogonal, so X' W'^T = X Q Q^T W^T = X W^T.
  Matrix activations(MatrixView x) const override { return rotate(x); }
  Matrix weights(MatrixView w) const override { return rotate(w); }

 private:
  Matrix rotate(MatrixView x) const {
    Matrix out = fake_quantize(nullptr, x);
    rotation_.apply(out);
    return out;
  }
  HadamardRotation rotation_;
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

HadamardRotation::HadamardRotation(std::int64_t k, std::uint64_t seed)
    : block_(power_of_two_block(k)), signs_(static_cast<size_t>(k)) {
  std::mt19937_64 rng(seed);  // its output sequence is fixed by the standard
  for (float& s : signs_) s = (rng() >> 63) ? -1.0f : 1.0f;
  norm_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(block_)));
}

// Row by row, so that signs, butterflies and normalization all work on a row in cache.
void HadamardRotation::apply(Matrix& x) const {
  if (x.cols != static_cast<std::int64_t>(signs_.size())) {
    throw Error("hadamard: rotation of " + std::to_string(signs_.size()) + " channels applied to " +
                std::to_string(x.cols));
  }
  for (std::int64_t r = 0; r < x.rows; ++r) {
    float* y = x.row(r);
    for (std::int64_t j = 0; j < x.cols; ++j) y[j] *= signs_[static_cast<size_t>(j)];
    walsh_hadamard_row(y, x.cols, block_);
    for (std::int64_t j = 0; j < x.cols; ++j) y[j] *= norm_;
  }
}

void walsh_hadamard_rows(Matrix& x, std::int64_t block) {
  for (std::int64_t r = 0; r < x.rows; ++r) walsh_hadamard_row(x.row(r), x.cols, block);
}

std::shared_ptr<const Transform> make_hadamard(FormatOptions& options) { return std::make_shared<Hadamard>(options); }

}  // namespace nibble
