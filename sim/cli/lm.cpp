// nibble lm: a llama2.c model's teacher-forced perplexity under fake quantization.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "command.h"
#include "nibble/models/bcq.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/codebook_json.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/lm.h"
#include "nibble/workloads/npy.h"

namespace nibble::cli {
namespace {

constexpr int kLmSchemaVersion = 1;
constexpr const char* kFp32 = "fp32";  // no quantization for that role

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
  std::string w, a, kv;
};

// Zips the role lists; a list of one (or none: FP32) applies to every configuration.
std::vector<Config> configurations(std::vector<std::string> w, std::vector<std::string> a,
                                   std::vector<std::string> kv) {
  size_t n = 1;
  for (auto* list : {&w, &a, &kv}) {
    if (list->empty()) list->push_back(kFp32);
    if (list->size() != 1 && n != 1 && list->size() != n) {
      throw Error("--w-format, --a-format and --kv-format lists must have one entry or the same length");
    }
    n = std::max(n, list->size());
  }
  std::vector<Config> configs;
  for (size_t i = 0; i < n; ++i) {
    configs.push_back({w[w.size() == 1 ? 0 : i], a[a.size() == 1 ? 0 : i], kv[kv.size() == 1 ? 0 : i]});
  }
  return configs;
}

void dump_activations(const std::string& dir, const std::vector<LayerActivations>& layers) {
  std::filesystem::create_directories(dir);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerActivations& a = layers[l];
    const std::pair<const char*, const Matrix*> tensors[] = {
        {"attention_input", &a.attention_input}, {"query", &a.query}, {"key", &a.key},
        {"value", &a.value}, {"attention_output", &a.attention_output}, {"ffn_input", &a.ffn_input},
        {"ffn_hidden", &a.ffn_hidden}};
    for (const auto& [name, m] : tensors) write_npy(dir + "/layer" + std::to_string(l) + "_" + name + ".npy", *m);
  }
}

}  // namespace

