#include "nibble/workloads/evaluate.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include "nibble/models/bcq.h"
#include "nibble/models/error.h"
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

std::vector<EvalRow> evaluate(const EvalRequest& request,
                              const std::function<void(int, int)>& progress) {
  // Validate every name before starting any work.
  for (const auto& dist : request.distributions) synthetic_tensor(dist, 1, 1, 0);
  std::vector<std::shared_ptr<const BlockFormat>> formats;
  std::vector<std::string> notes;
  for (const auto& name : request.formats) {
    formats.push_back(make_format(name));
    notes.emplace_back();
    if (!formats.back()->info().bcq) continue;
    // BCQ: universal codebooks from held-out tensors (another seed) of every distribution.
    const BcqParams params = *formats.back()->info().bcq;
    const std::uint64_t seed = request.seed + kCalibrationSeedOffset;
    std::vector<Matrix> sample;
    std::vector<MatrixView> views;
    for (const auto& dist : request.distributions) {
      sample.push_back(synthetic_tensor(dist, std::min<std::int64_t>(request.rows, 128), request.cols, seed));
    }
    for (const Matrix& m : sample) views.emplace_back(m);
    CalibrationOptions options;
    options.seed = seed;
    options.threads = request.threads;
    formats.back() = make_bcq(params, calibrate_bcq(params, views, options).codebooks);
    notes.back() = "LO-BCQ codebooks calibrated on held-out tensors (seed " + std::to_string(seed) + ")";
  }

  const int pairs = static_cast<int>(formats.size() * request.distributions.size());
  std::vector<EvalRow> rows(static_cast<size_t>(pairs));
  std::vector<Matrix> tensors(request.distributions.size());
  std::vector<std::once_flag> made(request.distributions.size());
  std::atomic<int> next{0};
  int done = 0;
  std::mutex progress_mutex;
  std::exception_ptr failure;

  const auto work = [&] {
    for (int i = next++; i < pairs; i = next++) {
      try {
        const size_t d = static_cast<size_t>(i) % request.distributions.size();
        const size_t f = static_cast<size_t>(i) / request.distributions.size();
        std::call_once(made[d], [&] {
          tensors[d] = synthetic_tensor(request.distributions[d], request.rows, request.cols,
                                        request.seed);
        });
        const BlockFormat& format = *formats[f];
        const Matrix deq = format.dequantize(format.quantize(tensors[d]));
        rows[static_cast<size_t>(i)] = {format.info().name, notes[f], request.distributions[d],
                                        format.info().bits_per_element,
                                        quant_error(tensors[d], deq)};
      } catch (...) {
        const std::lock_guard lock(progress_mutex);
        if (!failure) failure = std::current_exception();
      }
      const std::lock_guard lock(progress_mutex);
      ++done;
      if (progress) progress(done, pairs);
    }
  };
  int threads = request.threads > 0 ? request.threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::max(1, std::min(threads, pairs));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return rows;
}

}  // namespace nibble
