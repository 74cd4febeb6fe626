#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "command.h"
#include "nibble/models/bcq.h"
#include "nibble/models/error.h"
#include "nibble/models/kv_format.h"
#include "nibble/models/registry.h"
#include "nibble/models/transform.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/gemm_accuracy.h"
#include "nibble/workloads/npy.h"
#include "nibble/workloads/safetensors.h"
#include "nibble/workloads/synthetic.h"

namespace nibble::cli {
namespace {

// Version of the CSV columns below; bump it when they change.
constexpr int kEvalSchemaVersion = 1;
// Each (format, distribution) pair holds its tensor and its dequantization at once, per thread.
constexpr std::int64_t kMaxEvalElements = std::int64_t{1} << 28;
constexpr int kOutputSchemaVersion = 1;  // --gemm and --attention

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ",") + p;
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The tensors of --in: every tensor of a .safetensors file whose name matches the glob, or
// the one tensor of an .npy file.
std::vector<NamedTensor> read_tensors(const std::string& path, const std::string& glob) {
  if (!ends_with(path, ".safetensors")) return {{path, read_npy(path)}};
  const SafetensorsFile file(path);
  std::vector<NamedTensor> tensors;
  for (const SafetensorsEntry* e : file.match(glob)) tensors.push_back({e->name, file.read(*e)});
  if (tensors.empty()) throw Error(path + ": no tensor matches '" + glob + "'");
  return tensors;
}

struct OutputRow {
  std::string format;
  GemmError error;
};

// The table (and CSV) of output-level errors: GEMM outputs or attention outputs.
void report(const std::string& title, const std::string& source, const std::string& shape,
            const std::vector<OutputRow>& rows, std::ofstream& csv) {
  std::printf("%s (%s, %s)\n", title.c_str(), source.c_str(), shape.c_str());
  std::printf("%-28s %10s %12s %12s\n", "format", "snr_db", "mse", "max_abs_err");
  for (const OutputRow& r : rows) {
    std::printf("%-28s %10.3f %12.5g %12.5g\n", r.format.c_str(), r.error.snr_db, r.error.mse, r.error.max_abs_error);
  }
  if (!csv.is_open()) return;
  csv << "schema_version,format,source,shape,snr_db,mse,max_abs_error\n";
  for (const OutputRow& r : rows) {
    char line[1024];
    std::snprintf(line, sizeof line, "%d,%s,%s,%s,%.6f,%.9g,%.9g\n", kOutputSchemaVersion, r.format.c_str(),
                  source.c_str(), shape.c_str(), r.error.snr_db, r.error.mse, r.error.max_abs_error);
    csv << line;
  }
}

std::string shape_of(const Matrix& m) { return std::to_string(m.rows) + "x" + std::to_string(m.cols); }

// --gemm: both operands in each format; synthetic llm-act x llm-weight unless files are given.
void run_gemm(const std::vector<std::string>& formats, const std::vector<std::string>& files,
              const EvalRequest& request, const std::string& transform_name, GemmEngine engine,
              std::ofstream& csv) {
  if (!files.empty() && files.size() != 2) throw Error("--gemm takes no file or two (X.npy W.npy)");
  const Matrix x = files.empty() ? synthetic_tensor("llm-act", request.rows, request.cols, request.seed)
                                 : read_npy(files[0]);
  const Matrix w = files.empty() ? synthetic_tensor("llm-weight", request.rows, request.cols, request.seed + 1)
                                 : read_npy(files[1]);
  // Transforms fit on held-out activations (another seed) for synthetic pairs, on X itself for files.
  const auto transform = transform_name.empty() ? nullptr : make_transform(transform_name);
  const Matrix calibration = files.empty() && transform
                                 ? synthetic_tensor("llm-act", request.rows, request.cols, request.seed + kCalibrationSeedOffset)
                                 : Matrix();
  std::vector<OutputRow> rows;
  for (const std::string& name : formats) {
    // BCQ: codebooks calibrated on this GEMM's (transformed) operands, shared by both.
    auto format = make_format(name);
    const auto fitted = transform ? transform->fit(files.empty() ? calibration : x, w, format.get(), format.get()) : nullptr;
    if (bcq_params(*format)) {
      const Matrix xt = fitted ? fitted->activations(x) : fake_quantize(nullptr, x);
      const Matrix wt = fitted ? fitted->weights(w) : fake_quantize(nullptr, w);
      format = calibrated(format, {xt, wt}, request.seed, request.threads);
    }
    rows.push_back({format->info().name + (transform ? " + " + transform->name() : ""),
                    gemm_error(x, w, format.get(), format.get(), fitted.get(), engine)});
  }
  report(std::string("GEMM Y = X W^T, both operands quantized, ") +
             (engine == GemmEngine::kGolden ? "golden GEMM" : "dequantized in FP32 sgemm") + " vs FP64",
         files.empty() ? "llm-act x llm-weight" : files[0] + " x " + files[1],
         "X " + shape_of(x) + " W " + shape_of(w), rows, csv);
}

// --attention: each KV format on softmax(Q K^T) V against an FP32 cache.
void run_attention(const std::vector<std::string>& formats, const std::vector<std::string>& files,
                   int heads, int kv_heads, std::ofstream& csv) {
  if (files.size() != 3) throw Error("--attention takes three files (Q.npy K.npy V.npy)");
  if (heads <= 0 || kv_heads <= 0) throw Error("--heads and --kv-heads must be positive");
  const Matrix q = read_npy(files[0]), k = read_npy(files[1]), v = read_npy(files[2]);
  std::vector<OutputRow> rows;
  for (const std::string& name : formats) {
    const auto kv = make_kv_format(name);
    rows.push_back({kv->name(), attention_error(q, k, v, heads, kv_heads, *kv)});
  }
  report("attention softmax(Q K^T / sqrt(d)) V through a quantized KV cache vs an FP32 cache",
         files[0] + " " + files[1] + " " + files[2],
         "Q " + shape_of(q) + " K/V " + shape_of(k) + " heads " + std::to_string(heads) + "/" + std::to_string(kv_heads),
         rows, csv);
}

}  // namespace

