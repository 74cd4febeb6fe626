#include <unistd.h>

#include <cstdio>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/sim/design_space.h"
#include "nibble/sim/sweep_engine.h"
#include "nibble/sim/sweep_mpi.h"

namespace nibble::cli {
namespace {

// "i/N" -> (i, N); the range is checked by select_points.
std::pair<int, int> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  try {
    size_t a = 0, b = 0;
    const int i = std::stoi(text.substr(0, slash), &a), n = std::stoi(text.substr(slash + 1), &b);
    if (slash != std::string::npos && a == slash && b == text.size() - slash - 1) return {i, n};
  } catch (const std::exception&) {
  }
  throw Error("--shard '" + text + "' is not i/N (e.g. 0/4)");
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return text;
}

// A bar redrawn in place on a terminal; otherwise a plain line every 10% (logs stay short).
class ProgressPrinter {
 public:
  ProgressPrinter() : terminal_(isatty(STDERR_FILENO)) {}
  void operator()(const SweepProgress& p) {
    const double rate = p.seconds > 0 ? static_cast<double>(p.done) / p.seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : 0;
    if (terminal_) {
      constexpr int kWidth = 30;
      const int filled = p.total > 0 ? static_cast<int>(kWidth * p.done / p.total) : kWidth;
      std::fprintf(stderr, "\r[%s%s] %lld/%lld  %.0f points/s  ETA %s  failed %lld ",
                   std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(kWidth - filled), '.').c_str(), static_cast<long long>(p.done),
                   static_cast<long long>(p.total), rate, clock_text(eta).c_str(), static_cast<long long>(p.failed));
      if (p.done == p.total) std::fprintf(stderr, "\n");
    } else if (p.done == p.total || p.done * 10 / std::max<std::int64_t>(p.total, 1) > last_decile_) {
      last_decile_ = p.done * 10 / std::max<std::int64_t>(p.total, 1);
      std::fprintf(stderr, "sweep: %lld/%lld points, %.0f points/s, ETA %s, %lld failed\n", static_cast<long long>(p.done),
                   static_cast<long long>(p.total), rate, clock_text(eta).c_str(), static_cast<long long>(p.failed));
    }
  }

 private:
  bool terminal_;
  std::int64_t last_decile_ = 0;
};

void print_dry_run(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  std::printf("%s: %zu points\n", spec.name.c_str(), points.size());
  constexpr size_t kShown = 5;
  for (size_t i = 0; i < std::min(kShown, points.size()); ++i) {
    std::printf("  #%lld %s  %s\n", static_cast<long long>(points[i].index), points[i].id.substr(0, 12).c_str(),
                canonical_json(points[i].design).c_str());
  }
  if (points.size() > kShown) std::printf("  ... (%zu more)\n", points.size() - kShown);
}

void print_summary(const SweepOptions& options, const SweepSummary& s) {
  std::printf("sweep: %lld points selected, %lld already done, %lld ok, %lld failed, %d accuracy "
              "evaluations, %.1f s -> %s/results.sqlite\n",
              static_cast<long long>(s.selected), static_cast<long long>(s.skipped), static_cast<long long>(s.ok),
              static_cast<long long>(s.failed), s.accuracy_evaluations, s.seconds, options.out_dir.c_str());
}

}  // namespace

int run_sweep_command(const Args& args) {
  namespace po = boost::program_options;
  std::string spec_path, shard = "0/1";
  SweepOptions options;
  po::options_description description("sweep options (nibble sweep SPEC.yaml --out DIR)");
  description.add_options()
      ("spec", po::value<std::string>(&spec_path)->required(), "the sweep spec (YAML, nibble_sweep: 1)")
      ("out", po::value<std::string>(&options.out_dir), "output directory (DIR/results.sqlite)")
      ("threads", po::value<int>(&options.threads)->default_value(0), "worker threads (0: all cores)")
      ("shard", po::value<std::string>(&shard)->default_value(shard), "run shard i of N (i/N), for job arrays")
      ("resume", po::bool_switch(&options.resume), "continue DIR: skip ok points, redo failed ones")
      ("dry-run", po::bool_switch(), "print the point count and the first points, run nothing")
      ("limit", po::value<std::int64_t>(&options.limit)->default_value(-1), "run only the first N points");
  po::positional_options_description positional;
  positional.add("spec", 1);
  po::variables_map vm;
  if (!parse_options("sweep", args, description, vm, positional)) return 0;
  std::tie(options.shard, options.shards) = parse_shard(shard);
  if (options.threads < 0) throw Error("--threads must be >= 0");
  if (options.limit < -1) throw Error("--limit must be >= 0");
  const auto space = make_design_space();
  const SweepSpec spec = load_sweep_spec(spec_path, *space);
  if (vm["dry-run"].as<bool>()) {
    print_dry_run(spec, select_points(expand_points(spec, *space), options));
    return 0;
  }
  if (options.out_dir.empty()) throw Error("--out DIR is required (or --dry-run)");
  ProgressPrinter printer;
  const auto progress = [&](const SweepProgress& p) { printer(p); };
  if (mpi_ranks_from_environment() > 1) {
    const MpiSweepResult result = run_sweep_mpi(spec, *space, options, progress);
    if (result.root) print_summary(options, result.summary);
    return 0;
  }
  print_summary(options, run_sweep(spec, *space, options, progress, threaded_runner(*space, options.threads)));
  return 0;
}

}  // namespace nibble::cli
