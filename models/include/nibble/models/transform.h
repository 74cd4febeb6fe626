#pragma once
// Transforms of a linear layer's operands that make low-bit activations work, named like
// formats and composable with '+' (applied left to right):
//
//   hadamard[:seed=1]        randomized orthogonal rotation Q = diag(signs) H / sqrt(n) along K
//                            (QuaRot): X' = X Q, W' = W Q. H is the Walsh-Hadamard matrix, applied
//                            by the fast transform in O(n log n) per row. For K = 2^a * m with m
//                            odd, H is block-diagonal: m blocks of the 2^a-point transform (so
//                            K = 352 = 11 * 32 rotates within blocks of 32; odd K has blocks of
//                            one, i.e. only the random signs). Signs are seeded and reproducible.
//   smoothquant[:alpha=0.5]  SmoothQuant: s_j = max|X_j|^alpha / max|W_j|^(1-alpha) over the
//                            calibration activations X and the weight's input channel j;
//                            X' = X diag(1/s), W' = W diag(s) (s_j = 1 where either max is 0).
//   osplus[:grid=20]         Outlier Suppression+: shift z_j = (max X_j + min X_j) / 2 folded into
//                            the bias (b' = b + W z), then s_j = max(1, max|X_j - z_j| / t) with
//                            the threshold t picked from `grid` evenly spaced candidates up to the
//                            largest shifted channel range as the one with the least output error
//                            of the fake-quantized GEMM on the calibration activations;
//                            X' = (X - z) diag(1/s), W' = W diag(s).
//
// Every transform keeps X W^T + b equal in exact arithmetic: X' W'^T + b' = X W^T + b.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/models/block_format.h"
#include "nibble/models/tensor.h"

namespace nibble {

// A transform fitted to one linear layer: what runs offline on the weight and online on
// every activation.
class FittedTransform {
 public:
  virtual ~FittedTransform() = default;
  virtual Matrix activations(MatrixView x) const = 0;  // X' from X [M, K]
  virtual Matrix weights(MatrixView w) const = 0;      // W' from W [N, K]
  // b' - b for the layer's weight (length N); empty when the transform adds none.
  virtual std::vector<float> bias(MatrixView w) const { (void)w; return {}; }
};

class Transform {
 public:
  virtual ~Transform() = default;
  virtual std::string name() const = 0;
  // Fits to calibration activations x [M, K] and the weight w [N, K]; the formats (nullptr:
  // FP32) are those the transformed operands will be quantized to (OS+'s search uses them).
  virtual std::unique_ptr<FittedTransform> fit(MatrixView x, MatrixView w, const BlockFormat* x_format,
                                               const BlockFormat* w_format) const = 0;
  // Whether fit() reads x at all (rotations do not): callers can skip calibration.
  virtual bool needs_calibration() const { return true; }
};

// Builds "hadamard", "smoothquant:alpha=0.8", "smoothquant+hadamard", ...; throws
// nibble::Error for an unknown transform or option.
std::shared_ptr<const Transform> make_transform(std::string_view name);

// hadamard's rotation of K channels with a seed, applied in place to every row of x (what
// FittedTransform::activations/weights run on a copy).
class HadamardRotation {
 public:
  HadamardRotation(std::int64_t k, std::uint64_t seed);
  void apply(Matrix& x) const;  // throws nibble::Error when x.cols != k

 private:
  std::int64_t block_;
  std::vector<float> signs_;
  float norm_;
};

// The fast Walsh-Hadamard transform of every row of x in place, unnormalized, in blocks of
// `block` (a power of two dividing x.cols): y = x H_block per block.
void walsh_hadamard_rows(Matrix& x, std::int64_t block);

}  // namespace nibble
