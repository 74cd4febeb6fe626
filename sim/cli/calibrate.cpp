#include <cmath>
#include <cstdio>

#include "command.h"
#include "nibble/models/bcq.h"
#include "nibble/models/error.h"
#include "nibble/workloads/codebook_json.h"
#include "nibble/workloads/npy.h"

namespace nibble::cli {

int run_calibrate(const Args& args) {
  namespace po = boost::program_options;
  CalibrationOptions options;
  po::options_description description("calibrate options");
  description.add_options()
      ("format", po::value<std::string>()->required(), "bcq format, e.g. bcq:lb=8:la=64:nc=16:e=6")
      ("in", po::value<std::vector<std::string>>()->required()->multitoken(), "calibration tensors (.npy)")
      ("out", po::value<std::string>()->required(), "codebook file to write (.json)")
      ("iters", po::value<int>(&options.max_iterations)->default_value(options.max_iterations), "iteration cap")
      ("tol", po::value<double>(&options.tolerance)->default_value(options.tolerance), "relative MSE change that stops")
      ("seed", po::value<std::uint64_t>(&options.seed)->default_value(options.seed), "sampling seed")
      ("max-blocks", po::value<std::int64_t>(&options.max_blocks)->default_value(options.max_blocks),
       "blocks sampled across all inputs (0: all)")
      ("threads", po::value<int>(&options.threads)->default_value(0), "worker threads (0: all cores)");
  po::variables_map vm;
  if (!parse_options("calibrate", args, description, vm)) return 0;
  require_option(options.max_iterations >= 0, "iters", ">= 0", options.max_iterations);
  require_option(std::isfinite(options.tolerance) && options.tolerance >= 0, "tol",
                 "a finite number >= 0", options.tolerance);
  require_option(options.max_blocks >= 0, "max-blocks", ">= 0 (0: all blocks)",
                 static_cast<double>(options.max_blocks));
  require_threads(options.threads);
  Outputs outputs;
  const std::string out = outputs.add(vm["out"].as<std::string>());

  CodebookFile file;
  file.params = parse_bcq_params(vm["format"].as<std::string>());
  std::vector<Matrix> tensors;
  std::vector<MatrixView> views;
  for (const std::string& path : vm["in"].as<std::vector<std::string>>()) {
    tensors.push_back(read_npy(path));
    file.calibrated_on += (file.calibrated_on.empty() ? "" : ", ") + path;
  }
  for (const Matrix& m : tensors) views.emplace_back(m);
  const CalibrationResult result = calibrate_bcq(file.params, views, options);
  for (size_t i = 0; i < result.mse.size(); ++i) {
    std::printf("iteration %2zu  mse %.6g%s\n", i, result.mse[i], i == 0 ? "  (initialization)" : "");
  }
  file.codebooks = result.codebooks;
  file.mse_per_iteration = result.mse;
  save_codebooks(out, file);
  outputs.commit();
  std::printf("wrote %d codebooks of %d entries for %s to %s\n", file.codebooks.count,
              file.codebooks.entries, file.params.name().c_str(), vm["out"].as<std::string>().c_str());
  return 0;
}

}  // namespace nibble::cli
