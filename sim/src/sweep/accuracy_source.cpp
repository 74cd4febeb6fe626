#include "nibble/sim/accuracy_source.h"

#include <filesystem>
#include <mutex>
#include <set>

#include "nibble/models/block_format.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/npy.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {
namespace {

void check_keys(const nlohmann::json& raw, const std::set<std::string>& known) {
  for (const auto& [key, value] : raw.items()) {
    if (known.count(key)) continue;
    std::string valid;
    for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
    throw Error("unknown key '" + key + "' (valid: " + valid + ")");
  }
}

std::vector<std::string> string_list(const nlohmann::json& raw, const char* key) {
  if (!raw.contains(key)) return {};
  const nlohmann::json& list = raw.at(key);
  if (!list.is_array() || list.empty()) throw Error(std::string(key) + " must be a non-empty list");
  std::vector<std::string> out;
  for (const auto& item : list) {
    if (!item.is_string()) throw Error(std::string(key) + " must list names");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::int64_t positive(const nlohmann::json& raw, const char* key, std::int64_t fallback,
                      std::int64_t limit) {
  if (!raw.contains(key)) return fallback;
  const nlohmann::json& v = raw.at(key);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > limit) {
    throw Error(std::string(key) + " must be an integer in [1, " + std::to_string(limit) + "]");
  }
  return v.get<std::int64_t>();
}

class SyntheticSource : public AccuracySource {
 public:
  explicit SyntheticSource(const nlohmann::json& d) {
    request_.distributions = d.at("distributions").get<std::vector<std::string>>();
    request_.rows = d.at("rows").get<std::int64_t>();
    request_.cols = d.at("cols").get<std::int64_t>();
    request_.seed = d.at("seed").get<std::uint64_t>();
    request_.threads = 1;  // the sweep runs sources in parallel over formats
  }
  AccuracyResult evaluate(const std::string& format) const override {
    EvalRequest request = request_;
    request.formats = {format};
    AccuracyResult result;
    result.detail = nlohmann::json::object();
    // The tensors are made once, by the first format's call, not per format.
    std::call_once(made_, [&] { tensors_ = synthetic_set(request_); });
    for (const EvalRow& row : nibble::evaluate(request, tensors_)) {
      result.qsnr_db += row.error.qsnr_db / static_cast<double>(request.distributions.size());
      result.detail[row.distribution] = row.error.qsnr_db;
    }
    return result;
  }

 private:
  EvalRequest request_;
  mutable std::once_flag made_;
  mutable SyntheticSet tensors_;
};

class NpySource : public AccuracySource {
 public:
  NpySource(const nlohmann::json& d, const std::string& base_dir) {
    for (const auto& name : d.at("tensors")) {
      std::filesystem::path path = name.get<std::string>();
      if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
      tensors_.emplace_back(name.get<std::string>(), read_npy(path.string()));
    }
  }
  AccuracyResult evaluate(const std::string& format_name) const override {
    const auto format = make_format(format_name);
    AccuracyResult result;
    result.detail = nlohmann::json::object();
    for (const auto& [name, tensor] : tensors_) {
      const double qsnr = quant_error(tensor, format->dequantize(format->quantize(tensor))).qsnr_db;
      result.qsnr_db += qsnr / static_cast<double>(tensors_.size());
      result.detail[name] = qsnr;
    }
    return result;
  }

 private:
  std::vector<std::pair<std::string, Matrix>> tensors_;
};

}  // namespace

nlohmann::json accuracy_source_description(const nlohmann::json& raw) {
  if (!raw.is_object() || !raw.contains("source") || !raw.at("source").is_string()) {
    throw Error("needs 'source: synthetic' or 'source: npy'");
  }
  const std::string source = raw.at("source").get<std::string>();
  if (source == "synthetic") {
    check_keys(raw, {"source", "distributions", "rows", "cols", "seed"});
    std::vector<std::string> distributions = string_list(raw, "distributions");
    if (distributions.empty()) distributions = {"llm-act", "llm-weight"};
    for (const auto& d : distributions) synthetic_tensor(d, 1, 1, 0);  // unknown names throw
    return {{"source", source},
            {"distributions", distributions},
            {"rows", positive(raw, "rows", 256, 1 << 16)},
            {"cols", positive(raw, "cols", 4096, 1 << 20)},
            {"seed", positive(raw, "seed", 1, std::int64_t{1} << 62)}};
  }
  if (source == "npy") {
    check_keys(raw, {"source", "tensors"});
    const std::vector<std::string> tensors = string_list(raw, "tensors");
    if (tensors.empty()) throw Error("source npy needs 'tensors: [file.npy, ...]'");
    return {{"source", source}, {"tensors", tensors}};
  }
  throw Error("unknown source '" + source + "' (valid: synthetic, npy)");
}

std::unique_ptr<AccuracySource> make_accuracy_source(const nlohmann::json& description,
                                                     const std::string& base_dir) {
  if (description.at("source") == "synthetic") return std::make_unique<SyntheticSource>(description);
  return std::make_unique<NpySource>(description, base_dir);
}

}  // namespace nibble
