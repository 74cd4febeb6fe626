#include "nibble/workloads/model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "nibble/models/error.h"
#include "nibble/workloads/yaml_file.h"

namespace nibble {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxDimension = std::int64_t{1} << 24;  // any published model is far below

std::string zoo_dir() { return NIBBLE_SOURCE_DIR "/workloads/models"; }

// A YAML map of scalars as JSON: integers, booleans, strings. Duplicate keys are errors.
json yaml_fields(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  if (!root.IsMap()) throw Error(path + ": expected a map of config.json fields");
  json out = json::object();
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    const auto line = std::to_string(item.first.Mark().line + 1);
    if (out.contains(key)) throw Error(path + ":" + line + ": duplicate key '" + key + "'");
    if (!item.second.IsScalar()) throw Error(path + ":" + line + ": '" + key + "' must be a value");
    const std::string text = item.second.Scalar();
    if (text == "true" || text == "false") {
      out[key] = text == "true";
      continue;
    }
    try {
      size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used == text.size()) {
        out[key] = static_cast<std::int64_t>(v);
        continue;
      }
    } catch (const std::exception&) {
    }
    out[key] = text;
  }
  return out;
}

}  // namespace

std::int64_t ModelConfig::parameters() const {
  const std::int64_t h = hidden_size, q = num_attention_heads * head_dim, kv = num_key_value_heads * head_dim;
  const std::int64_t attention = h * q + 2 * h * kv + q * h;
  const std::int64_t mlp = moe() ? num_local_experts * 3 * h * intermediate_size + h * num_local_experts
                                 : 3 * h * intermediate_size;
  const std::int64_t layer = attention + mlp + 2 * h;
  return num_hidden_layers * layer + vocab_size * h * (tie_word_embeddings ? 1 : 2) + h;
}

ModelConfig model_from_json(const json& fields, const std::string& name, const std::string& source,
                            bool strict) {
  if (!fields.is_object()) throw Error(source + ": expected an object of config.json fields");
  static const std::set<std::string> known = {
      "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
      "num_key_value_heads", "head_dim", "vocab_size", "tie_word_embeddings",
      "num_local_experts", "num_experts_per_tok"};
  if (strict) {
    for (const auto& [key, value] : fields.items()) {
      if (!known.count(key)) {
        std::string valid;
        for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
        throw Error(source + ": unknown key '" + key + "' (valid: " + valid + ")");
      }
    }
  }
  const auto integer = [&](const char* key, bool required, std::int64_t fallback, std::int64_t lo) {
    if (!fields.contains(key) || fields[key].is_null()) {
      if (required) throw Error(source + ": missing '" + key + "'");
      return fallback;
    }
    const json& v = fields[key];
    if (!v.is_number_integer()) throw Error(source + ": '" + key + "' must be an integer, not " + v.dump());
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > kMaxDimension) {
      throw Error(source + ": '" + key + "' = " + std::to_string(x) + " is outside [" + std::to_string(lo) +
                  ", " + std::to_string(kMaxDimension) + "]");
    }
    return x;
  };
  ModelConfig m;
  m.name = name;
  m.hidden_size = integer("hidden_size", true, 0, 1);
  m.intermediate_size = integer("intermediate_size", true, 0, 1);
  m.num_hidden_layers = integer("num_hidden_layers", true, 0, 1);
  m.num_attention_heads = integer("num_attention_heads", true, 0, 1);
  m.num_key_value_heads = integer("num_key_value_heads", false, m.num_attention_heads, 1);
  m.vocab_size = integer("vocab_size", true, 0, 1);
  if (m.num_attention_heads % m.num_key_value_heads) {
    throw Error(source + ": num_attention_heads (" + std::to_string(m.num_attention_heads) +
                ") is not a multiple of num_key_value_heads (" + std::to_string(m.num_key_value_heads) + ")");
  }
  if (!fields.contains("head_dim") && m.hidden_size % m.num_attention_heads) {
    throw Error(source + ": hidden_size is not a multiple of num_attention_heads; give head_dim");
  }
  m.head_dim = integer("head_dim", false, m.hidden_size / m.num_attention_heads, 1);
  if (fields.contains("tie_word_embeddings")) {
    if (!fields["tie_word_embeddings"].is_boolean()) throw Error(source + ": 'tie_word_embeddings' must be true or false");
    m.tie_word_embeddings = fields["tie_word_embeddings"].get<bool>();
  }
  m.num_local_experts = integer("num_local_experts", false, 0, 0);
  m.num_experts_per_tok = integer("num_experts_per_tok", false, m.num_local_experts ? 2 : 0, 0);
  if (m.num_local_experts == 1) m.num_local_experts = 0;  // one expert is a dense MLP
  if (m.moe() && (m.num_experts_per_tok < 1 || m.num_experts_per_tok > m.num_local_experts)) {
    throw Error(source + ": num_experts_per_tok must be in [1, num_local_experts]");
  }
  if (!m.moe()) m.num_experts_per_tok = 0;
  return m;
}

