#include "nibble/workloads/evaluate.h"

#include <cmath>
#include <limits>
#include <mutex>

#include "nibble/models/bcq.h"
#include "nibble/models/error.h"
#include "nibble/models/parallel.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {

QuantError quant_error(const Matrix& original, const Matrix& dequantized) {
  if (original.rows != dequantized.rows || original.cols != dequantized.cols) {
    throw Error("quant_error: shapes differ");
  }
  double signal = 0, noise = 0, max_abs = 0;
  for (size_t i = 0; i < original.data.size(); ++i) {
    const double x = original.data[i];
    const double e = x - static_cast<double>(dequantized.data[i]);
    signal += x * x;
    noise += e * e;
    max_abs = std::max(max_abs, std::fabs(e));
    if (std::isnan(e)) max_abs = e;
  }
  QuantError r;
  r.mse = noise / static_cast<double>(original.data.size());
  r.max_abs_error = max_abs;
  r.qsnr_db = noise == 0 ? std::numeric_limits<double>::infinity()
                         : 10.0 * std::log10(signal / noise);
  if (std::isnan(noise)) r.qsnr_db = r.mse = std::numeric_limits<double>::quiet_NaN();
  return r;
}

std::shared_ptr<const BlockFormat> calibrated(std::shared_ptr<const BlockFormat> format,
                                              const std::vector<MatrixView>& calibration,
                                              std::uint64_t seed, int threads) {
  const BcqParams* params = bcq_params(*format);
  if (!params) return format;
  CalibrationOptions options;
  options.threads = threads;
  options.seed = seed;
  return make_bcq(*params, calibrate_bcq(*params, calibration, options).codebooks);
}

std::vector<EvalRow> evaluate_tensors(const std::vector<std::string>& format_names,
                                      const std::vector<NamedTensor>& tensors,
                                      const std::vector<MatrixView>& calibration,
                                      const std::string& calibration_note,
                                      std::uint64_t calibration_seed, int threads,
                                      const std::function<void(int, int)>& progress) {
  // Build (and so validate) every format before starting any work.
  std::vector<std::shared_ptr<const BlockFormat>> formats;
  std::vector<std::string> notes;
  for (const auto& name : format_names) {
    formats.push_back(make_format(name));
    const bool bcq = bcq_params(*formats.back()) != nullptr;
    formats.back() = calibrated(formats.back(), calibration, calibration_seed, threads);
    notes.push_back(bcq ? "LO-BCQ codebooks calibrated on " + calibration_note : "");
  }
  const auto pairs = static_cast<std::int64_t>(formats.size() * tensors.size());
  std::vector<EvalRow> rows(static_cast<size_t>(pairs));
  std::mutex progress_mutex;
  int done = 0;
  parallel_for(pairs, threads, [&](std::int64_t i) {
    const NamedTensor& t = tensors[static_cast<size_t>(i) % tensors.size()];
    const size_t f = static_cast<size_t>(i) / tensors.size();
    const BlockFormat& format = *formats[f];
    const Matrix deq = format.dequantize(format.quantize(t.tensor));
    rows[static_cast<size_t>(i)] = {format.info().name, notes[f], t.name, format.info().bits_per_element,
                                    quant_error(t.tensor, deq)};
    const std::lock_guard lock(progress_mutex);
    if (progress) progress(++done, static_cast<int>(pairs));
  });
  return rows;
}

std::vector<EvalRow> evaluate(const EvalRequest& request,
                              const std::function<void(int, int)>& progress) {
  std::vector<NamedTensor> tensors;
  std::vector<Matrix> held_out;
  // BCQ: universal codebooks from held-out tensors (another seed) of every distribution.
  const std::uint64_t calibration_seed = request.seed + kCalibrationSeedOffset;
  for (const auto& dist : request.distributions) {
    tensors.push_back({dist, synthetic_tensor(dist, request.rows, request.cols, request.seed)});
    held_out.push_back(synthetic_tensor(dist, std::min<std::int64_t>(request.rows, 128), request.cols,
                                        calibration_seed));
  }
  const std::vector<MatrixView> calibration(held_out.begin(), held_out.end());
  return evaluate_tensors(request.formats, tensors, calibration,
                          "held-out tensors (seed " + std::to_string(calibration_seed) + ")",
                          calibration_seed, request.threads, progress);
}

}  // namespace nibble
