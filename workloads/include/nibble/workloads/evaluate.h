#pragma once
// Accuracy of formats on tensors: the numbers behind `nibble quantize` and `nibble eval`.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nibble/models/tensor.h"

namespace nibble {

struct QuantError {
  double mse = 0;
  double qsnr_db = 0;  // 10 log10(sum x^2 / sum (x - q)^2); +inf when q == x
  double max_abs_error = 0;
};

// Compares a tensor with its quantized-dequantized copy (same shape). NaN anywhere in either
// makes every figure NaN, so a broken block is never averaged away.
QuantError quant_error(const Matrix& original, const Matrix& dequantized);

struct EvalRow {
  std::string format;
  std::string note;  // how the format's codebooks were made (BCQ), else empty
  std::string distribution;
  double bits_per_element = 0;
  QuantError error;
};

struct EvalRequest {
  std::vector<std::string> formats;
  std::vector<std::string> distributions;
  std::int64_t rows = 256;
  std::int64_t cols = 4096;
  std::uint64_t seed = 1;
  int threads = 0;  // 0: every core
};

// Quantizes synthetic_tensor(dist, rows, cols, seed) with every format, in parallel over the
// (format, distribution) pairs. BCQ formats get universal LO-BCQ codebooks calibrated on
// other tensors of the same distributions (seed + kCalibrationSeedOffset), never on the
// evaluated ones. Rows come back in request order, the same for any thread
// count. `progress(done, total)` is called after each pair (from worker threads, serialized).
inline constexpr std::uint64_t kCalibrationSeedOffset = 1000003;

std::vector<EvalRow> evaluate(const EvalRequest& request,
                              const std::function<void(int, int)>& progress = {});

}  // namespace nibble
