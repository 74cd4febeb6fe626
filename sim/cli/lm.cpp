// nibble lm: a llama2.c model's teacher-forced perplexity under fake quantization.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "command.h"
#include "nibble/models/bcq.h"
#include "nibble/models/blas.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/models/transform.h"
#include "nibble/workloads/codebook_json.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/lm.h"
#include "nibble/workloads/npy.h"

namespace nibble::cli {
namespace {

constexpr int kLmSchemaVersion = 1;
constexpr const char* kFp32 = "fp32";  // no quantization for that role
constexpr const char* kNoTransform = "none";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int> read_token_ids(const std::string& path, int vocab_size) {
  const Matrix m = read_npy(path);
  std::vector<int> ids;
  for (size_t i = 0; i < m.data.size(); ++i) {
    const float v = m.data[i];
    if (!(v >= 0 && v < static_cast<float>(vocab_size)) || v != std::floor(v)) {
      throw Error(path + ": element " + std::to_string(i) + " (" + std::to_string(v) +
                  ") is not a token id in [0, " + std::to_string(vocab_size) + ")");
    }
    ids.push_back(static_cast<int>(v));
  }
  return ids;
}

// One row of the table: the formats of the three roles.
struct Config {
  std::string w, a, kv, transform;
};

// Zips the lists; a list of one (or none: FP32, no transform) applies to every configuration.
std::vector<Config> configurations(std::vector<std::string> w, std::vector<std::string> a,
                                   std::vector<std::string> kv, std::vector<std::string> transform) {
  size_t n = 1;
  for (auto* list : {&w, &a, &kv, &transform}) {
    if (list->empty()) list->push_back(list == &transform ? kNoTransform : kFp32);
    if (list->size() != 1 && n != 1 && list->size() != n) {
      throw Error("--w-format, --a-format, --kv-format and --transform lists must have one entry or the same length");
    }
    n = std::max(n, list->size());
  }
  const auto at = [](const std::vector<std::string>& list, size_t i) { return list[list.size() == 1 ? 0 : i]; };
  std::vector<Config> configs;
  for (size_t i = 0; i < n; ++i) configs.push_back({at(w, i), at(a, i), at(kv, i), at(transform, i)});
  return configs;
}

// Per layer, the FP32 model's activations over all calibration windows, rows concatenated.
std::vector<LayerActivations> calibration_activations(const LlamaModel& fp32,
                                                      const std::vector<std::vector<int>>& windows) {
  std::vector<LayerActivations> total;
  for (const auto& w : windows) {
    std::vector<LayerActivations> layers;
    fp32.forward(w, &layers);
    if (total.empty()) {
      total = std::move(layers);
      continue;
    }
    for (size_t l = 0; l < layers.size(); ++l) {
      for (auto member : {&LayerActivations::attention_input, &LayerActivations::query, &LayerActivations::key,
                          &LayerActivations::value, &LayerActivations::attention_output,
                          &LayerActivations::ffn_input, &LayerActivations::ffn_hidden}) {
        Matrix& into = total[l].*member;
        const Matrix& more = layers[l].*member;
        into.data.insert(into.data.end(), more.data.begin(), more.data.end());
        into.rows += more.rows;
      }
    }
  }
  return total;
}

// Also each layer's linear weights, so that `nibble eval --gemm` can pair them with their inputs.
void dump_activations(const std::string& dir, const std::vector<LayerActivations>& layers,
                      const Llama2cCheckpoint& checkpoint) {
  std::filesystem::create_directories(dir);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerActivations& a = layers[l];
    const std::pair<const char*, const Matrix*> tensors[] = {
        {"attention_input", &a.attention_input}, {"query", &a.query}, {"key", &a.key},
        {"value", &a.value}, {"attention_output", &a.attention_output}, {"ffn_input", &a.ffn_input},
        {"ffn_hidden", &a.ffn_hidden}};
    for (const auto& [name, m] : tensors) write_npy(dir + "/layer" + std::to_string(l) + "_" + name + ".npy", *m);
    const LlamaLayerWeights& w = checkpoint.layer(static_cast<int>(l));
    const std::pair<const char*, MatrixView> weights[] = {{"wq", w.wq}, {"wk", w.wk}, {"wv", w.wv}, {"wo", w.wo},
                                                          {"w1", w.w1}, {"w2", w.w2}, {"w3", w.w3}};
    for (const auto& [name, view] : weights) {
      write_npy(dir + "/layer" + std::to_string(l) + "_" + name + ".npy", fake_quantize(nullptr, view));
    }
  }
}

}  // namespace

