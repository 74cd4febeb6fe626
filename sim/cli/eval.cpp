#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/synthetic.h"

namespace nibble::cli {
namespace {

// Version of the CSV columns below; bump it when they change.
constexpr int kEvalSchemaVersion = 1;
// Each (format, distribution) pair holds its tensor and its dequantization at once, per thread.
constexpr std::int64_t kMaxEvalElements = std::int64_t{1} << 28;

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
  return s;
}

}  // namespace

int run_eval(const Args& args) {
  namespace po = boost::program_options;
  EvalRequest request;
  std::string formats = join(listed_formats()), dists = join(synthetic_distributions());
  po::options_description options("eval options");
  options.add_options()
      ("formats", po::value<std::string>(&formats)->default_value(formats), "comma-separated formats")
      ("dist", po::value<std::string>(&dists)->default_value(dists), "comma-separated distributions")
      ("seed", po::value<std::uint64_t>(&request.seed)->default_value(1), "random seed")
      ("rows", po::value<std::int64_t>(&request.rows)->default_value(256), "rows per tensor")
      ("cols", po::value<std::int64_t>(&request.cols)->default_value(4096), "columns per tensor")
      ("threads", po::value<int>(&request.threads)->default_value(0), "worker threads (0: all cores)")
      ("csv", po::value<std::string>(), "also write the table as CSV to this file");
  po::variables_map vm;
  if (!parse_options("eval", args, options, vm)) return 0;
  request.formats = split_list(formats);
  request.distributions = split_list(dists);
  if (request.formats.empty()) throw Error("--formats is empty");
  if (request.distributions.empty()) throw Error("--dist is empty");
  if (request.rows <= 0 || request.cols <= 0) throw Error("--rows and --cols must be positive");
  if (request.rows > kMaxEvalElements / request.cols) {
    throw Error("--rows x --cols = " + std::to_string(request.rows) + " x " +
                std::to_string(request.cols) + " exceeds " + std::to_string(kMaxEvalElements) +
                " elements (1 GiB of float32 per tensor)");
  }
  require_threads(request.threads);

  Outputs outputs;
  std::ofstream csv;
  if (vm.count("csv")) {  // opened first: a bad path fails before the work, not after
    csv.open(outputs.add(vm["csv"].as<std::string>()));
  }
  const bool terminal = isatty(STDERR_FILENO);
  const auto rows = evaluate(request, [&](int done, int total) {
    if (terminal) std::fprintf(stderr, "\reval: %d/%d", done, total);
  });
  if (terminal) std::fprintf(stderr, "\n");

  std::printf("%-24s %-11s %8s %10s %12s %12s\n", "format", "dist", "bits/el", "qsnr_db", "mse",
              "max_abs_err");
  for (const EvalRow& r : rows) {
    std::printf("%-24s %-11s %8.4f %10.3f %12.5g %12.5g\n", r.format.c_str(),
                r.distribution.c_str(), r.bits_per_element, r.error.qsnr_db, r.error.mse,
                r.error.max_abs_error);
  }
  for (const EvalRow& r : rows) {
    if (!r.note.empty() && r.distribution == request.distributions.front()) {
      std::printf("%s: %s\n", r.format.c_str(), r.note.c_str());
    }
  }
  std::printf("tensors: %lld x %lld per distribution, seed %llu\n",
              static_cast<long long>(request.rows), static_cast<long long>(request.cols),
              static_cast<unsigned long long>(request.seed));
  if (csv.is_open()) {
    csv << "schema_version,format,distribution,bits_per_element,qsnr_db,mse,max_abs_error,rows,"
           "cols,seed\n";
    char line[512];
    for (const EvalRow& r : rows) {
      std::snprintf(line, sizeof line, "%d,%s,%s,%.6f,%.6f,%.9g,%.9g,%lld,%lld,%llu\n",
                    kEvalSchemaVersion, r.format.c_str(), r.distribution.c_str(),
                    r.bits_per_element, r.error.qsnr_db, r.error.mse, r.error.max_abs_error,
                    static_cast<long long>(request.rows), static_cast<long long>(request.cols),
                    static_cast<unsigned long long>(request.seed));
      csv << line;
    }
    csv.close();
    if (!csv) throw Error(vm["csv"].as<std::string>() + ": write failed");
  }
  outputs.commit();
  return 0;
}

}  // namespace nibble::cli
