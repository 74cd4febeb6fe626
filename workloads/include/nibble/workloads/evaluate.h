#pragma once
// Accuracy of formats on tensors: the numbers behind `nibble quantize` and `nibble eval`.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nibble/models/block_format.h"
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

// The tensors evaluate() reads, generated once (in parallel) for many evaluations of the
// same request's distributions, shape and seed (a sweep's accuracy source): per distribution
// the evaluated tensor and its held-out calibration tensor.
struct NamedTensor {
  std::string name;
  Matrix tensor;
};
struct SyntheticSet {
  std::vector<NamedTensor> tensors;
  std::vector<Matrix> held_out;
  std::uint64_t calibration_seed = 0;
};
SyntheticSet synthetic_set(const EvalRequest& request);
// evaluate() on tensors made by synthetic_set(request); request.formats and threads are read.
std::vector<EvalRow> evaluate(const EvalRequest& request, const SyntheticSet& set,
                              const std::function<void(int, int)>& progress = {});

// `format` itself, or for a BCQ format the same format with universal LO-BCQ codebooks
// calibrated on `calibration` (sampled with `seed`).
std::shared_ptr<const BlockFormat> calibrated(std::shared_ptr<const BlockFormat> format,
                                              const std::vector<MatrixView>& calibration,
                                              std::uint64_t seed, int threads);

// Any tensors (from .npy, .safetensors, a model's activations): every format on every tensor,
// in parallel over the pairs, rows in (format, tensor) order whatever the thread count; the
// row's `distribution` is the tensor's name. BCQ formats get universal LO-BCQ codebooks
// calibrated on `calibration` (sampled with `calibration_seed`), described in the row's note
// by `calibration_note`.
std::vector<EvalRow> evaluate_tensors(const std::vector<std::string>& formats,
                                      const std::vector<NamedTensor>& tensors,
                                      const std::vector<MatrixView>& calibration,
                                      const std::string& calibration_note,
                                      std::uint64_t calibration_seed, int threads,
                                      const std::function<void(int, int)>& progress = {});

}  // namespace nibble
