// The model zoo and its operators against closed forms written out from the published shapes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "expect_error.h"
#include "nibble/models/error.h"
#include "nibble/workloads/model.h"
#include "nibble/workloads/workload.h"

namespace nibble {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("nibble_model_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

std::int64_t gemm_macs(const std::vector<Operator>& ops) {
  std::int64_t macs = 0;
  for (const Operator& op : ops) macs += op.m * op.n * op.k * op.repeat;
  return macs;
}

TEST(ModelZoo, PublishedParameterCounts) {
  // Rounded figures from the model cards.
  const std::pair<const char*, double> published[] = {
      {"llama-2-7b", 6.74e9}, {"llama-2-13b", 13.0e9}, {"llama-2-70b", 69.0e9}, {"llama-3-8b", 8.03e9},
      {"llama-3-70b", 70.6e9}, {"mistral-7b", 7.24e9}, {"mixtral-8x7b", 46.7e9}, {"qwen2.5-7b", 7.62e9}};
  ASSERT_EQ(zoo_models().size(), std::size(published));
  for (const auto& [name, params] : published) {
    EXPECT_NEAR(static_cast<double>(load_model(name).parameters()), params, params * 0.005) << name;
  }
  EXPECT_EQ(load_model("llama-2-7b").parameters(), 6738415616);  // the exact count of the HF checkpoint
}

TEST(ModelZoo, PrefillMacsEqualTheClosedForm) {
  const std::int64_t batch = 2, prompt = 64, tokens = batch * prompt;
  for (const std::string& name : zoo_models()) {
    const ModelConfig m = load_model(name);
    const std::int64_t h = m.hidden_size, hd = m.head_dim, q = m.num_attention_heads * hd,
                       kv = m.num_key_value_heads * hd, i = m.intermediate_size;
    // Linear layers: the weights a token passes through (top-k experts and the router for MoE).
    const std::int64_t experts = m.moe() ? m.num_experts_per_tok : 1;
    const std::int64_t per_token = h * q + 2 * h * kv + q * h + experts * 3 * h * i +
                                   (m.moe() ? h * m.num_local_experts : 0);
    // Attention: Q K^T and P V, prompt x prompt per head and sequence; lm_head on each last token.
    const std::int64_t attention = 2 * m.num_attention_heads * batch * prompt * prompt * hd;
    const std::int64_t expected = m.num_hidden_layers * (per_token * tokens + attention) + batch * m.vocab_size * h;
    EXPECT_EQ(gemm_macs(step_operators(m, batch, prompt, prompt, 1)), expected) << name;
  }
}

TEST(ModelZoo, DecodeAttentionReadsTheGroupedCache) {
  const ModelConfig m = load_model("llama-3-8b");  // 32 query heads over 8 KV heads
  for (const Operator& op : step_operators(m, 4, 1, 1000, 1)) {
    if (op.name == "attn_scores") {
      EXPECT_EQ(op.m, 4);     // the group's 4 query heads share one K cache
      EXPECT_EQ(op.n, 1000);
      EXPECT_EQ(op.k, 128);
      EXPECT_EQ(op.repeat, 32 * 4 * 8);
      EXPECT_EQ(op.b_role, Role::kKvCache);
    }
    if (op.name == "k_proj") EXPECT_EQ(op.n, 8 * 128);
  }
}

TEST(ModelZoo, MixtureOfExpertsRoutesToTheExpectedExperts) {
  const ModelConfig m = load_model("mixtral-8x7b");
  // One token: its 2 experts; many tokens: all 8 experts share 2 x tokens.
  for (const auto& [tokens, active, per_expert] : {std::tuple{1, 2, 1}, std::tuple{512, 8, 128}}) {
    for (const Operator& op : step_operators(m, 1, tokens, tokens, 1)) {
      if (op.name != "gate_proj") continue;
      EXPECT_EQ(op.repeat, 32 * active) << tokens;
      EXPECT_EQ(op.m, per_expert) << tokens;
    }
  }
}

TEST(ModelZoo, ConfigJsonGivesTheSameOperatorsAsTheYaml) {
  const std::string config = write("config.json", R"({
    "architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "vocab_size": 128256, "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16"})");
  const ModelConfig json = load_model(config), zoo = load_model("llama-3-8b");
  EXPECT_EQ(json.parameters(), zoo.parameters());
  const auto a = step_operators(json, 3, 17, 40, 1), b = step_operators(zoo, 3, 17, 40, 1);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(std::tie(a[i].m, a[i].n, a[i].k, a[i].repeat, a[i].elements),
              std::tie(b[i].m, b[i].n, b[i].k, b[i].repeat, b[i].elements)) << a[i].name;
  }
}

TEST(ModelZoo, BadModelsAreErrors) {
  expect_error([] { load_model("llama-9"); }, {"unknown model 'llama-9'", "llama-2-7b"});
  expect_error([&] { load_model(write("a.yaml", "hidden_size: 64\n")); }, {"missing 'intermediate_size'"});
  expect_error([&] { load_model(write("b.yaml", "hidden_size: 64\nhiden: 3\n")); }, {"unknown key 'hiden'"});
  expect_error([&] {
    load_model(write("c.yaml", "hidden_size: 64\nintermediate_size: 128\nnum_hidden_layers: 2\n"
                               "num_attention_heads: 6\nnum_key_value_heads: 4\nvocab_size: 10\n"));
  }, {"not a multiple of num_key_value_heads"});
  expect_error([&] { load_model(write("d.json", "{\"hidden_size\": -4}")); }, {"'hidden_size' = -4 is outside"});
  expect_error([&] { load_model(write("e.json", "{\"hidden_size\": 4.5}")); }, {"must be an integer"});
}

TEST(Workload, RequestSumsEveryDecodeStep) {
  WorkloadSpec spec;
  spec.model = "llama-2-7b";
  spec.phase = "request";
  spec.prompt = 100;
  spec.generated = 9;  // exact: 8 decode steps at contexts 101..108
  const ExpandedWorkload exact = expand_workload(spec);
  ASSERT_EQ(exact.steps.size(), 9u);
  EXPECT_EQ(exact.steps[1].context, 101);
  EXPECT_EQ(exact.steps.back().context, 108);
  // Sampled: the weights add up to the decode steps and the context-weighted sum is exact.
  spec.generated = 301;
  const ExpandedWorkload sampled = expand_workload(spec);
  double steps = 0, contexts = 0;
  for (const WorkloadStep& s : sampled.steps) {
    if (s.phase != "decode") continue;
    steps += s.weight;
    contexts += s.weight * static_cast<double>(s.context);
  }
  EXPECT_DOUBLE_EQ(steps, 300);
  EXPECT_NEAR(contexts, 300 * 100 + 300 * 301 / 2.0, 1e-6);  // sum of prompt + i, i = 1..300
  EXPECT_EQ(sampled.decode_tokens, 300);
}

TEST(Workload, KeysAreValidated) {
  WorkloadSpec spec;
  expect_error([&] { set_workload_key(spec, "phase", "training"); }, {"not one of prefill, decode, request"});
  expect_error([&] { set_workload_key(spec, "batch", 0); }, {"'batch'", "[1, 65536]"});
  expect_error([&] { set_workload_key(spec, "prompt", 1.5); }, {"'prompt'"});
  expect_error([&] { set_workload_key(spec, "tokens", 3); }, {"unknown workload key 'tokens'"});
  set_workload_key(spec, "context", 4096);
  EXPECT_EQ(workload_from_json(workload_to_json(spec)).context, 4096);
}

}  // namespace
}  // namespace nibble