ModelConfig load_model(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  const fs::path zoo = fs::path(zoo_dir()) / (name_or_path + ".yaml");
  if (name_or_path.find('/') == std::string::npos && fs::exists(zoo)) {
    return model_from_json(yaml_fields(zoo.string()), name_or_path, zoo.string(), /*strict=*/true);
  }
  const fs::path path(name_or_path);
  if (path.extension() == ".json") {
    std::ifstream in(path);
    if (!in) throw Error(name_or_path + ": cannot open file");
    json fields;
    try {
      fields = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(name_or_path + ": malformed JSON (" + std::string(e.what()) + ")");
    }
    // A multimodal or nested config keeps the language model's fields under text_config.
    if (fields.contains("text_config") && !fields.contains("hidden_size")) fields = fields["text_config"];
    return model_from_json(fields, path.parent_path().filename().string().empty() ? path.stem().string()
                                                                                   : path.parent_path().filename().string(),
                           name_or_path, /*strict=*/false);
  }
  if (path.extension() == ".yaml" || path.extension() == ".yml") {
    return model_from_json(yaml_fields(name_or_path), path.stem().string(), name_or_path, /*strict=*/true);
  }
  std::string known;
  for (const auto& m : zoo_models()) known += (known.empty() ? "" : ", ") + m;
  throw Error("unknown model '" + name_or_path + "' (zoo: " + known + "; or a .yaml or config.json path)");
}

std::vector<std::string> zoo_models() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(zoo_dir())) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kActivation: return "a";
    case Role::kWeight: return "w";
    case Role::kKvCache: return "kv";
  }
  return "?";
}

std::vector<Operator> step_operators(const ModelConfig& model, std::int64_t batch, std::int64_t new_tokens,
                                     std::int64_t kv_len, std::int64_t logit_tokens) {
  const std::int64_t tokens = batch * new_tokens, layers = model.num_hidden_layers;
  const std::int64_t h = model.hidden_size, hd = model.head_dim;
  const std::int64_t heads = model.num_attention_heads, kv_heads = model.num_key_value_heads;
  const std::int64_t group = heads / kv_heads;
  using R = Role;
  std::vector<Operator> ops = {
      {"q_proj", tokens, heads * hd, h, R::kActivation, R::kWeight, layers},
      {"k_proj", tokens, kv_heads * hd, h, R::kActivation, R::kWeight, layers},
      {"v_proj", tokens, kv_heads * hd, h, R::kActivation, R::kWeight, layers},
      {"attn_scores", new_tokens * group, kv_len, hd, R::kActivation, R::kKvCache, layers * batch * kv_heads},
      {"attn_context", new_tokens * group, hd, kv_len, R::kActivation, R::kKvCache, layers * batch * kv_heads},
      {"o_proj", tokens, h, heads * hd, R::kActivation, R::kWeight, layers},
  };
  std::int64_t active_experts = 1, expert_tokens = tokens;
  if (model.moe()) {
    const double e = static_cast<double>(model.num_local_experts), k = static_cast<double>(model.num_experts_per_tok);
    active_experts = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::ceil(e * (1 - std::pow(1 - k / e, static_cast<double>(tokens))) - 1e-9)),
        1, model.num_local_experts);
    expert_tokens = (tokens * model.num_experts_per_tok + active_experts - 1) / active_experts;
    ops.push_back({"router", tokens, model.num_local_experts, h, R::kActivation, R::kWeight, layers});
  }
  const std::int64_t i = model.intermediate_size, expert_repeat = layers * active_experts;
  ops.push_back({"gate_proj", expert_tokens, i, h, R::kActivation, R::kWeight, expert_repeat});
  ops.push_back({"up_proj", expert_tokens, i, h, R::kActivation, R::kWeight, expert_repeat});
  ops.push_back({"down_proj", expert_tokens, h, i, R::kActivation, R::kWeight, expert_repeat});
  ops.push_back({"lm_head", batch * logit_tokens, model.vocab_size, h, R::kActivation, R::kWeight, 1});
  const std::int64_t per_layer = tokens * (2 * h + 2 * h + (heads + kv_heads) * hd) +
                                 batch * heads * new_tokens * kv_len +
                                 expert_tokens * active_experts * 2 * i;
  Operator vector{"vector", 0, 0, 0, R::kActivation, R::kActivation, 1, layers * per_layer + tokens * h};
  ops.push_back(vector);
  return ops;
}

std::vector<WeightTensor> weight_tensors(const ModelConfig& model) {
  const std::int64_t h = model.hidden_size, hd = model.head_dim, layers = model.num_hidden_layers;
  const std::int64_t experts = model.moe() ? model.num_local_experts : 1;
  std::vector<WeightTensor> w = {
      {"q_proj", model.num_attention_heads * hd, h, layers},
      {"k_proj", model.num_key_value_heads * hd, h, layers},
      {"v_proj", model.num_key_value_heads * hd, h, layers},
      {"o_proj", h, model.num_attention_heads * hd, layers},
      {"gate_proj", model.intermediate_size, h, layers * experts},
      {"up_proj", model.intermediate_size, h, layers * experts},
      {"down_proj", h, model.intermediate_size, layers * experts},
      {"embed_tokens", model.vocab_size, h, 1},
  };
  if (model.moe()) w.push_back({"router", model.num_local_experts, h, layers});
  if (!model.tie_word_embeddings) w.push_back({"lm_head", model.vocab_size, h, 1});
  return w;
}

}  // namespace nibble
