#pragma once
// A workload: a model and a phase, with every key a sweep can set.
//  - prefill: `batch` prompts of `prompt` tokens; lm_head for each prompt's last token.
//  - decode: one step of `batch` sequences that attend to `context` tokens.
//  - request: the prefill, which yields the first of `generated` tokens, then one decode step
//    per further token, step i (1..generated-1) attending to prompt + i tokens. Decode steps
//    differ only in their attention operators, which grow linearly with the context: up to
//    kExactDecodeSteps steps are evaluated one by one, more are sampled at kExactDecodeSteps
//    evenly spaced contexts and summed by the trapezoid rule.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "nibble/workloads/model.h"

namespace nibble {

constexpr std::int64_t kExactDecodeSteps = 16;

struct WorkloadSpec {
  std::string model = "llama-2-7b";  // zoo name or a .yaml / config.json path
  std::string phase = "decode";      // prefill | decode | request
  std::int64_t batch = 1;
  std::int64_t prompt = 2048;
  std::int64_t context = 2048;
  std::int64_t generated = 256;
};

// The workload keys (model, phase, batch, prompt, context, generated).
const std::vector<std::string>& workload_keys();
// Sets one key; throws nibble::Error naming it and its valid values.
void set_workload_key(WorkloadSpec& spec, const std::string& key, const nlohmann::json& value);
nlohmann::json workload_to_json(const WorkloadSpec& spec);
WorkloadSpec workload_from_json(const nlohmann::json& json);

// One forward step and how often it runs: phases expand into these.
struct WorkloadStep {
  std::string phase;              // "prefill" or "decode"
  std::int64_t context = 0;       // tokens attended to
  double weight = 1;              // steps it stands for
  std::vector<Operator> operators;
};

struct ExpandedWorkload {
  ModelConfig model;
  WorkloadSpec spec;
  std::vector<WorkloadStep> steps;
  // Tokens per phase: prefill processes batch x prompt; decode produces batch per step.
  std::int64_t prefill_tokens = 0, decode_tokens = 0;
};

ExpandedWorkload expand_workload(const WorkloadSpec& spec);
ExpandedWorkload expand_workload(const WorkloadSpec& spec, const ModelConfig& model);

}  // namespace nibble
