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
  double signal = 0, noise = 0, max_abs = 0, last_nan = 0;
  bool nan = false;
  for (size_t i = 0; i < original.data.size(); ++i) {
    const double x = original.data[i];
    const double e = x - static_cast<double>(dequantized.data[i]);
    signal += x * x;
    noise += e * e;
    const double a = std::fabs(e);
    max_abs = a > max_abs ? a : max_abs;  // branch-free; a NaN error is reported as itself
    nan = nan || e != e;
    last_nan = e != e ? e : last_nan;
  }
  if (nan) max_abs = last_nan;
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
  std::vector<size_t> to_calibrate;
  for (const auto& name : format_names) {
    formats.push_back(make_format(name));
    const bool bcq = bcq_params(*formats.back()) != nullptr;
    if (bcq) to_calibrate.push_back(formats.size() - 1);
    notes.push_back(bcq ? "LO-BCQ codebooks calibrated on " + calibration_note : "");
  }
  const auto pairs = static_cast<std::int64_t>(formats.size() * tensors.size());
  std::vector<EvalRow> rows(static_cast<size_t>(pairs));
  std::mutex progress_mutex;
  int done = 0;
  const auto evaluate_pair = [&](std::int64_t i) {
    const NamedTensor& t = tensors[static_cast<size_t>(i) % tensors.size()];
    const size_t f = static_cast<size_t>(i) / tensors.size();
    const BlockFormat& format = *formats[f];
    const Matrix deq = format.dequantize(format.quantize(t.tensor));
    rows[static_cast<size_t>(i)] = {format.info().name, notes[f], t.name, format.info().bits_per_element,
                                    quant_error(t.tensor, deq)};
    const std::lock_guard lock(progress_mutex);
    if (progress) progress(++done, static_cast<int>(pairs));
  };
  // Calibrations (one thread each) and the pairs that need none share one pool, so the cores
  // stay busy while the codebooks are fitted; the BCQ pairs follow. A lone calibration with
  // nothing beside it gets every thread.
  std::vector<std::int64_t> independent, dependent;
  for (std::int64_t i = 0; i < pairs; ++i) {
    const bool bcq = bcq_params(*formats[static_cast<size_t>(i) / tensors.size()]) != nullptr;
    (bcq ? dependent : independent).push_back(i);
  }
  const auto calibrate = [&](size_t f) {
    formats[f] = calibrated(formats[f], calibration, calibration_seed, threads);
  };
  const auto first_tasks = static_cast<std::int64_t>(to_calibrate.size() + independent.size());
  if (first_tasks == 1 && !to_calibrate.empty()) {
    calibrate(to_calibrate.front());
  } else {
    parallel_for(first_tasks, threads, [&](std::int64_t task) {
      const auto c = static_cast<size_t>(task);
      if (c < to_calibrate.size()) {
        calibrate(to_calibrate[c]);
      } else {
        evaluate_pair(independent[c - to_calibrate.size()]);
      }
    });
  }
  parallel_for(static_cast<std::int64_t>(dependent.size()), threads,
               [&](std::int64_t task) { evaluate_pair(dependent[static_cast<size_t>(task)]); });
  return rows;
}

SyntheticSet synthetic_set(const EvalRequest& request) {
  SyntheticSet set;
  set.calibration_seed = request.seed + kCalibrationSeedOffset;
  for (const auto& dist : request.distributions) synthetic_tensor(dist, 1, 1, 0);  // names, in order
  const auto count = static_cast<std::int64_t>(request.distributions.size());
  set.tensors.resize(static_cast<size_t>(count));
  set.held_out.resize(static_cast<size_t>(count));
  parallel_for(2 * count, request.threads, [&](std::int64_t task) {
    const auto d = static_cast<size_t>(task % count);
    const std::string& dist = request.distributions[d];
    if (task < count) {
      set.tensors[d] = {dist, synthetic_tensor(dist, request.rows, request.cols, request.seed)};
    } else {
      set.held_out[d] = synthetic_tensor(dist, std::min<std::int64_t>(request.rows, 128), request.cols,
                                         set.calibration_seed);
    }
  });
  return set;
}

std::vector<EvalRow> evaluate(const EvalRequest& request, const SyntheticSet& set,
                              const std::function<void(int, int)>& progress) {
  const std::vector<MatrixView> calibration(set.held_out.begin(), set.held_out.end());
  return evaluate_tensors(request.formats, set.tensors, calibration,
                          "held-out tensors (seed " + std::to_string(set.calibration_seed) + ")",
                          set.calibration_seed, request.threads, progress);
}

std::vector<EvalRow> evaluate(const EvalRequest& request,
                              const std::function<void(int, int)>& progress) {
  // A bad format name is an error before any tensor is drawn or any thread started.
  for (const auto& name : request.formats) make_format(name);
  return evaluate(request, synthetic_set(request), progress);
}

}  // namespace nibble