int run_lm(const Args& args) {
  namespace po = boost::program_options;
  std::int64_t max_tokens = 0, calib_tokens = 8192;
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
      ("quantize-embeddings", po::bool_switch(), "also quantize the token embedding and lm_head (weights and input)")
      ("codebooks", po::value<std::string>(), "BCQ codebooks (.json) for every bcq role")
      ("calib-text", po::value<std::string>(), "calibration text for BCQ codebooks (never the evaluated text)")
      ("calib-tokens", po::value<std::int64_t>(&calib_tokens)->default_value(calib_tokens), "calibration tokens")
      ("dump-activations", po::value<std::string>(), "write the first window's FP32 layer activations as .npy here")
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
                                                     list("kv-format"));
  // Resolve every name before any work, so a typo fails at once.
  const auto block_format = [](const std::string& name) {
    return name == kFp32 ? nullptr : make_format(name);
  };
  for (const Config& c : configs) {
    block_format(c.w);
    block_format(c.a);
    if (c.kv != kFp32) make_kv_format(c.kv);
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
  const auto windows = evaluation_windows(documents, cfg.seq_len, max_tokens);
  if (windows.empty()) throw Error("the evaluation input holds no token to predict");

  const LlamaModel fp32(checkpoint, {});
  if (vm.count("dump-activations")) {
    std::vector<LayerActivations> layers;
    fp32.forward(windows.front(), &layers);
    dump_activations(vm["dump-activations"].as<std::string>(), layers);
  }

  // BCQ roles: codebooks from --codebooks, else LO-BCQ on the calibration text (weights on the
  // model's linear weights, activations on the FP32 model's linear-layer inputs there).
  std::vector<Matrix> calib_activations;
  std::vector<MatrixView> calib_weights;
  const bool any_bcq = [&] {
    for (const Config& c : configs) {
      for (const std::string* n : {&c.w, &c.a}) {
        if (*n != kFp32 && bcq_params(*make_format(*n))) return true;
      }
    }
    return false;
  }();
  std::string bcq_note;
  if (any_bcq && !vm.count("codebooks")) {
    if (!vm.count("calib-text")) throw Error("bcq formats need --codebooks or --calib-text");
    const auto calib_windows = evaluation_windows(
        tokenize_documents(*tokenizer, read_text(vm["calib-text"].as<std::string>())),
        cfg.seq_len, calib_tokens);
    for (const auto& w : calib_windows) {
      std::vector<LayerActivations> layers;
      fp32.forward(w, &layers);
      for (LayerActivations& a : layers) {
        for (Matrix* m : {&a.attention_input, &a.attention_output, &a.ffn_input, &a.ffn_hidden}) {
          calib_activations.push_back(std::move(*m));
        }
      }
    }
    for (int l = 0; l < cfg.n_layers; ++l) {
      const LlamaLayerWeights& w = checkpoint.layer(l);
      calib_weights.insert(calib_weights.end(), {w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3});
    }
    bcq_note = "bcq codebooks: LO-BCQ on " + vm["calib-text"].as<std::string>() + " (weights; activations of " +
               std::to_string(calib_windows.size()) + " windows)";
  }
  const std::vector<MatrixView> activation_views(calib_activations.begin(), calib_activations.end());
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
    return calibrated(format, weights ? calib_weights : activation_views, 1, threads);
  };

  const bool terminal = isatty(STDERR_FILENO);
  const auto progress = [&](int done, int total) {
    if (terminal) std::fprintf(stderr, "\rlm: %d/%d windows", done, total);
  };
  const PerplexityResult base = perplexity(fp32, windows, threads, progress);
  std::vector<PerplexityResult> results;
  for (const Config& c : configs) {
    LmFormats formats{role_format(c.w, true), role_format(c.a, false),
                      c.kv == kFp32 ? nullptr : make_kv_format(c.kv), vm["quantize-embeddings"].as<bool>()};
    results.push_back(perplexity(LlamaModel(checkpoint, std::move(formats)), windows, threads, progress));
  }
  if (terminal) std::fprintf(stderr, "\n");

  std::printf("model: %s (dim %d, %d layers, %d/%d heads, vocab %d); %lld predicted tokens in %zu windows of <= %d\n",
              checkpoint_path.c_str(), cfg.dim, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, cfg.vocab_size,
              static_cast<long long>(base.predicted), windows.size(), cfg.seq_len);
  std::printf("%-20s %-20s %-28s %12s %10s\n", "w_format", "a_format", "kv_format", "perplexity", "change");
  std::printf("%-20s %-20s %-28s %12.5f %9.3f%%\n", kFp32, kFp32, kFp32, base.perplexity(), 0.0);
  for (size_t i = 0; i < configs.size(); ++i) {
    std::printf("%-20s %-20s %-28s %12.5f %+9.3f%%\n", configs[i].w.c_str(), configs[i].a.c_str(),
                configs[i].kv.c_str(), results[i].perplexity(), 100 * (results[i].perplexity() / base.perplexity() - 1));
  }
  if (!bcq_note.empty()) std::printf("%s\n", bcq_note.c_str());
  if (csv.is_open()) {
    csv << "schema_version,checkpoint,w_format,a_format,kv_format,quantize_embeddings,predicted_tokens,"
           "nll_sum,perplexity,change_pct\n";
    const auto row = [&](const Config& c, const PerplexityResult& r) {
      char line[1024];
      std::snprintf(line, sizeof line, "%d,%s,%s,%s,%s,%d,%lld,%.9f,%.9f,%.6f\n", kLmSchemaVersion,
                    checkpoint_path.c_str(), c.w.c_str(), c.a.c_str(), c.kv.c_str(),
                    vm["quantize-embeddings"].as<bool>() ? 1 : 0, static_cast<long long>(r.predicted),
                    r.nll_sum, r.perplexity(), 100 * (r.perplexity() / base.perplexity() - 1));
      csv << line;
    };
    row({kFp32, kFp32, kFp32}, base);
    for (size_t i = 0; i < configs.size(); ++i) row(configs[i], results[i]);
    csv.close();
    if (!csv) throw Error(vm["csv"].as<std::string>() + ": write failed");
  }
  return 0;
}

}  // namespace nibble::cli