int run_lm(const Args& args) {
  namespace po = boost::program_options;
  std::int64_t max_tokens = 0, calib_tokens = 2048;
  int threads = 0;
  po::options_description options("lm options");
  options.add_options()
      ("checkpoint", po::value<std::string>()->required(), "llama2.c checkpoint (.bin)")
      ("tokenizer", po::value<std::string>(), "llama2.c tokenizer (.bin); needed with --text and --calib-text")
      ("text", po::value<std::string>(), "evaluation text (documents separated by <|endoftext|> lines)")
      ("tokens", po::value<std::string>(), "pre-tokenized evaluation stream (.npy of token ids; BOS starts a document)")
      ("max-tokens", po::value<std::int64_t>(&max_tokens)->default_value(0), "predicted tokens to evaluate (0: all)")
      ("format", po::value<std::string>(), "comma list: each sets both --w-format and --a-format")
      ("w-format", po::value<std::string>(), "comma list of weight formats (fp32: none)")
      ("a-format", po::value<std::string>(), "comma list of activation formats (fp32: none)")
      ("kv-format", po::value<std::string>(), "comma list of KV-cache formats (a format or kivi:...; fp32: none)")
      ("transform", po::value<std::string>(), "comma list of transforms (hadamard, smoothquant:alpha=A, osplus, a+b; none)")
      ("quantize-embeddings", po::bool_switch(), "also quantize the token embedding and lm_head (weights and input)")
      ("codebooks", po::value<std::string>(), "BCQ codebooks (.json) for every bcq role")
      ("calib-text", po::value<std::string>(), "calibration text for BCQ codebooks, SmoothQuant and OS+ (never the evaluated text)")
      ("calib-tokens", po::value<std::int64_t>(&calib_tokens)->default_value(calib_tokens), "calibration tokens")
      ("dump-activations", po::value<std::string>(), "write the first window's FP32 layer activations and the linear weights as .npy here")
      ("threads", po::value<int>(&threads)->default_value(0), "worker threads (0: all cores; results do not depend on it)")
      ("csv", po::value<std::string>(), "also write the table as CSV to this file");
  po::variables_map vm;
  if (!parse_options("lm", args, options, vm)) return 0;
  if (vm.count("text") == vm.count("tokens")) throw Error("give one of --text and --tokens");
  for (const char* key : {"text", "calib-text"}) {
    if (vm.count(key) && !vm.count("tokenizer")) throw Error(std::string("--") + key + " needs --tokenizer");
  }
  if (vm.count("format") && (vm.count("w-format") || vm.count("a-format"))) {
    throw Error("--format sets --w-format and --a-format; give one or the others");
  }
  if (max_tokens < 0) throw Error("--max-tokens must be >= 0");
  if (calib_tokens <= 0) throw Error("--calib-tokens must be positive");
  const auto list = [&](const char* key) {
    return vm.count(key) ? split_list(vm[key].as<std::string>()) : std::vector<std::string>{};
  };
  const std::vector<Config> configs = configurations(list(vm.count("format") ? "format" : "w-format"),
                                                     list(vm.count("format") ? "format" : "a-format"),
                                                     list("kv-format"), list("transform"));
  // Resolve every name before any work, so a typo fails at once.
  const auto block_format = [](const std::string& name) {
    return name == kFp32 ? nullptr : make_format(name);
  };
  for (const Config& c : configs) {
    block_format(c.w);
    block_format(c.a);
    if (c.kv != kFp32) make_kv_format(c.kv);
    if (c.transform != kNoTransform) make_transform(c.transform);
  }
  std::ofstream csv;
  if (vm.count("csv")) {
    csv.open(vm["csv"].as<std::string>());
    if (!csv) throw Error(vm["csv"].as<std::string>() + ": cannot open file for writing");
  }

  const std::string checkpoint_path = vm["checkpoint"].as<std::string>();
  const Llama2cCheckpoint checkpoint(checkpoint_path);
  const LlamaConfig& cfg = checkpoint.config();
  std::unique_ptr<Tokenizer> tokenizer;
  if (vm.count("tokenizer")) tokenizer = std::make_unique<Tokenizer>(vm["tokenizer"].as<std::string>(), cfg.vocab_size);
  const auto documents = vm.count("text")
                             ? tokenize_documents(*tokenizer, read_text(vm["text"].as<std::string>()))
                             : split_documents(read_token_ids(vm["tokens"].as<std::string>(), cfg.vocab_size));
  const auto windows = evaluation_windows(documents, window_tokens(cfg), max_tokens);
  if (windows.empty()) throw Error("the evaluation input holds no token to predict");

  const LlamaModel fp32(checkpoint, {});
  if (vm.count("dump-activations")) {
    std::vector<LayerActivations> layers;
    fp32.forward(windows.front(), &layers);
    dump_activations(vm["dump-activations"].as<std::string>(), layers, checkpoint);
  }

  // Calibration (BCQ codebooks without --codebooks, SmoothQuant and OS+ statistics): the FP32
  // model on the calibration text; BCQ weight codebooks from the model's linear weights.
  const auto needs = [&](auto&& predicate) { return std::any_of(configs.begin(), configs.end(), predicate); };
  const auto is_bcq = [&](const std::string& n) { return n != kFp32 && bcq_params(*make_format(n)) != nullptr; };
  const bool bcq_calibration = !vm.count("codebooks") && needs([&](const Config& c) { return is_bcq(c.w) || is_bcq(c.a); });
  const bool transform_calibration = needs([](const Config& c) {
    return c.transform != kNoTransform && make_transform(c.transform)->needs_calibration();
  });
  std::vector<LayerActivations> calibration;
  std::vector<MatrixView> calib_weights, calib_activations;
  std::string bcq_note;
  if (bcq_calibration || transform_calibration) {
    if (!vm.count("calib-text")) {
      throw Error(std::string(bcq_calibration ? "bcq formats need --codebooks or --calib-text"
                                              : "smoothquant and osplus need --calib-text"));
    }
    const auto calib_windows = evaluation_windows(tokenize_documents(*tokenizer, read_text(vm["calib-text"].as<std::string>())),
                                                  window_tokens(cfg), calib_tokens);
    calibration = calibration_activations(fp32, calib_windows);
    for (int l = 0; l < cfg.n_layers; ++l) {
      const LlamaLayerWeights& w = checkpoint.layer(l);
      calib_weights.insert(calib_weights.end(), {w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3});
      const LayerActivations& a = calibration[static_cast<size_t>(l)];
      calib_activations.insert(calib_activations.end(), {a.attention_input, a.attention_output, a.ffn_input, a.ffn_hidden});
    }
    if (bcq_calibration) {
      bcq_note = "bcq codebooks: LO-BCQ on the model's weights and its activations on " +
                 std::to_string(calib_windows.size()) + " windows of " + vm["calib-text"].as<std::string>();
    }
  }
  const auto role_format = [&](const std::string& name, bool weights) -> std::shared_ptr<const BlockFormat> {
    auto format = block_format(name);
    if (!format || !bcq_params(*format)) return format;
    if (vm.count("codebooks")) {
      const CodebookFile file = load_codebooks(vm["codebooks"].as<std::string>());
      if (!(file.params == *bcq_params(*format))) {
        throw Error(vm["codebooks"].as<std::string>() + ": codebooks are for " + file.params.name() + ", not " + name);
      }
      bcq_note = "bcq codebooks: " + vm["codebooks"].as<std::string>();
      return make_bcq(file.params, file.codebooks);
    }
    return calibrated(format, weights ? calib_weights : calib_activations, 1, threads);
  };

  const bool terminal = isatty(STDERR_FILENO);
  const auto progress = [&](int done, int total) {
    if (terminal) std::fprintf(stderr, "\rlm: %d/%d windows", done, total);
  };
  const PerplexityResult base = perplexity(fp32, windows, threads, progress);
  std::vector<PerplexityResult> results;
  for (const Config& c : configs) {
    LmFormats formats{role_format(c.w, true), role_format(c.a, false),
                      c.kv == kFp32 ? nullptr : make_kv_format(c.kv), vm["quantize-embeddings"].as<bool>(),
                      c.transform == kNoTransform ? nullptr : make_transform(c.transform), &calibration};
    results.push_back(perplexity(LlamaModel(checkpoint, std::move(formats)), windows, threads, progress));
  }
  if (terminal) std::fprintf(stderr, "\n");

  std::printf("model: %s (dim %d, %d layers, %d/%d heads, vocab %d); %lld predicted tokens in %zu windows of <= %d\n",
              checkpoint_path.c_str(), cfg.dim, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.vocab_size,
              static_cast<long long>(base.predicted), windows.size(), window_tokens(cfg));
  std::printf("blas: %s\n", blas_configuration().c_str());
  std::printf("%-20s %-20s %-26s %-20s %12s %10s\n", "w_format", "a_format", "kv_format", "transform", "perplexity", "change");
  std::printf("%-20s %-20s %-26s %-20s %12.5f %9.3f%%\n", kFp32, kFp32, kFp32, kNoTransform, base.perplexity(), 0.0);
  for (size_t i = 0; i < configs.size(); ++i) {
    std::printf("%-20s %-20s %-26s %-20s %12.5f %+9.3f%%\n", configs[i].w.c_str(), configs[i].a.c_str(),
                configs[i].kv.c_str(), configs[i].transform.c_str(), results[i].perplexity(),
                100 * (results[i].perplexity() / base.perplexity() - 1));
  }
  if (!bcq_note.empty()) std::printf("%s\n", bcq_note.c_str());
  if (csv.is_open()) {
    csv << "schema_version,checkpoint,w_format,a_format,kv_format,transform,quantize_embeddings,predicted_tokens,"
           "nll_sum,perplexity,change_pct\n";
    const auto row = [&](const Config& c, const PerplexityResult& r) {
      char line[1024];
      std::snprintf(line, sizeof line, "%d,%s,%s,%s,%s,%s,%d,%lld,%.9f,%.9f,%.6f\n", kLmSchemaVersion,
                    checkpoint_path.c_str(), c.w.c_str(), c.a.c_str(), c.kv.c_str(), c.transform.c_str(),
                    vm["quantize-embeddings"].as<bool>() ? 1 : 0, static_cast<long long>(r.predicted),
                    r.nll_sum, r.perplexity(), 100 * (r.perplexity() / base.perplexity() - 1));
      csv << line;
    };
    row({kFp32, kFp32, kFp32, kNoTransform}, base);
    for (size_t i = 0; i < configs.size(); ++i) row(configs[i], results[i]);
    csv.close();
    if (!csv) throw Error(vm["csv"].as<std::string>() + ": write failed");
  }
  return 0;
}

}  // namespace nibble::cli