int run_eval(const Args& args) {
  namespace po = boost::program_options;
  EvalRequest request;
  std::string formats = join(listed_formats()), dists = join(synthetic_distributions());
  std::string glob = "*";
  po::options_description options("eval options");
  options.add_options()
      ("formats", po::value<std::string>(&formats)->default_value(formats), "comma-separated formats")
      ("dist", po::value<std::string>(&dists)->default_value(dists), "comma-separated distributions")
      ("in", po::value<std::string>(), "evaluate real tensors: a .safetensors or .npy file")
      ("tensors", po::value<std::string>(&glob)->default_value(glob), "with --in .safetensors: tensor name glob")
      ("gemm", po::value<std::vector<std::string>>()->multitoken()->zero_tokens(),
       "GEMM-output SNR of X W^T: X.npy W.npy (none: synthetic llm-act x llm-weight)")
      ("attention", po::value<std::vector<std::string>>()->multitoken(),
       "KV formats (--formats) on the attention output: Q.npy K.npy V.npy (nibble lm --dump-activations)")
      ("heads", po::value<int>()->default_value(8), "with --attention: query heads")
      ("kv-heads", po::value<int>()->default_value(4), "with --attention: KV heads")
      ("transform", po::value<std::string>(), "with --gemm: transform both operands first (hadamard, smoothquant:alpha=A, osplus, a+b)")
      ("gemm-engine", po::value<std::string>()->default_value("blas"),
       "with --gemm: blas (fake quantization, FP32 OpenBLAS) or golden (the exact golden GEMM)")
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
  if (vm.count("transform") && !vm.count("gemm")) throw Error("--transform applies to --gemm");
  const GemmEngine engine = gemm_engine_from_name(vm["gemm-engine"].as<std::string>());
  if (!vm["gemm-engine"].defaulted() && !vm.count("gemm")) throw Error("--gemm-engine applies to --gemm");
  if (vm.count("in") + vm.count("gemm") + vm.count("attention") > 1) {
    throw Error("--in, --gemm and --attention are separate modes; give one");
  }

  Outputs outputs;
  std::ofstream csv;
  if (vm.count("csv")) {  // opened first: a bad path fails before the work, not after
    csv.open(outputs.add(vm["csv"].as<std::string>()));
  }
  const auto finish_csv = [&] {
    if (!csv.is_open()) return;
    csv.close();
    if (!csv) throw Error(vm["csv"].as<std::string>() + ": write failed");
  };
  if (vm.count("gemm") || vm.count("attention")) {
    if (vm.count("gemm")) {
      run_gemm(request.formats, vm["gemm"].as<std::vector<std::string>>(), request,
               vm.count("transform") ? vm["transform"].as<std::string>() : "", engine, csv);
    } else {
      run_attention(request.formats, vm["attention"].as<std::vector<std::string>>(), vm["heads"].as<int>(),
                    vm["kv-heads"].as<int>(), csv);
    }
    finish_csv();
    outputs.commit();
    return 0;
  }
  const bool terminal = isatty(STDERR_FILENO);
  const auto progress = [&](int done, int total) {
    if (terminal) std::fprintf(stderr, "\reval: %d/%d", done, total);
  };
  std::vector<EvalRow> rows;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> shapes;  // of --in tensors
  if (vm.count("in")) {
    const std::string path = vm["in"].as<std::string>();
    const std::vector<NamedTensor> tensors = read_tensors(path, glob);
    std::vector<MatrixView> views;
    for (const NamedTensor& t : tensors) views.emplace_back(t.tensor);
    for (const NamedTensor& t : tensors) shapes[t.name] = {t.tensor.rows, t.tensor.cols};
    rows = evaluate_tensors(request.formats, tensors, views, "the evaluated tensors themselves",
                            request.seed, request.threads, progress);
  } else {
    rows = evaluate(request, progress);
  }
  if (terminal) std::fprintf(stderr, "\n");

  std::printf("%-24s %-11s %8s %10s %12s %12s\n", "format", vm.count("in") ? "tensor" : "dist",
              "bits/el", "qsnr_db", "mse", "max_abs_err");
  for (const EvalRow& r : rows) {
    std::printf("%-24s %-11s %8.4f %10.3f %12.5g %12.5g\n", r.format.c_str(),
                r.distribution.c_str(), r.bits_per_element, r.error.qsnr_db, r.error.mse,
                r.error.max_abs_error);
  }
  for (const EvalRow& r : rows) {
    if (!r.note.empty() && r.distribution == rows.front().distribution) {
      std::printf("%s: %s\n", r.format.c_str(), r.note.c_str());
    }
  }
  if (!vm.count("in")) {
    std::printf("tensors: %lld x %lld per distribution, seed %llu\n",
                static_cast<long long>(request.rows), static_cast<long long>(request.cols),
                static_cast<unsigned long long>(request.seed));
  }
  if (csv.is_open()) {
    csv << "schema_version,format,distribution,bits_per_element,qsnr_db,mse,max_abs_error,rows,"
           "cols,seed\n";
    char line[512];
    for (const EvalRow& r : rows) {
      const auto shape = vm.count("in") ? shapes.at(r.distribution) : std::pair{request.rows, request.cols};
      std::snprintf(line, sizeof line, "%d,%s,%s,%.6f,%.6f,%.9g,%.9g,%lld,%lld,%llu\n",
                    kEvalSchemaVersion, r.format.c_str(), r.distribution.c_str(),
                    r.bits_per_element, r.error.qsnr_db, r.error.mse, r.error.max_abs_error,
                    static_cast<long long>(shape.first), static_cast<long long>(shape.second),
                    static_cast<unsigned long long>(request.seed));
      csv << line;
    }
  }
  finish_csv();
  outputs.commit();
  return 0;
}

}  // namespace nibble::cli
