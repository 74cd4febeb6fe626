// Sweep throughput (issue 11): analytic points of Llama-2-7B prefill + decode through the
// whole engine (spec, ids, worker threads, the SQLite writer), against the same points
// evaluated by evaluate_point alone on the same threads (the reference of the ratio).
//   sweep_bench [THREADS=2] [POINTS_PER_PHASE=3000]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "nibble/sim/design_space.h"
#include "nibble/sim/sweep_engine.h"

namespace {

double seconds(const std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nibble;
  const int threads = argc > 1 ? std::stoi(argv[1]) : 2;
  const int per_phase = argc > 2 ? std::stoi(argv[2]) : 3000;
  // array.rows x array.cols x buffers.w_kib = per_phase hardware points, x 2 phases.
  const int side = 10, buffers = per_phase / (side * side);
  const std::string dir = (std::filesystem::temp_directory_path() / ("nibble_sweep_bench_" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string spec_path = dir + "/spec.yaml";
  std::ofstream(spec_path) << "nibble_sweep: 1\nname: bench\nhardware: " << NIBBLE_SOURCE_DIR << "/sim/configs/example_hw.yaml\n"
                           << "workload: {model: llama-2-7b, prompt: 512, context: 2048}\nformats: {w: nvfp4, a: nvfp4}\n"
                           << "axes:\n  array.rows: {from: 8, to: " << 8 * side << ", step: 8}\n"
                           << "  array.cols: {from: 8, to: " << 8 * side << ", step: 8}\n"
                           << "  buffers.w_kib: {from: 256, to: " << 256 + 64 * (buffers - 1) << ", step: 64}\n"
                           << "  workload.phase: [prefill, decode]\n";
  const auto space = make_design_space();
  const SweepSpec spec = load_sweep_spec(spec_path, *space);

  const auto reference_start = std::chrono::steady_clock::now();
  const std::vector<SweepPoint> points = expand_points(spec, *space);
  PointRunner evaluate_only = threaded_runner(*space, threads);
  std::vector<size_t> all(points.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  evaluate_only(points, all, [](PointRow) {});
  const double reference = seconds(reference_start);

  SweepOptions options;
  options.out_dir = dir + "/out";
  options.threads = threads;
  const SweepSummary s = run_sweep(spec, *space, options, {}, threaded_runner(*space, threads));
  std::filesystem::remove_all(dir);

  const double rate = static_cast<double>(s.ok + s.failed) / s.seconds * 60;
  std::printf("points: %lld (%lld ok, %lld failed), threads %d\n", static_cast<long long>(s.ok + s.failed),
              static_cast<long long>(s.ok), static_cast<long long>(s.failed), threads);
  std::printf("sweep (spec + ids + evaluation + SQLite store): %.2f s = %.0f points/min\n", s.seconds, rate);
  std::printf("evaluate_point alone (ids included, no store):   %.2f s = %.0f points/min\n", reference,
              static_cast<double>(points.size()) / reference * 60);
  std::printf("sweep / evaluate-only time: %.2f\n", s.seconds / reference);
  return 0;
}
