#pragma once
// An LLM's shape, with Hugging Face config.json field names, and its expansion into
// operators (DESIGN.md, "Workloads"). Nothing here knows about hardware or formats.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace nibble {

struct ModelConfig {
  std::string name;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;   // per expert for MoE models
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;  // GQA; = num_attention_heads for MHA
  std::int64_t head_dim = 0;             // hidden_size / num_attention_heads when not given
  std::int64_t vocab_size = 0;
  bool tie_word_embeddings = false;
  std::int64_t num_local_experts = 0;    // 0: a dense MLP
  std::int64_t num_experts_per_tok = 0;

  bool moe() const { return num_local_experts > 0; }
  // Weights of the linear layers, the embedding and lm_head (once when tied), and the norms.
  std::int64_t parameters() const;
};

// A model from HF config.json fields. `strict` (nibble's YAML): unknown keys are errors;
// otherwise (a real config.json) keys nibble does not model are ignored. Missing required
// fields, non-integers and inconsistent heads (not a multiple of the KV heads) are errors
// naming `source`.
ModelConfig model_from_json(const nlohmann::json& fields, const std::string& name,
                            const std::string& source, bool strict);

// A zoo name (workloads/models/<name>.yaml), a .yaml file or a config.json.
ModelConfig load_model(const std::string& name_or_path);
// The zoo's model names, sorted.
std::vector<std::string> zoo_models();

enum class Role { kActivation, kWeight, kKvCache };
const char* role_name(Role role);  // "a", "w", "kv"

// One GEMM C[M, N] = A[M, K] B[N, K]^T with the roles of its operands, run `repeat` times
// (layers x experts or layers x batch x KV heads), or vector work of `elements` element
// operations (m = n = k = 0).
struct Operator {
  std::string name;
  std::int64_t m = 0, n = 0, k = 0;
  Role a_role = Role::kActivation, b_role = Role::kWeight;
  std::int64_t repeat = 1;
  std::int64_t elements = 0;
  bool is_gemm() const { return elements == 0; }
};

// The operators of one forward step over `batch` sequences that each bring `new_tokens`
// tokens and attend to `kv_len` cached tokens (their own included):
//  - per layer: q, k, v (GQA widths), o; gate, up, down (MoE: a router, then every active
//    expert at the expected tokens per expert); attention scores Q K^T and context P V per
//    sequence and KV-head group (the group's query heads share the cache: M = new_tokens x
//    heads per KV head), over the whole kv_len (no causal skipping);
//  - lm_head for `logit_tokens` tokens per sequence;
//  - vector work (element operations): two RMSNorms and two residual adds of hidden_size,
//    RoPE on q and k, a softmax element per score, SiLU x up of intermediate_size per active
//    expert; a final RMSNorm.
// MoE routing is uniform: with T tokens and top-k of E experts, E (1 - (1 - k/E)^T) experts are
// active on average, each with T k / active tokens (rounded up).
std::vector<Operator> step_operators(const ModelConfig& model, std::int64_t batch, std::int64_t new_tokens,
                                     std::int64_t kv_len, std::int64_t logit_tokens);

// Every weight matrix of the model (rows N x cols K, count): what the weights occupy.
struct WeightTensor {
  std::string name;
  std::int64_t rows = 0, cols = 0, count = 1;
};
std::vector<WeightTensor> weight_tensors(const ModelConfig& model);

}  // namespace nibble
